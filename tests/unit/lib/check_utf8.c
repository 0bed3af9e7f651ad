/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of lib/utf8.c: validation (Markus Kuhn's stress cases, at every alignment of the
 * eight-byte fast path), decoding to code points and counting them. */
#include "suites.h"

#include "lib/utf8.h"

#include <stdlib.h>
#include <string.h>

/* ---- utf8_valid ------------------------------------------------------------------------- */

/* Checks s both as a whole and embedded at every offset of a longer ASCII text, so that the
 * eight-byte fast path meets it at every alignment. */
static bool utf8(const char *s, size_t len)
{
	bool whole = utf8_valid((const unsigned char *)s, len);
	unsigned char buf[64];
	ck_assert_uint_le(len, 32);
	for (size_t off = 0; off < 16; off++) {
		memset(buf, 'a', sizeof(buf));
		memcpy(buf + off, s, len);
		ck_assert_msg(utf8_valid(buf, sizeof(buf)) == whole, "offset %zu disagrees", off);
	}
	return whole;
}

#define UTF8(lit) utf8(lit, sizeof(lit) - 1)

START_TEST(test_utf8_valid)
{
	ck_assert(utf8_valid((const unsigned char *)"", 0));
	ck_assert(UTF8("hello, world"));
	ck_assert(UTF8("\x7f"));
	ck_assert(UTF8("\xc2\x80"));	     /* U+0080, first 2-byte */
	ck_assert(UTF8("\xdf\xbf"));	     /* U+07FF */
	ck_assert(UTF8("\xe0\xa0\x80"));     /* U+0800, first 3-byte */
	ck_assert(UTF8("\xed\x9f\xbf"));     /* U+D7FF, just below the surrogates */
	ck_assert(UTF8("\xee\x80\x80"));     /* U+E000, just above them */
	ck_assert(UTF8("\xef\xbf\xbd"));     /* U+FFFD */
	ck_assert(UTF8("\xef\xbf\xbf"));     /* U+FFFF: a noncharacter, but valid UTF-8 */
	ck_assert(UTF8("\xf0\x90\x80\x80")); /* U+10000, first 4-byte */
	ck_assert(UTF8("\xf0\x9f\x98\x80")); /* U+1F600 */
	ck_assert(UTF8("\xf4\x8f\xbf\xbf")); /* U+10FFFF, the last */
	ck_assert(UTF8("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5")); /* Kuhn's "kosme" */
	ck_assert(UTF8("\xef\xbb\xbf{}")); /* a BOM is a character like any other */
}
END_TEST

START_TEST(test_utf8_invalid)
{
	ck_assert(!UTF8("\x00"));
	ck_assert(!UTF8("abc\x00"));
	ck_assert(!UTF8("\x80")); /* lone continuation bytes */
	ck_assert(!UTF8("\xbf"));
	ck_assert(!UTF8("\x80\xbf\x80"));
	ck_assert(!UTF8("\xc0 ")); /* lone lead bytes followed by a space */
	ck_assert(!UTF8("\xe0 "));
	ck_assert(!UTF8("\xf0 "));
	ck_assert(!UTF8("\xc2")); /* truncated sequences */
	ck_assert(!UTF8("\xe0\xa0"));
	ck_assert(!UTF8("\xf0\x90\x80"));
	ck_assert(!UTF8("\xf4\x8f\xbf"));
	ck_assert(!UTF8("\xe1\x80\x41"));     /* bad third byte */
	ck_assert(!UTF8("\xf1\x80\x80\x41")); /* bad fourth byte */
	ck_assert(!UTF8("\xc0\xaf"));	      /* overlong '/' in 2, 3 and 4 bytes */
	ck_assert(!UTF8("\xe0\x80\xaf"));
	ck_assert(!UTF8("\xf0\x80\x80\xaf"));
	ck_assert(!UTF8("\xc1\xbf")); /* maximal overlongs */
	ck_assert(!UTF8("\xe0\x9f\xbf"));
	ck_assert(!UTF8("\xf0\x8f\xbf\xbf"));
	ck_assert(!UTF8("\xc0\x80"));		      /* overlong NUL */
	ck_assert(!UTF8("\xed\xa0\x80"));	      /* U+D800 */
	ck_assert(!UTF8("\xed\xad\xbf"));	      /* U+DB7F */
	ck_assert(!UTF8("\xed\xbf\xbf"));	      /* U+DFFF */
	ck_assert(!UTF8("\xed\xa0\x80\xed\xb0\x80")); /* a surrogate pair, CESU-style */
	ck_assert(!UTF8("\xf4\x90\x80\x80"));	      /* U+110000 */
	ck_assert(!UTF8("\xf7\xbf\xbf\xbf"));	      /* U+1FFFFF */
	ck_assert(!UTF8("\xf8\x88\x80\x80\x80"));     /* 5- and 6-byte forms */
	ck_assert(!UTF8("\xfc\x84\x80\x80\x80\x80"));
	ck_assert(!UTF8("\xfe"));
	ck_assert(!UTF8("\xff"));
	ck_assert(!UTF8("\xff\xfe"));
}
END_TEST

