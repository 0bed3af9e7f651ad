/* token: the webhook token format of README "Tokens and the schema" and the other random
 * identifiers we hand out. A token is "hgt_" + 27 base62 chars (160 random bits) + 6 base62 chars
 * of checksum (the first 32 bits of SHA-256 over "hgt_" and the random part), 37 characters in all.
 */
#ifndef HG_TOKEN_H
#define HG_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

#include "core/crypto.h"

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

#endif
