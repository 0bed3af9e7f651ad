/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of admin/credential.c: session-id encoding and its strictness, recovery codes
 * (format, spread, normalization, hashing) and the session cookie. */
#include "suites.h"

#include "core/crypto.h"
#include "admin/credential.h"

#include <string.h>

/* ---- session ids ---------------------------------------------------------------------------- */

static bool id_alphabet_only(const char *s)
{
	for (; *s; s++) {
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
			return false;
	}
	return true;
}

START_TEST(test_id_generate)
{
	char a[SESSION_ID_TEXT_MAX], b[SESSION_ID_TEXT_MAX];
	unsigned char raw[SESSION_ID_RAW_LEN], hash[CRYPTO_HASH_LEN], expect[CRYPTO_HASH_LEN];

	ck_assert(session_id_generate(a));
	ck_assert(session_id_generate(b));
	ck_assert_uint_eq(strlen(a), SESSION_ID_TEXT_LEN);
	ck_assert(id_alphabet_only(a));
	ck_assert_str_ne(a, b);
	ck_assert(session_id_decode(a, raw));
	ck_assert(session_id_hash(a, hash));
	crypto_sha256(raw, sizeof(raw), expect);
	ck_assert_mem_eq(hash, expect, sizeof(hash));
}
END_TEST

/* Vectors from Python's base64.urlsafe_b64encode with the padding removed. */
START_TEST(test_id_decode_vectors)
{
	unsigned char raw[SESSION_ID_RAW_LEN], expect[SESSION_ID_RAW_LEN];

	for (int i = 0; i < SESSION_ID_RAW_LEN; i++)
		expect[i] = (unsigned char)i;
	ck_assert(session_id_decode("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", raw));
	ck_assert_mem_eq(raw, expect, sizeof(raw));
	memset(expect, 0xff, sizeof(expect));
	ck_assert(session_id_decode("__________________________________________8", raw));
	ck_assert_mem_eq(raw, expect, sizeof(raw));
	for (int i = 0; i < 30; i++)
		expect[i] = (unsigned char[]){ 0xfb, 0xef, 0xbe }[i % 3];
	expect[30] = 0xfb;
	expect[31] = 0xff;
	ck_assert(session_id_decode("-----------------------------------------_8", raw));
	ck_assert_mem_eq(raw, expect, sizeof(raw));
}
END_TEST

/* Round trips through many random ids: decode(generate()) hashes like SHA-256 of its bytes and
 * no two ids repeat. */
START_TEST(test_id_round_trips)
{
	char prev[SESSION_ID_TEXT_MAX] = "", text[SESSION_ID_TEXT_MAX];
	unsigned char raw[SESSION_ID_RAW_LEN];
	for (int i = 0; i < 500; i++) {
		ck_assert(session_id_generate(text));
		ck_assert(session_id_decode(text, raw));
		ck_assert_str_ne(text, prev);
		memcpy(prev, text, sizeof(prev));
	}
}
END_TEST

START_TEST(test_id_strict)
{
	static const char good[] = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
	static const char *const bad[] = {
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh",	/* 42 characters */
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8A", /* 44 */
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", /* padded */
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+",	/* standard base64 alphabet */
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdH/8",
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9", /* unused low bits set */
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh ",
		" AECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd\xc3\xa9h",
		"",
	};
	unsigned char raw[SESSION_ID_RAW_LEN], hash[CRYPTO_HASH_LEN];

	ck_assert(session_id_decode(good, raw));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(!session_id_decode(bad[i], raw), "accepted bad[%zu]", i);
		ck_assert(!session_id_hash(bad[i], hash));
	}
	ck_assert(!session_id_decode(NULL, raw));
}
END_TEST

/* ---- recovery codes ------------------------------------------------------------------------- */

static bool recovery_well_formed(const char *c)
{
	if (strlen(c) != RECOVERY_CODE_LEN || c[5] != '-')
		return false;
	for (int i = 0; i < RECOVERY_CODE_LEN; i++) {
		if (i != 5 && !((c[i] >= 'a' && c[i] <= 'z') || (c[i] >= '0' && c[i] <= '9')))
			return false;
	}
	return true;
}

/* 1000 codes are 10000 characters, about 278 of each of the 36: every one must appear, and none
 * far from its share (bounds about eight standard deviations wide, so a correct generator never
 * fails while a modulo-biased or truncated alphabet does). */
