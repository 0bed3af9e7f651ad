/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of core/token.c: token format and checksum, public ids, app ids and appkeys. */
#include "suites.h"

#include "core/crypto.h"
#include "lib/encoding.h"
#include "core/token.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Checksum computed by an independent Python implementation of the token format of
 * docs/api-webhooks.md ("Tokens"). */
#define KNOWN_TOKEN "hgt_Hookgate0123456789abcdefXYZ2eun9i"

static bool all_base62(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (strchr("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
			   s[i]) == NULL ||
		    s[i] == '\0')
			return false;
	}
	return true;
}

START_TEST(test_token_known)
{
	ck_assert_uint_eq(TOKEN_LEN, 37);
	ck_assert_uint_eq(strlen(KNOWN_TOKEN), TOKEN_LEN);
	ck_assert(token_check_format(KNOWN_TOKEN, TOKEN_LEN));
	ck_assert(!token_check_format("hgt_Hookgate0123456789abcdefXYZ2eun9j", TOKEN_LEN));
	ck_assert(!token_check_format("hgt_hookgate0123456789abcdefXYZ2eun9i", TOKEN_LEN));
}
END_TEST

/* The part after the prefix alone: what the log redaction recognises. */
START_TEST(test_token_body)
{
	char tok[TOKEN_LEN + 1];
	ck_assert(token_check_body(KNOWN_TOKEN + TOKEN_PREFIX_LEN));
	ck_assert(!token_check_body("Hookgate0123456789abcdefXYZ2eun9j"));
	ck_assert(!token_check_body("Hookgate0123456789abcdef-YZ2eun9i"));
	ck_assert(!token_check_body("Hookgate0123456789abcdefXYZ2eun9\0"));
	ck_assert(token_generate(tok));
	ck_assert(token_check_body(tok + TOKEN_PREFIX_LEN));
}
END_TEST

START_TEST(test_token_generate)
{
	char tok[TOKEN_LEN + 1];
	for (int i = 0; i < 200; i++) {
		memset(tok, 'x', sizeof(tok));
		ck_assert(token_generate(tok));
		ck_assert_uint_eq(strlen(tok), TOKEN_LEN);
		ck_assert(strncmp(tok, "hgt_", 4) == 0);
		ck_assert(all_base62(tok + 4, TOKEN_LEN - 4));
		ck_assert_msg(token_check_format(tok, strlen(tok)), "rejected %s", tok);
	}
}
END_TEST

static int cmp_token(const void *a, const void *b)
{
	return memcmp(a, b, TOKEN_LEN + 1);
}

START_TEST(test_token_distinct)
{
	enum { N = 2000 };
	char(*toks)[TOKEN_LEN + 1] = calloc(N, TOKEN_LEN + 1);
	ck_assert_ptr_nonnull(toks);
	for (int i = 0; i < N; i++)
		ck_assert(token_generate(toks[i]));
	qsort(toks, N, TOKEN_LEN + 1, cmp_token);
	for (int i = 1; i < N; i++)
		ck_assert_str_ne(toks[i - 1], toks[i]);
	/* 160 random bits: the random parts, not only the checksums, differ; and every
	 * character position varies */
	for (int pos = TOKEN_PREFIX_LEN; pos < TOKEN_LEN; pos++) {
		bool varies = false;
		for (int i = 1; i < N && !varies; i++)
			varies = toks[i][pos] != toks[0][pos];
		ck_assert_msg(varies, "position %d is constant", pos);
	}
	free(toks);
}
END_TEST

/* A typo anywhere, including one that leaves the alphabet, is refused. */
START_TEST(test_token_single_char_changes)
{
	char tok[TOKEN_LEN + 1];
	ck_assert(token_generate(tok));
	for (size_t pos = 0; pos < TOKEN_LEN; pos++) {
		char orig = tok[pos];
		for (int c = 0; c < 256; c++) {
			if ((char)c == orig)
				continue;
			tok[pos] = (char)c;
			ck_assert_msg(!token_check_format(tok, TOKEN_LEN),
				      "accepted change at %zu to %d", pos, c);
		}
		tok[pos] = orig;
	}
	ck_assert(token_check_format(tok, TOKEN_LEN));
}
END_TEST

