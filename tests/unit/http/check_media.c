/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of http/syntax.c and http/media.c: token characters, media types and their
 * parameters as the webhook and admin sides read Content-Type. */
#include "suites.h"

#include "http/media.h"
#include "http/syntax.h"

#include <string.h>

START_TEST(test_tchar)
{
	const char *yes = "azAZ09!#$%&'*+-.^_`|~";
	const char *no = " \t\"(),/:;<=>?@[\\]{}\x7f\x80\xff";
	for (const char *p = yes; *p; p++)
		ck_assert_msg(http_tchar((unsigned char)*p), "%c refused", *p);
	for (const char *p = no; *p; p++)
		ck_assert_msg(!http_tchar((unsigned char)*p), "0x%02x taken", (unsigned char)*p);
	ck_assert(!http_tchar('\0'));
	ck_assert_uint_eq(http_token_len("Content-Type: x"), 12);
	ck_assert_uint_eq(http_token_len(""), 0);
	ck_assert_uint_eq(http_token_len(";a"), 0);
	ck_assert_str_eq(http_skip_ows(" \t x "), "x ");
	ck_assert_str_eq(http_skip_ows("x"), "x");
}
END_TEST

START_TEST(test_media_type_is)
{
	const char *params = NULL;
	ck_assert(http_media_type_is("application/json", "application/json", &params));
	ck_assert_str_eq(params, "");
	ck_assert(
		http_media_type_is("Application/JSON; charset=utf-8", "application/json", &params));
	ck_assert_str_eq(params, "; charset=utf-8");
	ck_assert(http_media_type_is(" \ttext/plain ;a=b", "text/plain", &params));
	ck_assert_str_eq(params, " ;a=b");
	ck_assert(http_media_type_is("text/plain\t", "text/plain", NULL));
	/* Another type, a longer one, or one run into something that is not a delimiter. */
	ck_assert(!http_media_type_is("text/html", "text/plain", &params));
	ck_assert(!http_media_type_is("application/jsonx", "application/json", &params));
	ck_assert(!http_media_type_is("application/json/x", "application/json", &params));
	ck_assert(!http_media_type_is("application/json,text/plain", "application/json", &params));
	ck_assert(!http_media_type_is("application", "application/json", &params));
	ck_assert(!http_media_type_is("", "application/json", &params));
}
END_TEST

START_TEST(test_media_params_utf8)
{
	ck_assert(http_media_params_utf8(""));
	ck_assert(http_media_params_utf8("   "));
	ck_assert(http_media_params_utf8(";"));
	ck_assert(http_media_params_utf8("; charset=utf-8"));
	ck_assert(http_media_params_utf8(";CHARSET=UTF-8"));
	ck_assert(http_media_params_utf8("; charset=\"utf-8\""));
	ck_assert(http_media_params_utf8("; charset=\"utf\\-8\"")); /* a quoted-pair */
	ck_assert(http_media_params_utf8("; a=b; c=\"d; e\"; charset=utf-8"));
	ck_assert(http_media_params_utf8("; a=\"a very long value, longer than any charset\""));
	ck_assert(!http_media_params_utf8("; charset=latin1"));
	ck_assert(!http_media_params_utf8("; charset=\"utf-8 \""));
	ck_assert(!http_media_params_utf8("; charset=utf-8-but-much-longer"));
	ck_assert(!http_media_params_utf8("; charset"));
	ck_assert(!http_media_params_utf8("; =utf-8"));
	ck_assert(!http_media_params_utf8("; a=\"unterminated"));
	ck_assert(!http_media_params_utf8("; a=\"ctl\x01\""));
	ck_assert(!http_media_params_utf8("; a="));
	ck_assert(!http_media_params_utf8("x"));
	ck_assert(!http_media_params_utf8("; a=b c"));
}
END_TEST

Suite *make_suite_http_media(void)
{
	Suite *s = suite_create("http_media");
	TCase *tc = tcase_create("syntax");
	tcase_add_test(tc, test_tchar);
	suite_add_tcase(s, tc);

	tc = tcase_create("media");
	tcase_add_test(tc, test_media_type_is);
	tcase_add_test(tc, test_media_params_utf8);
	suite_add_tcase(s, tc);
	return s;
}
