/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of lib/encoding.c: known vectors, round trips of random data, and refusals. */
#include "suites.h"

#include "core/crypto.h"
#include "lib/encoding.h"

#include <string.h>

/* ---- base62 ------------------------------------------------------------------------------ */

START_TEST(test_base62_vectors)
{
	char out[64];
	const unsigned char zero[] = { 0 };
	const unsigned char v61[] = { 61 };
	const unsigned char v62[] = { 62 };
	const unsigned char v65535[] = { 0xff, 0xff };
	unsigned char max160[20], seq[20];

	ck_assert(base62_encode(zero, 1, out, 3));
	ck_assert_str_eq(out, "000");
	ck_assert(base62_encode(v61, 1, out, 3));
	ck_assert_str_eq(out, "00z");
	ck_assert(base62_encode(v62, 1, out, 3));
	ck_assert_str_eq(out, "010");
	ck_assert(base62_encode(v65535, 2, out, 4));
	ck_assert_str_eq(out, "0H31");
	/* Values cross-checked with an independent Python big-integer implementation. */
	memset(max160, 0xff, sizeof(max160));
	ck_assert(base62_encode(max160, sizeof(max160), out, 27));
	ck_assert_str_eq(out, "aWgEPTl1tmebfsQzFP4bxwgy80V");
	for (int i = 0; i < 20; i++)
		seq[i] = (unsigned char)(i + 1);
	ck_assert(base62_encode(seq, sizeof(seq), out, 27));
	ck_assert_str_eq(out, "08umpsRGMi9hXbwR6pXWz2Ckob6");
}
END_TEST

START_TEST(test_base62_leading_zero_bytes)
{
	const unsigned char padded[] = { 0, 0, 0, 0, 0xff, 0xff };
	char out[8];
	ck_assert(base62_encode(padded, sizeof(padded), out, 4));
	ck_assert_str_eq(out, "0H31");
}
END_TEST

START_TEST(test_base62_too_wide)
{
	unsigned char max160[20];
	const unsigned char v62[] = { 62 };
	char out[64];
	memset(max160, 0xff, sizeof(max160));
	/* 62^26 < 2^160 <= 62^27 */
	ck_assert(!base62_encode(max160, sizeof(max160), out, 26));
	ck_assert(!base62_encode(v62, 1, out, 1));
	ck_assert(base62_encode(v62, 1, out, 2));
	ck_assert_str_eq(out, "10");
}
END_TEST

START_TEST(test_base62_decode)
{
	unsigned char bytes[20];
	const unsigned char expect[] = { 0xff, 0xff };
	ck_assert(base62_decode("0H31", 4, bytes, 2));
	ck_assert_mem_eq(bytes, expect, 2);
	ck_assert(base62_decode("10", 2, bytes, 1));
	ck_assert_uint_eq(bytes[0], 62);
	ck_assert(base62_decode("", 0, bytes, 1));
	ck_assert_uint_eq(bytes[0], 0);
}
END_TEST

START_TEST(test_base62_decode_errors)
{
	unsigned char bytes[4];
	ck_assert(!base62_decode("12-4", 4, bytes, sizeof(bytes)));
	ck_assert(!base62_decode("12 4", 4, bytes, sizeof(bytes)));
	const char with_nul[] = { '1', '\0', '3', '4' };
	ck_assert(!base62_decode(with_nul, sizeof(with_nul), bytes, sizeof(bytes)));
	ck_assert(!base62_decode("\xc3\xa9", 2, bytes, sizeof(bytes)));
	/* 62^2 - 1 = 3843 does not fit in one byte; 4H = 4*62+17 = 265 neither. */
	ck_assert(!base62_decode("zz", 2, bytes, 1));
	ck_assert(!base62_decode("4H", 2, bytes, 1));
	ck_assert(base62_decode("47", 2, bytes, 1));
	ck_assert_uint_eq(bytes[0], 255);
}
END_TEST