START_TEST(test_token_wrong_length)
{
	char buf[2 * TOKEN_LEN + 2];
	ck_assert(!token_check_format(NULL, 0));
	ck_assert(!token_check_format(NULL, TOKEN_LEN));
	ck_assert(!token_check_format("", 0));
	ck_assert(!token_check_format(KNOWN_TOKEN, TOKEN_LEN - 1));
	/* extra characters after a valid token, NUL or not */
	memset(buf, 0, sizeof(buf));
	memcpy(buf, KNOWN_TOKEN, TOKEN_LEN);
	ck_assert(!token_check_format(buf, TOKEN_LEN + 1));
	buf[TOKEN_LEN] = 'a';
	ck_assert(!token_check_format(buf, TOKEN_LEN + 1));
	memcpy(buf + TOKEN_LEN, KNOWN_TOKEN, TOKEN_LEN);
	ck_assert(!token_check_format(buf, 2 * TOKEN_LEN));
	ck_assert(!token_check_format(KNOWN_TOKEN + 1, TOKEN_LEN - 1));
	ck_assert(!token_check_format("hgt_", 4));
}
END_TEST

START_TEST(test_token_wrong_prefix)
{
	const char *bad[] = {
		"HGT_Hookgate0123456789abcdefXYZ2eun9i",
		"hgs_Hookgate0123456789abcdefXYZ2eun9i",
		"hgtHHookgate0123456789abcdefXYZ2eun9i",
		"xhgt_ookgate0123456789abcdefXYZ2eun9i",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!token_check_format(bad[i], strlen(bad[i])), "accepted %s", bad[i]);
}
END_TEST

START_TEST(test_token_hash)
{
	struct crypto_keys keys;
	unsigned char h1[CRYPTO_HASH_LEN], h2[CRYPTO_HASH_LEN];
	memset(&keys, 0x42, sizeof(keys));
	token_hash(&keys, KNOWN_TOKEN, h1);
	crypto_lookup_hash(&keys, "token", KNOWN_TOKEN, TOKEN_LEN, h2);
	ck_assert_mem_eq(h1, h2, CRYPTO_HASH_LEN);
	crypto_lookup_hash(&keys, "appkey", KNOWN_TOKEN, TOKEN_LEN, h2);
	ck_assert(memcmp(h1, h2, CRYPTO_HASH_LEN) != 0);
	token_hash(&keys, "hgt_Hookgate0123456789abcdefXYZ2eun9j", h2);
	ck_assert(memcmp(h1, h2, CRYPTO_HASH_LEN) != 0);
	keys.hash_key[0] ^= 1;
	token_hash(&keys, KNOWN_TOKEN, h2);
	ck_assert(memcmp(h1, h2, CRYPTO_HASH_LEN) != 0);
}
END_TEST

/* ---- identifiers ------------------------------------------------------------------------- */

/* The byte counts behind the identifiers must always fit their width, whatever the random
 * bytes; the masks are what make the 16-character ids fit. */
START_TEST(test_id_widths)
{
	unsigned char max[24];
	char out[40];
	memset(max, 0xff, sizeof(max));
	ck_assert(base62_encode(max, 20, out, TOKEN_RANDOM_CHARS));
	ck_assert(base62_encode(max, 4, out, TOKEN_CHECK_CHARS));
	ck_assert(!base62_encode(max, 12, out, 16));
	max[0] = 0x7f;
	ck_assert(base62_encode(max, 12, out, 16));
	max[0] = 0xff;
	ck_assert(!base62_encode(max, 24, out, 32));
	max[0] = 0x3f;
	ck_assert(base62_encode(max, 24, out, 32));
}
END_TEST

