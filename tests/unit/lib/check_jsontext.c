/* Unit tests of lib/jsontext.c: UTF-8 (Markus Kuhn's stress cases), strict JSON, and the
 * check both the webhook and the admin side run on every JSON body. */
#include "suites.h"

#include "lib/jsontext.h"

#include <stdlib.h>
#include <string.h>

/* ---- UTF-8 ------------------------------------------------------------------------------ */

/* Checks s both as a whole and embedded at every offset of a longer ASCII text, so that the
 * eight-byte fast path meets it at every alignment. */
static bool utf8(const char *s, size_t len)
{
	bool whole = jsontext_utf8_valid((const unsigned char *)s, len);
	unsigned char buf[64];
	ck_assert_uint_le(len, 32);
	for (size_t off = 0; off < 16; off++) {
		memset(buf, 'a', sizeof(buf));
		memcpy(buf + off, s, len);
		ck_assert_msg(jsontext_utf8_valid(buf, sizeof(buf)) == whole,
			      "offset %zu disagrees", off);
	}
	return whole;
}

#define UTF8(lit) utf8(lit, sizeof(lit) - 1)

START_TEST(test_utf8_valid)
{
	ck_assert(jsontext_utf8_valid((const unsigned char *)"", 0));
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
	ck_assert(jsontext_utf8_valid(buf, len));
	for (size_t i = 0; i < ulen; i++) {
		unsigned char saved = buf[len / 2 + i];
		buf[len / 2 + i] = 0xff;
		ck_assert(!jsontext_utf8_valid(buf, len));
		buf[len / 2 + i] = 0;
		ck_assert(!jsontext_utf8_valid(buf, len));
		buf[len / 2 + i] = saved;
	}
	/* The length bounds the scan: a truncated final sequence is refused. */
	ck_assert(jsontext_utf8_valid(buf, 11));
	ck_assert(!jsontext_utf8_valid(buf, 13));
	free(buf);
}
END_TEST

/* ---- strict JSON ------------------------------------------------------------------------ */

static bool json(const char *s)
{
	return jsontext_grammar_valid(s, strlen(s));
}

START_TEST(test_json_valid)
{
	const char *good[] = {
		"{}",
		"[]",
		"0",
		"-0",
		"1.5e10",
		"-12.25E-3",
		"1e+2",
		"\"\"",
		"true",
		"false",
		"null",
		" \t\r\n{ \"a\" : [ 1 , { } , \"x\" ] } \n",
		"\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\uD83D\\ude00\"",
		"{\"a\":{\"b\":{\"c\":[[[]]]}}}",
		"\"\xc3\xa9\"",
		"\"\\u0001\"",
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(json(good[i]), "%s refused", good[i]);
}
END_TEST

START_TEST(test_json_invalid)
{
	const char *bad[] = {
		"",
		" ",
		"{",
		"}",
		"[1,]",
		"[,1]",
		"{\"a\":1,}",
		"{\"a\" 1}",
		"{a:1}",
		"{'a':1}",
		"{1:1}",
		"01",
		"+1",
		".5",
		"1.",
		"1e",
		"1e+",
		"-",
		"0x10",
		"NaN",
		"Infinity",
		"tru",
		"nul",
		"truex",
		"{} {}",
		"{}x",
		"[1 2]",
		"\"abc",
		"\"a\\x\"",
		"\"\\u12\"",
		"\"\\u12G4\"",
		"\"\\u0000\"",
		"\"a\\u0000b\"",
		"{\"\\u0000\":1}",
		"\"\\uD800\"",
		"\"\\uDC00\"",
		"\"\\uD800x\"",
		"\"\\uD800\\u0041\"",
		"\"\\uD800\\uD800\"",
		"\"tab\there\"",
		"\"nl\nhere\"",
		"\x01{}",
		"{}\x0b",
		"[1]\f",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!json(bad[i]), "%s accepted", bad[i]);
	/* An escaped backslash before "u0000" is just text. */
	ck_assert(json("\"\\\\u0000\""));
	/* The length bounds the scan: nothing is read past it. */
	ck_assert(!jsontext_grammar_valid("{}", 1));
	ck_assert(!jsontext_grammar_valid("\"\\u00e9\"", 7));
	ck_assert(!jsontext_grammar_valid("nul", 3));
}
END_TEST

START_TEST(test_json_depth)
{
	enum { DEEP = 100000 };
	char *s = malloc(2 * DEEP + 1);
	ck_assert_ptr_nonnull(s);
	memset(s, '[', DEEP);
	memset(s + DEEP, ']', DEEP);
	s[2 * DEEP] = '\0';
	ck_assert(!jsontext_grammar_valid(s, 2 * DEEP)); /* refused, without exhausting the stack */
	ck_assert(jsontext_grammar_valid(s + DEEP - 200, 400));
	free(s);
}
END_TEST

/* ---- both ------------------------------------------------------------------------------- */

#define CHECK(lit) jsontext_check(lit, sizeof(lit) - 1)

START_TEST(test_check)
{
	ck_assert_ptr_null(CHECK("{\"name\":\"ab cd\"}"));
	ck_assert_ptr_null(CHECK("{\"name\":\"caf\xc3\xa9 \\u00e9\"}"));
	/* what cJSON would have read as "ab" or "alice" */
	ck_assert_str_eq(CHECK("{\"name\":\"ab\\u0000cd\"}"), JSONTEXT_NOT_JSON);
	ck_assert_str_eq(CHECK("{\"login\":\"alice\\u0000junk\",\"password\":\"x\"}"),
			 JSONTEXT_NOT_JSON);
	ck_assert_str_eq(CHECK("{\"name\":\"ab\x00cd\"}"), JSONTEXT_NOT_UTF8);
	ck_assert_str_eq(CHECK("{\"name\":\"\xff\"}"), JSONTEXT_NOT_UTF8);
	ck_assert_str_eq(CHECK("{\"name\":\"a\tb\"}"), JSONTEXT_NOT_JSON); /* a raw tab */
	ck_assert_str_eq(CHECK("{\"n\":01}"), JSONTEXT_NOT_JSON);
	ck_assert_str_eq(CHECK("{\"n\":1}\x0b"), JSONTEXT_NOT_JSON); /* blank to cJSON only */
	ck_assert_str_eq(CHECK(""), JSONTEXT_NOT_JSON);
}
END_TEST

Suite *make_suite_jsontext(void)
{
	Suite *s = suite_create("jsontext");
	TCase *tc = tcase_create("utf8");
	tcase_add_test(tc, test_utf8_valid);
	tcase_add_test(tc, test_utf8_invalid);
	tcase_add_test(tc, test_utf8_long_text);
	suite_add_tcase(s, tc);

	tc = tcase_create("json");
	tcase_add_test(tc, test_json_valid);
	tcase_add_test(tc, test_json_invalid);
	tcase_add_test(tc, test_json_depth);
	tcase_add_test(tc, test_check);
	suite_add_tcase(s, tc);
	return s;
}