START_TEST(test_base62_char)
{
	int n = 0;
	for (int c = 0; c < 256; c++)
		n += base62_char(c);
	ck_assert_int_eq(n, 62);
	ck_assert(base62_char('0') && base62_char('9') && base62_char('A') && base62_char('Z'));
	ck_assert(base62_char('a') && base62_char('z'));
	ck_assert(!base62_char('_') && !base62_char('-') && !base62_char('%') && !base62_char(0));
	ck_assert(!base62_char(-1) && !base62_char(0xc3));
}
END_TEST

START_TEST(test_base62_round_trip)
{
	for (size_t n = 1; n <= 32; n++) {
		unsigned char in[32], back[32];
		char text[64];
		/* ceil(n * 8 / log2(62)) characters always suffice; 43 for 32 bytes. */
		size_t width = (n * 8 * 1000 + 5953) / 5954;
		ck_assert(crypto_random(in, n));
		ck_assert_msg(base62_encode(in, n, text, width), "encode %zu bytes", n);
		ck_assert_uint_eq(strlen(text), width);
		ck_assert(base62_decode(text, width, back, n));
		ck_assert_mem_eq(in, back, n);
	}
}
END_TEST

/* ---- base32 ------------------------------------------------------------------------------ */

static const struct {
	const char *plain;
	const char *encoded;
} rfc4648[] = {
	{ "", "" },
	{ "f", "MY" },
	{ "fo", "MZXQ" },
	{ "foo", "MZXW6" },
	{ "foob", "MZXW6YQ" },
	{ "fooba", "MZXW6YTB" },
	{ "foobar", "MZXW6YTBOI" },
};

START_TEST(test_base32_rfc4648_encode)
{
	char out[32];
	const char *plain = rfc4648[_i].plain;
	size_t n = base32_encode((const unsigned char *)plain, strlen(plain), out, sizeof(out));
	ck_assert_uint_eq(n, strlen(rfc4648[_i].encoded));
	ck_assert_str_eq(out, rfc4648[_i].encoded);
}
END_TEST

START_TEST(test_base32_rfc4648_decode)
{
	unsigned char out[32];
	const char *enc = rfc4648[_i].encoded;
	const char *plain = rfc4648[_i].plain;
	size_t n = base32_decode(enc, strlen(enc), out, sizeof(out));
	ck_assert_uint_eq(n, strlen(plain));
	ck_assert_mem_eq(out, plain, n);
}
END_TEST

START_TEST(test_base32_decode_lenient)
{
	unsigned char out[16];
	const char *forms[] = { "MZXW6YQ=", "mzxw6yq", "MZXW 6YQ", "mzxw-6yq=", "MZXW6YQ======" };
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		size_t n = base32_decode(forms[i], strlen(forms[i]), out, sizeof(out));
		ck_assert_msg(n == 4, "form %s gave %zu", forms[i], n);
		ck_assert_mem_eq(out, "foob", 4);
	}
}
END_TEST

