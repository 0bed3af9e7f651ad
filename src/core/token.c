/* SPDX-License-Identifier: Apache-2.0 */
/* token: generation and format checks of webhook tokens, public ids, app ids and appkeys. */
#include "core/token.h"

#include "lib/encoding.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#define TOKEN_RANDOM_BYTES 20 /* 160 bits; 62^27 > 2^160 */
#define TOKEN_CHECK_BYTES 4   /* 62^6 > 2^32 */

#define PUBLIC_ID_PREFIX "tk_"
#define APP_ID_PREFIX "app_"
#define APPKEY_PREFIX "hga_"
#define ID_CHARS 16
#define APPKEY_CHARS 32
/* 62^16 is just under 2^95.3, so 16 characters hold 95 random bits, not 96; the top bit of the
 * 12 random bytes is cleared. Likewise 62^32 is about 2^190.5: 190 bits from 24 bytes. */
#define ID_BYTES 12
#define ID_TOP_MASK 0x7f
#define APPKEY_BYTES 24
#define APPKEY_TOP_MASK 0x3f

_Static_assert(TOKEN_PUBLIC_ID_LEN == sizeof(PUBLIC_ID_PREFIX) - 1 + ID_CHARS, "public id length");
_Static_assert(TOKEN_APP_ID_LEN == sizeof(APP_ID_PREFIX) - 1 + ID_CHARS, "app id length");
_Static_assert(TOKEN_APPKEY_LEN == sizeof(APPKEY_PREFIX) - 1 + APPKEY_CHARS, "appkey length");

static bool all_base62(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (!base62_char((unsigned char)text[i]))
			return false;
	}
	return true;
}

/* The checksum covers the prefix too, so "hgt_" cannot be swapped for another prefix. */
static void token_checksum(const char *head, char out[TOKEN_CHECK_CHARS + 1])
{
	unsigned char digest[CRYPTO_HASH_LEN];
	crypto_sha256(head, TOKEN_PREFIX_LEN + TOKEN_RANDOM_CHARS, digest);
	/* Four bytes always fit in six characters, so this cannot fail. */
	(void)base62_encode(digest, TOKEN_CHECK_BYTES, out, TOKEN_CHECK_CHARS);
}

bool token_generate(char out[TOKEN_LEN + 1])
{
	unsigned char raw[TOKEN_RANDOM_BYTES];
	if (!crypto_random(raw, sizeof(raw)))
		return false;
	memcpy(out, TOKEN_PREFIX, TOKEN_PREFIX_LEN);
	bool ok = base62_encode(raw, sizeof(raw), out + TOKEN_PREFIX_LEN, TOKEN_RANDOM_CHARS);
	OPENSSL_cleanse(raw, sizeof(raw));
	if (!ok)
		return false;
	token_checksum(out, out + TOKEN_PREFIX_LEN + TOKEN_RANDOM_CHARS);
	return true;
}

/* Anything a caller sends ends up here before the database is touched: no assumption about
 * NUL termination or character set, and nothing more than one SHA-256 of 31 bytes. */
bool token_check_format(const char *text, size_t len)
{
	return text != NULL && len == TOKEN_LEN &&
	       memcmp(text, TOKEN_PREFIX, TOKEN_PREFIX_LEN) == 0 &&
	       token_check_body(text + TOKEN_PREFIX_LEN);
}

bool token_check_body(const char *body)
{
	char head[TOKEN_PREFIX_LEN + TOKEN_RANDOM_CHARS], check[TOKEN_CHECK_CHARS + 1];
	if (!all_base62(body, TOKEN_RANDOM_CHARS + TOKEN_CHECK_CHARS))
		return false;
	memcpy(head, TOKEN_PREFIX, TOKEN_PREFIX_LEN);
	memcpy(head + TOKEN_PREFIX_LEN, body, TOKEN_RANDOM_CHARS);
	token_checksum(head, check);
	return CRYPTO_memcmp(check, body + TOKEN_RANDOM_CHARS, TOKEN_CHECK_CHARS) == 0;
}