START_TEST(test_public_id)
{
	char id[TOKEN_PUBLIC_ID_LEN + 1], prev[TOKEN_PUBLIC_ID_LEN + 1] = "";
	for (int i = 0; i < 200; i++) {
		ck_assert(token_public_id_generate(id));
		ck_assert_uint_eq(strlen(id), TOKEN_PUBLIC_ID_LEN);
		ck_assert(strncmp(id, "tk_", 3) == 0);
		ck_assert(all_base62(id + 3, TOKEN_PUBLIC_ID_LEN - 3));
		ck_assert_msg(token_public_id_valid(id), "rejected %s", id);
		ck_assert_str_ne(id, prev);
		memcpy(prev, id, sizeof(id));
	}
}
END_TEST

START_TEST(test_public_id_invalid)
{
	const char *bad[] = {
		"",
		"tk_",
		"tk_0123456789abcde",
		"tk_0123456789abcdef0",
		"tk-0123456789abcdef",
		"TK_0123456789abcdef",
		"tk_0123456789abcde-",
		"tk_0123456789abcde\xc3",
		"hgt_0123456789abcdef",
		"tk_0123456789ab def",
	};
	ck_assert(token_public_id_valid("tk_0123456789abcdef"));
	ck_assert(!token_public_id_valid(NULL));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!token_public_id_valid(bad[i]), "accepted %s", bad[i]);
}
END_TEST

START_TEST(test_app_id_and_appkey)
{
	char app[TOKEN_APP_ID_LEN + 1], app2[TOKEN_APP_ID_LEN + 1];
	char key[TOKEN_APPKEY_LEN + 1], key2[TOKEN_APPKEY_LEN + 1];
	ck_assert(token_app_id_generate(app));
	ck_assert(token_app_id_generate(app2));
	ck_assert_uint_eq(strlen(app), TOKEN_APP_ID_LEN);
	ck_assert(strncmp(app, "app_", 4) == 0);
	ck_assert(all_base62(app + 4, TOKEN_APP_ID_LEN - 4));
	ck_assert_str_ne(app, app2);

	ck_assert(token_appkey_generate(key));
	ck_assert(token_appkey_generate(key2));
	ck_assert_uint_eq(strlen(key), TOKEN_APPKEY_LEN);
	ck_assert(strncmp(key, "hga_", 4) == 0);
	ck_assert(all_base62(key + 4, TOKEN_APPKEY_LEN - 4));
	ck_assert_str_ne(key, key2);
	/* an appkey is not a token */
	ck_assert(!token_check_format(key, strlen(key)));
	ck_assert(token_app_id_valid(app));
	ck_assert(!token_app_id_valid(key));
}
END_TEST

START_TEST(test_app_id_invalid)
{
	const char *bad[] = {
		"",
		"app_",
		"app_0123456789abcde",
		"app_0123456789abcdef0",
		"APP_0123456789abcdef",
		"app-0123456789abcdef",
		"app_0123456789abcde_",
		"app_0123456789abcde\xc3",
		"tk_0123456789abcdef",
	};
	ck_assert(token_app_id_valid("app_0123456789abcdef"));
	ck_assert(token_app_id_valid("app_ZZZZZZZZZZZZZZZZ")); /* case is kept, not folded */
	ck_assert(!token_app_id_valid(NULL));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!token_app_id_valid(bad[i]), "accepted %s", bad[i]);
	/* A public id is not an app id, nor the other way round. */
	ck_assert(!token_public_id_valid("app_0123456789abcdef"));
}
END_TEST

/* ---- new tokens and app credentials with their stored forms ----------------------------- */

/* What the database would hold: the bytea text of the look-up hash, and a sealed copy that opens
 * under "<purpose>:<id>" to the secret (and under no other id). */
