/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of admin/totp.c: the RFC 4226 and RFC 6238 vectors, the login's verification
 * window, replay and malformed-code refusals, and the enrollment secret and URI. */
#include "suites.h"

#include "lib/encoding.h"
#include "admin/totp.h"

#include <stdio.h>
#include <string.h>

static const unsigned char seed_sha1[] = "12345678901234567890";
static const unsigned char seed_sha256[] = "12345678901234567890123456789012";
static const unsigned char seed_sha512[] =
	"1234567890123456789012345678901234567890123456789012345678901234";
#define SEED_LEN(s) (sizeof(s) - 1)

/* ---- vectors -------------------------------------------------------------------------------- */

struct rfc6238_row {
	int64_t time;
	enum totp_hash hash;
	const char *code;
};

/* RFC 6238 Appendix B, all 18 rows (8 digits, T0 = 0, X = 30). */
static const struct rfc6238_row rfc6238[] = {
	{ 59, TOTP_HASH_SHA1, "94287082" },
	{ 59, TOTP_HASH_SHA256, "46119246" },
	{ 59, TOTP_HASH_SHA512, "90693936" },
	{ 1111111109, TOTP_HASH_SHA1, "07081804" },
	{ 1111111109, TOTP_HASH_SHA256, "68084774" },
	{ 1111111109, TOTP_HASH_SHA512, "25091201" },
	{ 1111111111, TOTP_HASH_SHA1, "14050471" },
	{ 1111111111, TOTP_HASH_SHA256, "67062674" },
	{ 1111111111, TOTP_HASH_SHA512, "99943326" },
	{ 1234567890, TOTP_HASH_SHA1, "89005924" },
	{ 1234567890, TOTP_HASH_SHA256, "91819424" },
	{ 1234567890, TOTP_HASH_SHA512, "93441116" },
	{ 2000000000, TOTP_HASH_SHA1, "69279037" },
	{ 2000000000, TOTP_HASH_SHA256, "90698825" },
	{ 2000000000, TOTP_HASH_SHA512, "38618901" },
	{ 20000000000, TOTP_HASH_SHA1, "65353130" },
	{ 20000000000, TOTP_HASH_SHA256, "77737706" },
	{ 20000000000, TOTP_HASH_SHA512, "47863826" },
};

static void seed_for(enum totp_hash hash, const unsigned char **key, size_t *len)
{
	switch (hash) {
	case TOTP_HASH_SHA1:
		*key = seed_sha1, *len = SEED_LEN(seed_sha1);
		break;
	case TOTP_HASH_SHA256:
		*key = seed_sha256, *len = SEED_LEN(seed_sha256);
		break;
	case TOTP_HASH_SHA512:
		*key = seed_sha512, *len = SEED_LEN(seed_sha512);
		break;
	}
}

START_TEST(test_rfc6238_vectors)
{
	const struct rfc6238_row *row = &rfc6238[_i];
	const unsigned char *key = NULL;
	size_t keylen = 0;
	char code[TOTP_CODE_MAX];

	seed_for(row->hash, &key, &keylen);
	ck_assert(totp_code(row->hash, key, keylen, totp_step(row->time), 8, code));
	ck_assert_str_eq(code, row->code);
}
END_TEST

/* RFC 4226 Appendix D: HOTP-SHA-1, 6 digits, counters 0 to 9. */
START_TEST(test_rfc4226_vectors)
{
	static const char *const expected[] = { "755224", "287082", "359152", "969429", "338314",
						"254676", "287922", "162583", "399871", "520489" };
	char code[TOTP_CODE_MAX];
	for (uint64_t c = 0; c < 10; c++) {
		ck_assert(totp_code(TOTP_HASH_SHA1, seed_sha1, SEED_LEN(seed_sha1), c, 6, code));
		ck_assert_str_eq(code, expected[c]);
	}
}
END_TEST

/* The same truncated value modulo 10^6, 10^7, 10^8, zero-padded (07081804 keeps its 0). */
START_TEST(test_code_digits)
{
	char code[TOTP_CODE_MAX];
	uint64_t step = totp_step(1111111109);
	ck_assert(totp_code(TOTP_HASH_SHA1, seed_sha1, SEED_LEN(seed_sha1), step, 6, code));
	ck_assert_str_eq(code, "081804");
	ck_assert(totp_code(TOTP_HASH_SHA1, seed_sha1, SEED_LEN(seed_sha1), step, 7, code));
	ck_assert_str_eq(code, "7081804");
	ck_assert(totp_code(TOTP_HASH_SHA1, seed_sha1, SEED_LEN(seed_sha1), step, 8, code));
	ck_assert_str_eq(code, "07081804");
}
END_TEST

START_TEST(test_code_refusals)
{
	char code[16];
	ck_assert(!totp_code(TOTP_HASH_SHA1, seed_sha1, SEED_LEN(seed_sha1), 1, 5, code));
	ck_assert(!totp_code(TOTP_HASH_SHA1, seed_sha1, SEED_LEN(seed_sha1), 1, 9, code));
	ck_assert(!totp_code(TOTP_HASH_SHA1, seed_sha1, 0, 1, 6, code));
	ck_assert(!totp_code(TOTP_HASH_SHA1, NULL, 20, 1, 6, code));
	ck_assert(!totp_code((enum totp_hash)42, seed_sha1, SEED_LEN(seed_sha1), 1, 6, code));
}
END_TEST

