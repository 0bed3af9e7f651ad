/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of lib/percent.c: escapes, the flags, and values that do not fit. */
#include "suites.h"

#include "lib/percent.h"

#include <string.h>

static enum percent_result dec(const char *in, unsigned int flags, char *out, size_t cap, size_t *n)
{
	return percent_decode(in, strlen(in), flags, out, cap, n);
}

START_TEST(test_escape)
{
	ck_assert_int_eq(percent_escape("%41", 3), 0x41);
	ck_assert_int_eq(percent_escape("%fF", 3), 0xff);
	ck_assert_int_eq(percent_escape("%00", 3), 0);
	ck_assert_int_eq(percent_escape("%41", 2), -1); /* cut short by avail */
	ck_assert_int_eq(percent_escape("%4g", 3), -1);
	ck_assert_int_eq(percent_escape("%g4", 3), -1);
	ck_assert_int_eq(percent_escape("A41", 3), -1);
	ck_assert_int_eq(percent_escape("", 0), -1);
}
END_TEST

START_TEST(test_decode)
{
	char out[32];
	size_t n = 99;
	ck_assert_int_eq(dec("a%20b%2Fc", 0, out, sizeof(out), &n), PERCENT_OK);
	ck_assert_str_eq(out, "a b/c");
	ck_assert_uint_eq(n, 5);
	ck_assert_int_eq(dec("a+b", 0, out, sizeof(out), &n), PERCENT_OK);
	ck_assert_str_eq(out, "a+b");
	ck_assert_int_eq(dec("a+b%2B", PERCENT_PLUS_SPACE, out, sizeof(out), &n), PERCENT_OK);
	ck_assert_str_eq(out, "a b+");
	ck_assert_int_eq(dec("", 0, out, sizeof(out), &n), PERCENT_OK);
	ck_assert_str_eq(out, "");
	ck_assert_uint_eq(n, 0);
	/* Validation only. */
	ck_assert_int_eq(dec("%e2%82%ac", 0, NULL, 0, &n), PERCENT_OK);
	ck_assert_uint_eq(n, 3);
}
END_TEST

START_TEST(test_decode_refusals)
{
	char out[32];
	size_t n = 99;
	ck_assert_int_eq(dec("a%", 0, out, sizeof(out), &n), PERCENT_BAD);
	ck_assert_int_eq(dec("a%2", 0, out, sizeof(out), &n), PERCENT_BAD);
	ck_assert_int_eq(dec("%zz", 0, out, sizeof(out), &n), PERCENT_BAD);
	ck_assert_int_eq(dec("a%00b", 0, out, sizeof(out), &n), PERCENT_NUL);
	ck_assert_uint_eq(n, 99); /* untouched on a refusal */
	/* Control characters only with PERCENT_REFUSE_CTL, encoded or literal. */
	ck_assert_int_eq(dec("a%0Ab", 0, out, sizeof(out), &n), PERCENT_OK);
	ck_assert_int_eq(dec("a%0Ab", PERCENT_REFUSE_CTL, out, sizeof(out), &n), PERCENT_CTL);
	ck_assert_int_eq(dec("a\tb", PERCENT_REFUSE_CTL, out, sizeof(out), &n), PERCENT_CTL);
	ck_assert_int_eq(dec("a%7f", PERCENT_REFUSE_CTL, out, sizeof(out), &n), PERCENT_CTL);
	ck_assert_int_eq(
		dec("a+%20", PERCENT_REFUSE_CTL | PERCENT_PLUS_SPACE, out, sizeof(out), &n),
		PERCENT_OK);
}
END_TEST

START_TEST(test_decode_too_long)
{
	char out[4];
	size_t n;
	ck_assert_int_eq(dec("abc", 0, out, sizeof(out), &n), PERCENT_OK);
	ck_assert_str_eq(out, "abc");
	ck_assert_uint_eq(n, 3);
	/* Counted whole, stored cut to fit: n > cap - 1 says it did not fit. */
	ck_assert_int_eq(dec("ab%63de", 0, out, sizeof(out), &n), PERCENT_OK);
	ck_assert_str_eq(out, "abc");
	ck_assert_uint_eq(n, 5);
	/* The part that does not fit is still checked. */
	ck_assert_int_eq(dec("abcd%zz", 0, out, sizeof(out), &n), PERCENT_BAD);
}
END_TEST

Suite *make_suite_percent(void)
{
	Suite *s = suite_create("percent");
	TCase *tc = tcase_create("decode");
	tcase_add_test(tc, test_escape);
	tcase_add_test(tc, test_decode);
	tcase_add_test(tc, test_decode_refusals);
	tcase_add_test(tc, test_decode_too_long);
	suite_add_tcase(s, tc);
	return s;
}
