/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of lib/jsontext.c: strict JSON, and the check both the webhook and the admin side
 * run on every JSON body (its UTF-8 half is lib/utf8.c's, tested in check_utf8.c). */
#include "suites.h"

#include "lib/jsontext.h"

#include <stdlib.h>
#include <string.h>

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
	TCase *tc = tcase_create("json");
	tcase_add_test(tc, test_json_valid);
	tcase_add_test(tc, test_json_invalid);
	tcase_add_test(tc, test_json_depth);
	tcase_add_test(tc, test_check);
	suite_add_tcase(s, tc);
	return s;
}