static void check_stored(const struct crypto_keys *keys, const struct token_stored *st,
			 const char *purpose, const char *id, const char *secret, size_t len)
{
	unsigned char hash[CRYPTO_HASH_LEN], sealed[TOKEN_SEALED_MAX], plain[TOKEN_SEALED_MAX];
	char text[BYTEA_TEXT_MAX(CRYPTO_HASH_LEN)], aad[64];
	size_t slen = (strlen(st->sealed_text) - 2) / 2, plen = 0;

	crypto_lookup_hash(keys, purpose, secret, len, hash);
	hex_encode_bytea(hash, sizeof(hash), text);
	ck_assert_str_eq(st->hash_text, text);
	ck_assert(strncmp(st->sealed_text, "\\x", 2) == 0);
	ck_assert_uint_eq(slen, crypto_seal_len(len));
	ck_assert(hex_decode(st->sealed_text + 2, 2 * slen, sealed, sizeof(sealed)));
	snprintf(aad, sizeof(aad), "%s:%s", purpose, id);
	ck_assert(crypto_open(keys, aad, sealed, slen, plain, sizeof(plain), &plen));
	ck_assert_uint_eq(plen, len);
	ck_assert_mem_eq(plain, secret, len);
	snprintf(aad, sizeof(aad), "%s:%s", purpose, "tk_0000000000000000");
	ck_assert(!crypto_open(keys, aad, sealed, slen, plain, sizeof(plain), &plen));
}

START_TEST(test_token_new)
{
	struct crypto_keys keys;
	struct token_new a, b;
	memset(&keys, 0x42, sizeof(keys));
	ck_assert(token_new_make(&keys, &a));
	ck_assert(token_new_make(&keys, &b));
	ck_assert(token_check_format(a.secret, strlen(a.secret)));
	ck_assert(token_public_id_valid(a.public_id));
	ck_assert_str_ne(a.secret, b.secret);
	ck_assert_str_ne(a.public_id, b.public_id);
	check_stored(&keys, &a.stored, "token", a.public_id, a.secret, TOKEN_LEN);
	/* The stored hash is the one a webhook call's token is looked up by. */
	unsigned char hash[CRYPTO_HASH_LEN];
	char text[BYTEA_TEXT_MAX(CRYPTO_HASH_LEN)];
	token_hash(&keys, a.secret, hash);
	hex_encode_bytea(hash, sizeof(hash), text);
	ck_assert_str_eq(a.stored.hash_text, text);
}
END_TEST

START_TEST(test_app_new)
{
	struct crypto_keys keys;
	struct token_app_new a, b;
	memset(&keys, 0x17, sizeof(keys));
	ck_assert(token_app_new_make(&keys, &a));
	ck_assert(token_app_new_make(&keys, &b));
	ck_assert(token_app_id_valid(a.app_id));
	ck_assert_uint_eq(strlen(a.appkey), TOKEN_APPKEY_LEN);
	ck_assert(strncmp(a.appkey, "hga_", 4) == 0);
	ck_assert_str_ne(a.app_id, b.app_id);
	ck_assert_str_ne(a.appkey, b.appkey);
	check_stored(&keys, &a.stored, "appkey", a.app_id, a.appkey, TOKEN_APPKEY_LEN);
}
END_TEST

Suite *make_suite_token(void)
{
	Suite *s = suite_create("token");
	TCase *tc = tcase_create("token");
	tcase_add_test(tc, test_token_known);
	tcase_add_test(tc, test_token_body);
	tcase_add_test(tc, test_token_generate);
	tcase_add_test(tc, test_token_distinct);
	tcase_add_test(tc, test_token_single_char_changes);
	tcase_add_test(tc, test_token_wrong_length);
	tcase_add_test(tc, test_token_wrong_prefix);
	tcase_add_test(tc, test_token_hash);
	suite_add_tcase(s, tc);

	tc = tcase_create("ids");
	tcase_add_test(tc, test_id_widths);
	tcase_add_test(tc, test_public_id);
	tcase_add_test(tc, test_public_id_invalid);
	tcase_add_test(tc, test_app_id_and_appkey);
	tcase_add_test(tc, test_app_id_invalid);
	tcase_add_test(tc, test_token_new);
	tcase_add_test(tc, test_app_new);
	suite_add_tcase(s, tc);
	return s;
}