START_TEST(test_step)
{
	ck_assert_uint_eq(totp_step(0), 0);
	ck_assert_uint_eq(totp_step(29), 0);
	ck_assert_uint_eq(totp_step(30), 1);
	ck_assert_uint_eq(totp_step(59), 1);
	ck_assert_uint_eq(totp_step(1111111109), 37037036);
	ck_assert_uint_eq(totp_step(20000000000), 666666666);
	ck_assert_uint_eq(totp_step(-1), 0);
	ck_assert_uint_eq(totp_step(INT64_MIN), 0);
}
END_TEST

/* ---- verification --------------------------------------------------------------------------- */

/* 15 s into a step, well inside it. */
#define VERIFY_NOW ((int64_t)1700000000 / 30 * 30 + 15)

static void code_at(uint64_t step, char out[TOTP_CODE_MAX])
{
	ck_assert(totp_code(TOTP_HASH_SHA1, seed_sha1, SEED_LEN(seed_sha1), step, 6, out));
}

static enum totp_result verify(const char *code, int64_t now, uint64_t last, uint64_t *matched)
{
	return totp_verify(seed_sha1, SEED_LEN(seed_sha1), code, now, last, matched);
}

START_TEST(test_verify_window)
{
	uint64_t base = totp_step(VERIFY_NOW), matched;
	char code[TOTP_CODE_MAX];

	for (int delta = -1; delta <= 1; delta++) {
		code_at(base + (uint64_t)(int64_t)delta, code);
		matched = 0;
		ck_assert_int_eq(verify(code, VERIFY_NOW, 0, &matched), TOTP_OK);
		ck_assert_uint_eq(matched, base + (uint64_t)(int64_t)delta);
	}
	/* ±2 steps are out of the window: neither accepted nor reported as a replay. */
	code_at(base - 2, code);
	matched = 12345;
	ck_assert_int_eq(verify(code, VERIFY_NOW, 0, &matched), TOTP_INVALID);
	ck_assert_uint_eq(matched, 12345);
	code_at(base + 2, code);
	ck_assert_int_eq(verify(code, VERIFY_NOW, 0, &matched), TOTP_INVALID);
	ck_assert_uint_eq(matched, 12345);
}
END_TEST

START_TEST(test_verify_replay)
{
	uint64_t base = totp_step(VERIFY_NOW), matched = 777;
	char code[TOTP_CODE_MAX];

	code_at(base, code);
	ck_assert_int_eq(verify(code, VERIFY_NOW, base, &matched), TOTP_REUSED);
	ck_assert_uint_eq(matched, 777);
	ck_assert_int_eq(verify(code, VERIFY_NOW, base + 1, &matched), TOTP_REUSED);
	ck_assert_int_eq(verify(code, VERIFY_NOW, base - 1, &matched), TOTP_OK);
	ck_assert_uint_eq(matched, base);
	/* An earlier step of the window after a later one was used is a replay too. */
	code_at(base - 1, code);
	ck_assert_int_eq(verify(code, VERIFY_NOW, base, &matched), TOTP_REUSED);
	/* The next step is still fresh after the current one was used. */
	code_at(base + 1, code);
	ck_assert_int_eq(verify(code, VERIFY_NOW, base, &matched), TOTP_OK);
	ck_assert_uint_eq(matched, base + 1);
}
END_TEST

START_TEST(test_verify_malformed)
{
	static const char *const bad[] = {
		"12345", "1234567", "12a456", " 123456", "123456 ",
		"",	 "+12345",  "-12345", "12 456",	 "１２３４５６"
	};
	uint64_t base = totp_step(VERIFY_NOW), matched = 5;
	char code[TOTP_CODE_MAX], variant[16];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_int_eq(verify(bad[i], VERIFY_NOW, 0, &matched), TOTP_INVALID);
	ck_assert_int_eq(verify(NULL, VERIFY_NOW, 0, &matched), TOTP_INVALID);
	/* Variants of the valid code: malformed even though they contain it. */
	code_at(base, code);
	snprintf(variant, sizeof(variant), " %s", code);
	ck_assert_int_eq(verify(variant, VERIFY_NOW, 0, &matched), TOTP_INVALID);
	snprintf(variant, sizeof(variant), "%s0", code);
	ck_assert_int_eq(verify(variant, VERIFY_NOW, 0, &matched), TOTP_INVALID);
	snprintf(variant, sizeof(variant), "%.5s", code);
	ck_assert_int_eq(verify(variant, VERIFY_NOW, 0, &matched), TOTP_INVALID);
	ck_assert_uint_eq(matched, 5);
	ck_assert_int_eq(verify(code, VERIFY_NOW, 0, &matched), TOTP_OK);
}
END_TEST