START_TEST(test_base32_decode_errors)
{
	unsigned char out[16];
	const char *bad[] = { "MZXW1", "MZXW8", "MZXW0", "MZ!W", "MZ_W", "MZ\xc3\xa9W" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(base32_decode(bad[i], strlen(bad[i]), out, sizeof(out)) == (size_t)-1,
			      "accepted %s", bad[i]);
	ck_assert(base32_decode("MZ\0W", 4, out, sizeof(out)) == (size_t)-1);
	/* "foobar" needs 6 bytes */
	ck_assert(base32_decode("MZXW6YTBOI", 10, out, 5) == (size_t)-1);
	ck_assert_uint_eq(base32_decode("MZXW6YTBOI", 10, out, 6), 6);
}
END_TEST

START_TEST(test_base32_encode_small_buffer)
{
	char out[16];
	/* "foobar" needs 10 characters and the NUL */
	ck_assert_uint_eq(base32_encode((const unsigned char *)"foobar", 6, out, 10), 0);
	ck_assert_uint_eq(base32_encode((const unsigned char *)"foobar", 6, out, 11), 10);
	ck_assert_uint_eq(base32_encode((const unsigned char *)"", 0, out, 0), 0);
}
END_TEST

START_TEST(test_base32_round_trip)
{
	for (size_t n = 0; n <= 40; n++) {
		unsigned char in[40], back[40];
		char text[80];
		ck_assert(crypto_random(in, n));
		size_t len = base32_encode(in, n, text, sizeof(text));
		ck_assert_uint_eq(len, (n * 8 + 4) / 5);
		ck_assert_uint_eq(strlen(text), len);
		ck_assert_uint_eq(base32_decode(text, len, back, sizeof(back)), n);
		ck_assert_mem_eq(in, back, n);
	}
}
END_TEST

/* ---- base64 and base64url ------------------------------------------------------------- */

/* RFC 4648 section 10, padding removed; then bytes where the two alphabets differ. */
static const struct {
	const char *plain;
	size_t len;
	const char *b64, *b64url;
} b64_vectors[] = {
	{ "", 0, "", "" },
	{ "f", 1, "Zg", "Zg" },
	{ "fo", 2, "Zm8", "Zm8" },
	{ "foo", 3, "Zm9v", "Zm9v" },
	{ "foob", 4, "Zm9vYg", "Zm9vYg" },
	{ "fooba", 5, "Zm9vYmE", "Zm9vYmE" },
	{ "foobar", 6, "Zm9vYmFy", "Zm9vYmFy" },
	{ "\xfb\xff\xbf", 3, "+/+/", "-_-_" },
	{ "\x00\x10\x83\x10\x51\x87\x20\x92\x8b", 9, "ABCDEFGHIJKL", "ABCDEFGHIJKL" },
};

START_TEST(test_base64_vectors)
{
	char out[32];
	unsigned char back[32];
	const char *plain = b64_vectors[_i].plain, *b64 = b64_vectors[_i].b64;
	const char *url = b64_vectors[_i].b64url;
	size_t len = b64_vectors[_i].len;

	ck_assert_uint_eq(base64_encode((const unsigned char *)plain, len, out, sizeof(out)),
			  strlen(b64));
	ck_assert_str_eq(out, b64);
	ck_assert_uint_eq(strlen(b64), BASE64_LEN(len));
	ck_assert_uint_eq(base64url_encode((const unsigned char *)plain, len, out, sizeof(out)),
			  strlen(url));
	ck_assert_str_eq(out, url);
	ck_assert_uint_eq(base64_decode(b64, strlen(b64), back, sizeof(back)), len);
	ck_assert_mem_eq(back, plain, len);
	ck_assert_uint_eq(base64url_decode(url, strlen(url), back, sizeof(back)), len);
	ck_assert_mem_eq(back, plain, len);
}
END_TEST

START_TEST(test_base64_strict)
{
	static const char *const bad[] = {
		"Zg==",	 /* padding */
		"Zm9",	 /* "fo" is Zm8: unused low bits set */
		"Zh",	 /* "f" is Zg */
		"Zm9vY", /* 4k + 1 characters carry no whole byte */
		"Zm 9v", /* white space */
		" Zm9v", "Zm9v\n", "Zm9v*", "Zm\xc3\xa9",
	};
	unsigned char out[16];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(base64_decode(bad[i], strlen(bad[i]), out, sizeof(out)) == (size_t)-1,
			      "base64 took bad[%zu]", i);
		ck_assert_msg(base64url_decode(bad[i], strlen(bad[i]), out, sizeof(out)) ==
				      (size_t)-1,
			      "base64url took bad[%zu]", i);
	}
	/* Each alphabet refuses the other's two characters. */
	ck_assert_uint_eq(base64url_decode("+/+/", 4, out, sizeof(out)), (size_t)-1);
	ck_assert_uint_eq(base64_decode("-_-_", 4, out, sizeof(out)), (size_t)-1);
	/* A NUL within the length is not a character. */
	ck_assert_uint_eq(base64url_decode("Zm\0v", 4, out, sizeof(out)), (size_t)-1);
}
END_TEST