START_TEST(test_recovery_generate_spread)
{
	const char *alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
	int count[256] = { 0 };
	char code[RECOVERY_CODE_MAX], prev[RECOVERY_CODE_MAX] = "";

	for (int i = 0; i < 1000; i++) {
		ck_assert(recovery_code_generate(code));
		ck_assert_msg(recovery_well_formed(code), "malformed code %s", code);
		ck_assert_str_ne(code, prev);
		memcpy(prev, code, sizeof(prev));
		for (int j = 0; j < RECOVERY_CODE_LEN; j++)
			count[(unsigned char)code[j]]++;
	}
	for (const char *a = alphabet; *a; a++) {
		ck_assert_msg(count[(unsigned char)*a] > 150 && count[(unsigned char)*a] < 410,
			      "'%c' appeared %d times", *a, count[(unsigned char)*a]);
	}
	ck_assert_int_eq(count['-'], 1000);
}
END_TEST

/* 256 is not a multiple of 36: taking a random byte modulo 36 would favour 'a'..'d' (8 chances
 * in 256 instead of 7). Over 50000 characters they would get about 6250 instead of 5556
 * (standard deviation 70); the bound is five standard deviations above the unbiased mean. */
START_TEST(test_recovery_no_modulo_bias)
{
	char code[RECOVERY_CODE_MAX];
	long first4 = 0, total = 0;

	for (int i = 0; i < 5000; i++) {
		ck_assert(recovery_code_generate(code));
		for (int j = 0; j < RECOVERY_CODE_LEN; j++) {
			if (code[j] == '-')
				continue;
			total++;
			first4 += code[j] >= 'a' && code[j] <= 'd';
		}
	}
	ck_assert_int_eq(total, 50000);
	ck_assert_msg(first4 < 5906, "'a'..'d' appeared %ld times in 50000", first4);
}
END_TEST

START_TEST(test_recovery_normalize)
{
	static const char *const same[] = { "abcde-12345",   "ABCDE-12345",	"abcde12345",
					    "  aBcDe12345 ", "\tabcde-12345\t", "AbCdE12345" };
	static const char *const bad[] = {
		"abcde-1234",	"abcde-123456",
		"abcde_12345",	"abcde 12345",
		"abc de12345",	"abcde--12345",
		"-abcde12345",	"abcde12345-",
		"abcd-e12345",	"",
		"   ",		"abcd\xc3\xa9-12345",
		"abcde-12345x", "abcde-12345\n",
		"abcde\n12345",
	};
	char out[RECOVERY_CODE_MAX];

	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		ck_assert_msg(recovery_code_normalize(same[i], out), "refused '%s'", same[i]);
		ck_assert_str_eq(out, "abcde-12345");
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!recovery_code_normalize(bad[i], out), "accepted '%s'", bad[i]);
	ck_assert(!recovery_code_normalize(NULL, out));
}
END_TEST

START_TEST(test_recovery_hash)
{
	struct crypto_keys keys, other;
	unsigned char a[CRYPTO_HASH_LEN], b[CRYPTO_HASH_LEN], expect[CRYPTO_HASH_LEN];

	memset(&keys, 0x5a, sizeof(keys));
	memset(&other, 0xa5, sizeof(other));
	ck_assert(recovery_code_hash(&keys, "abcde-12345", a));
	ck_assert(recovery_code_hash(&keys, " ABCDE12345 ", b));
	ck_assert_mem_eq(a, b, sizeof(a));
	crypto_lookup_hash(&keys, "recovery", "abcde-12345", 11, expect);
	ck_assert_mem_eq(a, expect, sizeof(a));
	ck_assert(recovery_code_hash(&other, "abcde-12345", b));
	ck_assert(memcmp(a, b, sizeof(a)) != 0);
	ck_assert(recovery_code_hash(&keys, "abcde-12346", b));
	ck_assert(memcmp(a, b, sizeof(a)) != 0);
	ck_assert(!recovery_code_hash(&keys, "abcde-1234", b));
}
END_TEST

/* ---- the cookie ----------------------------------------------------------------------------- */