START_TEST(test_verify_wrong_key_and_epoch)
{
	static const unsigned char other[] = "abcdefghijabcdefghij";
	uint64_t matched = 0;
	char code[TOTP_CODE_MAX];

	code_at(totp_step(VERIFY_NOW), code);
	ck_assert_int_eq(totp_verify(other, SEED_LEN(other), code, VERIFY_NOW, 0, &matched),
			 TOTP_INVALID);
	/* At step 0 the window has no step -1; steps 0 and 1 still verify. */
	code_at(0, code);
	ck_assert_int_eq(verify(code, 10, 0, &matched), TOTP_REUSED);
	code_at(1, code);
	ck_assert_int_eq(verify(code, 10, 0, &matched), TOTP_OK);
	ck_assert_uint_eq(matched, 1);
}
END_TEST

/* ---- secrets and URI ------------------------------------------------------------------------ */

START_TEST(test_secret_generate)
{
	unsigned char a[TOTP_SECRET_LEN], b[TOTP_SECRET_LEN], back[TOTP_SECRET_LEN];
	char text[TOTP_SECRET_BASE32_MAX];

	ck_assert(totp_secret_generate(a));
	ck_assert(totp_secret_generate(b));
	ck_assert(memcmp(a, b, sizeof(a)) != 0);
	ck_assert(totp_secret_base32(a, sizeof(a), text, sizeof(text)));
	ck_assert_uint_eq(strlen(text), TOTP_SECRET_BASE32_LEN);
	ck_assert_uint_eq(base32_decode(text, strlen(text), back, sizeof(back)), sizeof(back));
	ck_assert(memcmp(a, back, sizeof(a)) == 0);
}
END_TEST

START_TEST(test_secret_base32)
{
	char text[TOTP_SECRET_BASE32_MAX];
	ck_assert(totp_secret_base32(seed_sha1, SEED_LEN(seed_sha1), text, sizeof(text)));
	ck_assert_str_eq(text, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
	ck_assert(!totp_secret_base32(seed_sha1, SEED_LEN(seed_sha1), text, sizeof(text) - 1));
	ck_assert(!totp_secret_base32(seed_sha1, 0, text, sizeof(text)));
}
END_TEST

START_TEST(test_otpauth_uri)
{
	const char *b32 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
	char uri[TOTP_URI_MAX];

	ck_assert(totp_otpauth_uri("alice", b32, uri, sizeof(uri)));
	ck_assert_str_eq(uri,
			 "otpauth://totp/hookgate:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
			 "&issuer=hookgate&algorithm=SHA1&digits=6&period=30");
	ck_assert(totp_otpauth_uri("a.b_c-d~e", b32, uri, sizeof(uri)));
	ck_assert_ptr_nonnull(strstr(uri, "hookgate:a.b_c-d~e?"));
	ck_assert(totp_otpauth_uri("a b@c:d/é", b32, uri, sizeof(uri)));
	ck_assert_ptr_nonnull(strstr(uri, "totp/hookgate:a%20b%40c%3Ad%2F%C3%A9?secret="));
}
END_TEST

START_TEST(test_otpauth_uri_refusals)
{
	const char *b32 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
	char uri[TOTP_URI_MAX];
	size_t full;

	ck_assert(totp_otpauth_uri("alice", b32, uri, sizeof(uri)));
	full = strlen(uri);
	ck_assert(totp_otpauth_uri("alice", b32, uri, full + 1));
	ck_assert(!totp_otpauth_uri("alice", b32, uri, full));
	ck_assert_str_eq(uri, "");
	ck_assert(!totp_otpauth_uri("alice", "gezdgnbv", uri, sizeof(uri)));
	ck_assert(!totp_otpauth_uri("alice", "GEZ=", uri, sizeof(uri)));
	ck_assert(!totp_otpauth_uri("alice", "GEZ&x=1", uri, sizeof(uri)));
	ck_assert(!totp_otpauth_uri("alice", "", uri, sizeof(uri)));
	ck_assert(!totp_otpauth_uri("", b32, uri, sizeof(uri)));
}
END_TEST

Suite *make_suite_totp(void)
{
	Suite *s = suite_create("totp");
	TCase *tc = tcase_create("codes");
	tcase_add_loop_test(tc, test_rfc6238_vectors, 0,
			    (int)(sizeof(rfc6238) / sizeof(rfc6238[0])));
	tcase_add_test(tc, test_rfc4226_vectors);
	tcase_add_test(tc, test_code_digits);
	tcase_add_test(tc, test_code_refusals);
	tcase_add_test(tc, test_step);
	suite_add_tcase(s, tc);

	tc = tcase_create("verify");
	tcase_add_test(tc, test_verify_window);
	tcase_add_test(tc, test_verify_replay);
	tcase_add_test(tc, test_verify_malformed);
	tcase_add_test(tc, test_verify_wrong_key_and_epoch);
	suite_add_tcase(s, tc);

	tc = tcase_create("enrollment");
	tcase_add_test(tc, test_secret_generate);
	tcase_add_test(tc, test_secret_base32);
	tcase_add_test(tc, test_otpauth_uri);
	tcase_add_test(tc, test_otpauth_uri_refusals);
	suite_add_tcase(s, tc);
	return s;
}
