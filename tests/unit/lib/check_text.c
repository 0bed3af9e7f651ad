/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of lib/text.c: the rule for human-given names and titles. */
#include "suites.h"

#include "lib/text.h"

START_TEST(test_text_valid)
{
	ck_assert(text_valid("a", 1));
	ck_assert(text_valid("deploy bot", 64));
	ck_assert(text_valid("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 8)); /* 8 code points */
	ck_assert(!text_valid("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 7));
	ck_assert(text_valid("\xc2\xa0", 1)); /* U+00A0, the first after the C1 controls */
	ck_assert(text_valid("~", 1));
}
END_TEST

START_TEST(test_text_refused)
{
	ck_assert(!text_valid("", 64)); /* at least one character */
	ck_assert(!text_valid("tab\there", 64));
	ck_assert(!text_valid("line\n", 64));
	ck_assert(!text_valid("\x1f", 64));
	ck_assert(!text_valid("\x7f", 64));	/* DEL */
	ck_assert(!text_valid("\xc2\x80", 64)); /* U+0080, C1 */
	ck_assert(!text_valid("\xc2\x9f", 64)); /* U+009F, C1 */
	ck_assert(!text_valid("bad \xff", 64));
	ck_assert(!text_valid("cut \xe2\x82", 64));
	ck_assert(!text_valid("\xc0\xaf", 64));	    /* overlong */
	ck_assert(!text_valid("\xed\xa0\x80", 64)); /* surrogate */
}
END_TEST

Suite *make_suite_text(void)
{
	Suite *s = suite_create("text");
	TCase *tc = tcase_create("text_valid");
	tcase_add_test(tc, test_text_valid);
	tcase_add_test(tc, test_text_refused);
	suite_add_tcase(s, tc);
	return s;
}