START_TEST(test_cookie_build)
{
	char out[SESSION_COOKIE_MAX], id[SESSION_ID_TEXT_MAX];

	ck_assert(session_cookie("abc", 900, false, out, sizeof(out)));
	ck_assert_str_eq(out,
			 "hookgate_session=abc; Path=/; HttpOnly; SameSite=Strict; Max-Age=900");
	ck_assert(session_cookie("abc", 300, true, out, sizeof(out)));
	ck_assert_str_eq(out, "hookgate_session=abc; Path=/; HttpOnly; SameSite=Strict; Max-Age=300"
			      "; Secure");
	ck_assert(session_cookie_clear(false, out, sizeof(out)));
	ck_assert_str_eq(out, "hookgate_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
	ck_assert(session_cookie_clear(true, out, sizeof(out)));
	ck_assert_str_eq(out, "hookgate_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"
			      "; Secure");
	/* The largest real cookie fits SESSION_COOKIE_MAX. */
	ck_assert(session_id_generate(id));
	ck_assert(session_cookie(id, 2147483647, true, out, sizeof(out)));
}
END_TEST

START_TEST(test_cookie_build_refusals)
{
	char out[SESSION_COOKIE_MAX];
	size_t full;

	ck_assert(!session_cookie("a;b", 10, false, out, sizeof(out)));
	ck_assert(!session_cookie("a b", 10, false, out, sizeof(out)));
	ck_assert(!session_cookie("a\r\nSet-Cookie: x=y", 10, false, out, sizeof(out)));
	ck_assert(!session_cookie("\"ab\"", 10, false, out, sizeof(out)));
	ck_assert(!session_cookie("a,b", 10, false, out, sizeof(out)));
	ck_assert(!session_cookie("abc", -1, false, out, sizeof(out)));
	ck_assert(!session_cookie(NULL, 10, false, out, sizeof(out)));
	ck_assert(session_cookie("abc", 10, false, out, sizeof(out)));
	full = strlen(out);
	ck_assert(session_cookie("abc", 10, false, out, full + 1));
	ck_assert(!session_cookie("abc", 10, false, out, full));
	ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(test_cookie_find)
{
	char out[64];

	ck_assert(session_cookie_find("hookgate_session=abc", out, sizeof(out)));
	ck_assert_str_eq(out, "abc");
	ck_assert(session_cookie_find("a=b; hookgate_session=xyz; c=d", out, sizeof(out)));
	ck_assert_str_eq(out, "xyz");
	ck_assert(session_cookie_find("xhookgate_session=1; hookgate_session=2", out, sizeof(out)));
	ck_assert_str_eq(out, "2");
	ck_assert(session_cookie_find("hookgate_sessionx=1;hookgate_session=3", out, sizeof(out)));
	ck_assert_str_eq(out, "3");
	ck_assert(session_cookie_find("hookgate_session=1; hookgate_session=2", out, sizeof(out)));
	ck_assert_str_eq(out, "1");
	ck_assert(session_cookie_find("  hookgate_session = v ;x=y", out, sizeof(out)));
	ck_assert_str_eq(out, "v");
	ck_assert(session_cookie_find("hookgate_session=\"q\"", out, sizeof(out)));
	ck_assert_str_eq(out, "q");
	ck_assert(session_cookie_find("flag; hookgate_session=a=b", out, sizeof(out)));
	ck_assert_str_eq(out, "a=b");
	ck_assert(session_cookie_find("hookgate_session=", out, sizeof(out)));
	ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(test_cookie_find_refusals)
{
	char out[8];

	ck_assert(!session_cookie_find("", out, sizeof(out)));
	ck_assert(!session_cookie_find(NULL, out, sizeof(out)));
	ck_assert(!session_cookie_find("a=b; c=d", out, sizeof(out)));
	ck_assert(
		!session_cookie_find("hookgate_sessionx=1; Hookgate_session=2", out, sizeof(out)));
	ck_assert(!session_cookie_find("hookgate_session; a=hookgate_session=1", out, sizeof(out)));
	ck_assert(!session_cookie_find("a=hookgate_session=1", out, sizeof(out)));
	/* Bounded: 7 characters fit in 8 bytes, 8 do not, and a later pair is not consulted. */
	ck_assert(session_cookie_find("hookgate_session=1234567", out, sizeof(out)));
	ck_assert_str_eq(out, "1234567");
	ck_assert(!session_cookie_find("hookgate_session=12345678", out, sizeof(out)));
	ck_assert(!session_cookie_find("hookgate_session=12345678; hookgate_session=1", out,
				       sizeof(out)));
	ck_assert(!session_cookie_find("hookgate_session=1", out, 0));
}
END_TEST

Suite *make_suite_session(void)
{
	Suite *s = suite_create("session");
	TCase *tc = tcase_create("ids");
	tcase_add_test(tc, test_id_generate);
	tcase_add_test(tc, test_id_decode_vectors);
	tcase_add_test(tc, test_id_round_trips);
	tcase_add_test(tc, test_id_strict);
	suite_add_tcase(s, tc);

	tc = tcase_create("recovery");
	tcase_add_test(tc, test_recovery_generate_spread);
	tcase_add_test(tc, test_recovery_no_modulo_bias);
	tcase_add_test(tc, test_recovery_normalize);
	tcase_add_test(tc, test_recovery_hash);
	suite_add_tcase(s, tc);

	tc = tcase_create("cookie");
	tcase_add_test(tc, test_cookie_build);
	tcase_add_test(tc, test_cookie_build_refusals);
	tcase_add_test(tc, test_cookie_find);
	tcase_add_test(tc, test_cookie_find_refusals);
	suite_add_tcase(s, tc);
	return s;
}
