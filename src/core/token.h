/* SPDX-License-Identifier: Apache-2.0 */
/* token: the webhook token format of docs/api-webhooks.md, "Tokens", and the other random
 * identifiers we hand out. A token is "hgt_" + 27 base62 chars (160 random bits) + 6 base62 chars
 * of checksum (the first 32 bits of SHA-256 over "hgt_" and the random part), 37 characters in all.
 */
#ifndef HG_TOKEN_H
#define HG_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

#include "core/crypto.h"
#include "lib/encoding.h"

#define TOKEN_PREFIX "hgt_"
#define TOKEN_PREFIX_LEN 4
#define TOKEN_RANDOM_CHARS 27
#define TOKEN_CHECK_CHARS 6
#define TOKEN_LEN (TOKEN_PREFIX_LEN + TOKEN_RANDOM_CHARS + TOKEN_CHECK_CHARS)

/* Public id: "tk_" + 16 base62 chars (95 random bits, independent of the token; 62^16 < 2^96). */
#define TOKEN_PUBLIC_ID_LEN 19
/* Extension app ids "app_" + 16 base62; appkeys "hga_" + 32 base62 (190 bits). */
#define TOKEN_APP_ID_LEN 20
#define TOKEN_APPKEY_LEN 36
/* Room for a sealed token or appkey (crypto_seal_len of either is less). */
#define TOKEN_SEALED_MAX (TOKEN_LEN + 64)

bool token_generate(char out[TOKEN_LEN + 1]);
/* Format and checksum only (no database): length, prefix, alphabet, checksum. */
bool token_check_format(const char *text, size_t len);
/* The same for the TOKEN_RANDOM_CHARS + TOKEN_CHECK_CHARS characters after the prefix (no NUL
 * needed): whether "hgt_" followed by them is a token. */
bool token_check_body(const char *body);
/* HMAC look-up hash (purpose "token") of a token whose format is valid. */
void token_hash(const struct crypto_keys *keys, const char *token,
		unsigned char out[CRYPTO_HASH_LEN]);

bool token_public_id_generate(char out[TOKEN_PUBLIC_ID_LEN + 1]);
bool token_public_id_valid(const char *text);
bool token_app_id_generate(char out[TOKEN_APP_ID_LEN + 1]);
/* "app_" + 16 base62 characters, as token_app_id_generate makes them; case matters. */
bool token_app_id_valid(const char *text);
bool token_appkey_generate(char out[TOKEN_APPKEY_LEN + 1]);

/* How a secret is stored (README "Tokens and the schema"): its keyed look-up hash and a copy
 * sealed to "<purpose>:<id>" ("token:tk_…", "appkey:app_…"), as bytea parameter text. */
struct token_stored {
	char hash_text[BYTEA_TEXT_MAX(CRYPTO_HASH_LEN)];
	char sealed_text[BYTEA_TEXT_MAX(TOKEN_SEALED_MAX)];
};

/* A new webhook token, its public id and stored forms: what hookgatectl token create and the
 * admin API's token creation insert. Holds the secret: wipe it (OPENSSL_cleanse) when done. */
struct token_new {
	char secret[TOKEN_LEN + 1];
	char public_id[TOKEN_PUBLIC_ID_LEN + 1];
	struct token_stored stored;
};
bool token_new_make(const struct crypto_keys *keys, struct token_new *out);
/* A new secret for the existing token public_id (a rotation): out->public_id is public_id. */
bool token_new_secret(const struct crypto_keys *keys, const char *public_id, struct token_new *out);

/* A new app id and appkey with the appkey's stored forms: one environment of an extension. */
struct token_app_new {
	char app_id[TOKEN_APP_ID_LEN + 1];
	char appkey[TOKEN_APPKEY_LEN + 1];
	struct token_stored stored;
};
bool token_app_new_make(const struct crypto_keys *keys, struct token_app_new *out);

#endif