START_TEST(test_utf8_long_text)
{
	/* Every code point class in a long buffer, then a single corruption at each position. */
	static const char unit[] = "abc \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 0123456789";
	enum { REPS = 40 };
	size_t ulen = sizeof(unit) - 1, len = ulen * REPS;
	unsigned char *buf = malloc(len);
	ck_assert_ptr_nonnull(buf);
	for (int i = 0; i < REPS; i++)
		memcpy(buf + (size_t)i * ulen, unit, ulen);
	ck_assert(utf8_valid(buf, len));
	for (size_t i = 0; i < ulen; i++) {
		unsigned char saved = buf[len / 2 + i];
		buf[len / 2 + i] = 0xff;
		ck_assert(!utf8_valid(buf, len));
		buf[len / 2 + i] = 0;
		ck_assert(!utf8_valid(buf, len));
		buf[len / 2 + i] = saved;
	}
	/* The length bounds the scan: a truncated final sequence is refused. */
	ck_assert(utf8_valid(buf, 11));
	ck_assert(!utf8_valid(buf, 13));
	free(buf);
}
END_TEST

/* ---- utf8_decode ------------------------------------------------------------------------ */

static uint32_t decode(const char *s, size_t len, size_t want_len)
{
	uint32_t cp = 0xdeadbeef;
	ck_assert_uint_eq(utf8_decode((const unsigned char *)s, len, &cp), want_len);
	return cp;
}

#define DECODE(lit, n) decode(lit, sizeof(lit) - 1, n)

START_TEST(test_decode_code_points)
{
	ck_assert_uint_eq(DECODE("A", 1), 0x41);
	ck_assert_uint_eq(decode("", 1, 1), 0); /* NUL is a sequence; utf8_valid refuses it */
	ck_assert_uint_eq(DECODE("\x7f", 1), 0x7f);
	ck_assert_uint_eq(DECODE("\xc2\x80", 2), 0x80);
	ck_assert_uint_eq(DECODE("\xc2\x9f", 2), 0x9f); /* a C1 control */
	ck_assert_uint_eq(DECODE("\xdf\xbf", 2), 0x7ff);
	ck_assert_uint_eq(DECODE("\xe0\xa0\x80", 3), 0x800);
	ck_assert_uint_eq(DECODE("\xe2\x82\xac", 3), 0x20ac);
	ck_assert_uint_eq(DECODE("\xed\x9f\xbf", 3), 0xd7ff);
	ck_assert_uint_eq(DECODE("\xef\xbf\xbf", 3), 0xffff);
	ck_assert_uint_eq(DECODE("\xf0\x90\x80\x80", 4), 0x10000);
	ck_assert_uint_eq(DECODE("\xf0\x9f\x98\x80", 4), 0x1f600);
	ck_assert_uint_eq(DECODE("\xf4\x8f\xbf\xbf", 4), 0x10ffff);
	/* Only the first sequence is read. */
	ck_assert_uint_eq(DECODE("\xc3\xa9tail", 2), 0xe9);
}
END_TEST

START_TEST(test_decode_invalid)
{
	uint32_t cp;
	ck_assert_uint_eq(utf8_decode((const unsigned char *)"A", 0, &cp), 0);
	DECODE("\x80", 0);
	DECODE("\xc0\x80", 0);
	DECODE("\xc1\xbf", 0);
	DECODE("\xe0\x9f\xbf", 0);
	DECODE("\xed\xa0\x80", 0);
	DECODE("\xf0\x8f\xbf\xbf", 0);
	DECODE("\xf4\x90\x80\x80", 0);
	DECODE("\xf5\x80\x80\x80", 0);
	DECODE("\xe2\x82", 0);	       /* truncated by avail ... */
	decode("\xe2\x82\xac", 2, 0);  /* ... even when more bytes follow in memory */
	DECODE("\xe2\x82\x41", 0);     /* bad continuation */
	DECODE("\xf0\x9f\x98\xc0", 0); /* bad last continuation */
}
END_TEST

/* ---- utf8_valid_str and utf8_count ------------------------------------------------------- */

START_TEST(test_valid_str)
{
	ck_assert(utf8_valid_str(""));
	ck_assert(utf8_valid_str("plain"));
	ck_assert(utf8_valid_str("caf\xc3\xa9 \xf0\x9f\x98\x80"));
	ck_assert(!utf8_valid_str("caf\xc3"));
	ck_assert(!utf8_valid_str("\xed\xa0\x80"));
	ck_assert(!utf8_valid_str("a\xff"));
}
END_TEST

START_TEST(test_count)
{
	ck_assert_uint_eq(utf8_count(""), 0);
	ck_assert_uint_eq(utf8_count("abc"), 3);
	ck_assert_uint_eq(utf8_count("caf\xc3\xa9"), 4);
	ck_assert_uint_eq(utf8_count("\xe2\x82\xac\xf0\x9f\x98\x80"), 2);
	/* Not UTF-8: lead and ASCII bytes count, continuation bytes do not. */
	ck_assert_uint_eq(utf8_count("\xff\x80\x80"), 1);
}
END_TEST

Suite *make_suite_utf8(void)
{
	Suite *s = suite_create("utf8");
	TCase *tc = tcase_create("valid");
	tcase_add_test(tc, test_utf8_valid);
	tcase_add_test(tc, test_utf8_invalid);
	tcase_add_test(tc, test_utf8_long_text);
	tcase_add_test(tc, test_valid_str);
	suite_add_tcase(s, tc);

	tc = tcase_create("decode");
	tcase_add_test(tc, test_decode_code_points);
	tcase_add_test(tc, test_decode_invalid);
	tcase_add_test(tc, test_count);
	suite_add_tcase(s, tc);
	return s;
}