START_TEST(test_base64_buffers)
{
	char text[8];
	unsigned char out[3];
	const unsigned char in[] = "foobar";
	ck_assert_uint_eq(base64url_encode(in, 6, text, 8), 0); /* needs 8 + 1 */
	ck_assert_uint_eq(base64url_encode(in, 5, text, 8), 7);
	ck_assert_str_eq(text, "Zm9vYmE");
	ck_assert_uint_eq(base64url_decode("Zm9vYg", 6, out, sizeof(out)), (size_t)-1);
	ck_assert_uint_eq(base64url_decode("Zm9v", 4, out, sizeof(out)), 3);
}
END_TEST

START_TEST(test_base64_round_trip)
{
	unsigned char in[64], back[64];
	char text[100];
	for (size_t len = 0; len <= sizeof(in); len++) {
		ck_assert(crypto_random(in, sizeof(in)));
		size_t n = base64url_encode(in, len, text, sizeof(text));
		ck_assert_uint_eq(n, BASE64_LEN(len));
		ck_assert_uint_eq(base64url_decode(text, n, back, sizeof(back)), len);
		ck_assert_mem_eq(back, in, len);
		n = base64_encode(in, len, text, sizeof(text));
		ck_assert_uint_eq(base64_decode(text, n, back, len), len);
		ck_assert_mem_eq(back, in, len);
	}
}
END_TEST

/* ---- hex --------------------------------------------------------------------------------- */

START_TEST(test_hex)
{
	const unsigned char in[] = { 0x00, 0x01, 0xab, 0xcd, 0xef, 0xff };
	unsigned char back[6];
	char out[13];
	hex_encode(in, sizeof(in), out);
	ck_assert_str_eq(out, "0001abcdefff");
	ck_assert(hex_decode("0001ABCDefFF", 12, back, sizeof(back)));
	ck_assert_mem_eq(back, in, sizeof(in));
	ck_assert(!hex_decode("0001abcdeff", 11, back, sizeof(back)));
	ck_assert(!hex_decode("0001abcdefgf", 12, back, sizeof(back)));
	ck_assert(!hex_decode("00 1", 4, back, sizeof(back)));
	ck_assert(!hex_decode("0001abcdefff00", 14, back, sizeof(back)));
	char bytea[BYTEA_TEXT_MAX(sizeof(in))];
	hex_encode_bytea(in, sizeof(in), bytea);
	ck_assert_str_eq(bytea, "\\x0001abcdefff");
	hex_encode_bytea(in, 0, bytea);
	ck_assert_str_eq(bytea, "\\x");
}
END_TEST

Suite *make_suite_encoding(void)
{
	Suite *s = suite_create("encoding");
	TCase *tc = tcase_create("base62");
	tcase_add_test(tc, test_base62_vectors);
	tcase_add_test(tc, test_base62_leading_zero_bytes);
	tcase_add_test(tc, test_base62_too_wide);
	tcase_add_test(tc, test_base62_decode);
	tcase_add_test(tc, test_base62_decode_errors);
	tcase_add_test(tc, test_base62_round_trip);
	tcase_add_test(tc, test_base62_char);
	suite_add_tcase(s, tc);

	tc = tcase_create("base32");
	int nvec = (int)(sizeof(rfc4648) / sizeof(rfc4648[0]));
	tcase_add_loop_test(tc, test_base32_rfc4648_encode, 0, nvec);
	tcase_add_loop_test(tc, test_base32_rfc4648_decode, 0, nvec);
	tcase_add_test(tc, test_base32_decode_lenient);
	tcase_add_test(tc, test_base32_decode_errors);
	tcase_add_test(tc, test_base32_encode_small_buffer);
	tcase_add_test(tc, test_base32_round_trip);
	suite_add_tcase(s, tc);

	tc = tcase_create("base64");
	int nb64 = (int)(sizeof(b64_vectors) / sizeof(b64_vectors[0]));
	tcase_add_loop_test(tc, test_base64_vectors, 0, nb64);
	tcase_add_test(tc, test_base64_strict);
	tcase_add_test(tc, test_base64_buffers);
	tcase_add_test(tc, test_base64_round_trip);
	suite_add_tcase(s, tc);

	tc = tcase_create("hex");
	tcase_add_test(tc, test_hex);
	suite_add_tcase(s, tc);
	return s;
}