void token_hash(const struct crypto_keys *keys, const char *token,
		unsigned char out[CRYPTO_HASH_LEN])
{
	crypto_lookup_hash(keys, "token", token, strnlen(token, TOKEN_LEN), out);
}

/* prefix + chars base62 characters from nbytes random bytes, the top byte masked so that the
 * number always fits. */
static bool random_id(char *out, const char *prefix, size_t chars, size_t nbytes,
		      unsigned char top_mask)
{
	unsigned char raw[APPKEY_BYTES];
	size_t plen = strlen(prefix);
	if (nbytes > sizeof(raw) || !crypto_random(raw, nbytes))
		return false;
	raw[0] &= top_mask;
	memcpy(out, prefix, plen);
	bool ok = base62_encode(raw, nbytes, out + plen, chars);
	OPENSSL_cleanse(raw, sizeof(raw));
	return ok;
}

bool token_public_id_generate(char out[TOKEN_PUBLIC_ID_LEN + 1])
{
	return random_id(out, PUBLIC_ID_PREFIX, ID_CHARS, ID_BYTES, ID_TOP_MASK);
}

/* prefix and ID_CHARS base62 characters, nothing after them; case matters. */
static bool id_valid(const char *text, const char *prefix)
{
	size_t plen = strlen(prefix);
	return text != NULL && strnlen(text, plen + ID_CHARS + 1) == plen + ID_CHARS &&
	       memcmp(text, prefix, plen) == 0 && all_base62(text + plen, ID_CHARS);
}

bool token_public_id_valid(const char *text)
{
	return id_valid(text, PUBLIC_ID_PREFIX);
}

bool token_app_id_generate(char out[TOKEN_APP_ID_LEN + 1])
{
	return random_id(out, APP_ID_PREFIX, ID_CHARS, ID_BYTES, ID_TOP_MASK);
}

bool token_app_id_valid(const char *text)
{
	return id_valid(text, APP_ID_PREFIX);
}

bool token_appkey_generate(char out[TOKEN_APPKEY_LEN + 1])
{
	return random_id(out, APPKEY_PREFIX, APPKEY_CHARS, APPKEY_BYTES, APPKEY_TOP_MASK);
}

static bool token_store(const struct crypto_keys *keys, const char *purpose, const char *id,
			const char *secret, size_t len, struct token_stored *out)
{
	unsigned char hash[CRYPTO_HASH_LEN], sealed[TOKEN_SEALED_MAX];
	size_t sealed_len = crypto_seal_len(len);
	char aad[16 + TOKEN_PUBLIC_ID_LEN + TOKEN_APP_ID_LEN];

	if (sealed_len > sizeof(sealed))
		return false;
	snprintf(aad, sizeof(aad), "%s:%s", purpose, id);
	crypto_lookup_hash(keys, purpose, secret, len, hash);
	if (!crypto_seal(keys, aad, secret, len, sealed, sealed_len))
		return false;
	hex_encode_bytea(hash, sizeof(hash), out->hash_text);
	hex_encode_bytea(sealed, sealed_len, out->sealed_text);
	return true;
}

/* The look-up hash has purpose "token", as token_hash computes it for a call's token. */
bool token_new_make(const struct crypto_keys *keys, struct token_new *out)
{
	return token_generate(out->secret) && token_public_id_generate(out->public_id) &&
	       token_store(keys, "token", out->public_id, out->secret, TOKEN_LEN, &out->stored);
}

bool token_new_secret(const struct crypto_keys *keys, const char *public_id, struct token_new *out)
{
	snprintf(out->public_id, sizeof(out->public_id), "%s", public_id);
	return token_generate(out->secret) &&
	       token_store(keys, "token", out->public_id, out->secret, TOKEN_LEN, &out->stored);
}

bool token_app_new_make(const struct crypto_keys *keys, struct token_app_new *out)
{
	return token_app_id_generate(out->app_id) && token_appkey_generate(out->appkey) &&
	       token_store(keys, "appkey", out->app_id, out->appkey, TOKEN_APPKEY_LEN,
			   &out->stored);
}
