/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of core/redact.c: tokens and appkeys recognised by their format wherever they
 * stand (with or without the prefix, percent-encoded, inside longer words), nothing else
 * touched, bounded copies that never leave most of a token behind, and log_msg using it. */
#include "runner.h"

#include "core/log.h"
#include "core/redact.h"
#include "core/token.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A real token (its checksum holds; see check_token.c) and an appkey of the right shape. */
#define TOK "hgt_Hookgate0123456789abcdefXYZ2eun9i"
#define TOK_BODY "Hookgate0123456789abcdefXYZ2eun9i"
#define APPKEY "hga_0123456789abcdefghijABCDEFGHIJ01"

static char buf[4096];

/* redact_secrets on a copy of text; the result in buf. */
static const char *redacted(const char *text)
{
	snprintf(buf, sizeof(buf), "%s", text);
	redact_secrets(buf, false);
	return buf;
}

START_TEST(test_token_anywhere)
{
	ck_assert_str_eq(redacted(TOK), REDACT_TOKEN);
	ck_assert_str_eq(redacted("a " TOK " b"), "a " REDACT_TOKEN " b");
	/* the path forms a client may use by mistake: none is a query string */
	ck_assert_str_eq(redacted("/api/v2/channelsbyname/general/message&zapikey=" TOK),
			 "/api/v2/channelsbyname/general/message&zapikey=" REDACT_TOKEN);
	ck_assert_str_eq(redacted("/x/message;zapikey=" TOK), "/x/message;zapikey=" REDACT_TOKEN);
	ck_assert_str_eq(redacted("/x/message%3Fzapikey=" TOK),
			 "/x/message%3Fzapikey=" REDACT_TOKEN);
	ck_assert_str_eq(redacted("/x/message#zapikey=" TOK), "/x/message#zapikey=" REDACT_TOKEN);
	/* without its prefix, with another one, and inside a longer word */
	ck_assert_str_eq(redacted("k=" TOK_BODY), "k=" REDACT_TOKEN);
	ck_assert_str_eq(redacted("HGT_" TOK_BODY), "HGT_" REDACT_TOKEN);
	ck_assert_str_eq(redacted("xyz" TOK_BODY "xyz"), "xyz" REDACT_TOKEN "xyz");
	ck_assert_str_eq(redacted("abc" TOK "def"), "abc" REDACT_TOKEN "def");
	/* two of them, and the count */
	snprintf(buf, sizeof(buf), "%s", TOK "/" TOK_BODY " " APPKEY);
	ck_assert_uint_eq(redact_secrets(buf, false), 3);
	ck_assert_str_eq(buf, REDACT_TOKEN "/" REDACT_TOKEN " " REDACT_APPKEY);
}
END_TEST

START_TEST(test_token_percent_encoded)
{
	/* '_' and 'H' escaped, and the whole body escaped in lowercase hex */
	ck_assert_str_eq(redacted("/m&zapikey=hgt%5F%48ookgate0123456789abcdefXYZ2eun9i?"),
			 "/m&zapikey=" REDACT_TOKEN "?");
	char enc[256] = "q=";
	for (const char *p = TOK_BODY; *p; p++)
		snprintf(enc + strlen(enc), sizeof(enc) - strlen(enc), "%%%02x", (unsigned char)*p);
	ck_assert_str_eq(redacted(enc), "q=" REDACT_TOKEN);
}
END_TEST

START_TEST(test_not_a_token)
{
	static const char *const keep[] = {
		"hgt_Hookgate0123456789abcdefXYZ2eun9j",  /* one checksum character off */
		"hgt_hookgate0123456789abcdefXYZ2eun9i",  /* one random character off */
		"hgt_Hookgate0123456789abcdefXYZ2eun9",	  /* one short */
		"hgt_Hookgate0123456789abcd-efXYZ2eun9i", /* broken by a '-' */
		"tk_0123456789abcdef",			  /* public ids are not secret */
		"app_0123456789abcdef",
		"hga_0123456789abcdefghijABCDEFGHIJ0", /* an appkey one short */
		"Hga_0123456789abcdefghijABCDEFGHIJ01",
		"GET /admin/api/tokens 200 12 3.4ms \"curl/8.0\"",
		"%",
		"%4",
		"%zz",
		"hg",
		"",
	};
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
		ck_assert_str_eq(redacted(keep[i]), keep[i]);
		ck_assert(!redact_has_secret(keep[i]));
	}
}
END_TEST

START_TEST(test_appkey)
{
	ck_assert_str_eq(redacted("appkey=" APPKEY "&x"), "appkey=" REDACT_APPKEY "&x");
	/* no checksum says where it ends: the rest of the word goes with it */
	ck_assert_str_eq(redacted(APPKEY "more"), REDACT_APPKEY);
	ck_assert_str_eq(redacted("hga%5F0123456789abcdefghijABCDEFGHIJ01"), REDACT_APPKEY);
	ck_assert(redact_has_secret("x " APPKEY));
	ck_assert(redact_has_secret("/" TOK_BODY));
}
END_TEST

/* Random base62 text of any length holds no token by chance (a 32-bit checksum), and long
 * runs of letters cost one pass, not one per character squared. */
START_TEST(test_long_words)
{
	static const char alphabet[] =
		"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	char text[3000];
	srand(42);
	for (size_t i = 0; i + 1 < sizeof(text); i++)
		text[i] = alphabet[rand() % 62];
	text[sizeof(text) - 1] = '\0';
	ck_assert_str_eq(redacted(text), text);
	memcpy(text + 1000, TOK, strlen(TOK));
	snprintf(buf, sizeof(buf), "%s", text);
	ck_assert_uint_eq(redact_secrets(buf, false), 1);
	ck_assert_ptr_null(strstr(buf, TOK_BODY));
	ck_assert_uint_eq(strlen(buf), sizeof(text) - 1 - strlen(TOK) + strlen(REDACT_TOKEN));
}
END_TEST

START_TEST(test_truncated)
{
	/* most of a token, cut by whoever produced the text: the cut word is dropped */
	snprintf(buf, sizeof(buf), "%s", "path /m&zapikey=hgt_Hookgate0123456789abcdefXY");
	ck_assert_uint_eq(redact_secrets(buf, true), 0);
	ck_assert_str_eq(buf, "path /m&zapikey=");
	snprintf(buf, sizeof(buf), "%s", "ends in %4");
	redact_secrets(buf, true);
	ck_assert_str_eq(buf, "ends in ");
	/* text that was not cut keeps its last word */
	ck_assert_str_eq(redacted("path /m&zapikey=hgt_Hookgate0123456789abcdefXY"),
			 "path /m&zapikey=hgt_Hookgate0123456789abcdefXY");
}
END_TEST

START_TEST(test_copy)
{
	char out[24];
	redact_copy(out, sizeof(out), "ua " TOK);
	ck_assert_str_eq(out, "ua " REDACT_TOKEN);
	redact_copy(out, 16, "ua " TOK);
	ck_assert_str_eq(out, "ua "); /* the marker does not fit: nothing of the token either */
	/* a bound that falls inside a token keeps none of it */
	redact_copy(out, sizeof(out), "0123456" TOK);
	ck_assert_str_eq(out, "0123456" REDACT_TOKEN);
	redact_copy(out, 20, "0123456 " TOK);
	ck_assert_str_eq(out, "0123456 ");
	redact_copy(out, sizeof(out), "a short one");
	ck_assert_str_eq(out, "a short one");
	redact_copy(out, 8, "abcdefghij");
	ck_assert_str_eq(out, ""); /* a word cut by the bound goes */
	redact_copy(out, 8, "abc defghij");
	ck_assert_str_eq(out, "abc ");
	redact_copy(out, 1, TOK);
	ck_assert_str_eq(out, "");
}
END_TEST

/* log_msg redacts every line, whatever the caller passes, also when it cuts a long one. */
START_TEST(test_log_lines)
{
	char path[] = "/tmp/hookgate-redact-XXXXXX", long_arg[2100], text[8192];
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	close(fd);
	const struct log_options opt = { .target = path, .level = LOG_LEVEL_INFO };
	ck_assert(log_open(&opt));
	log_info("access: 127.0.0.1 \"POST /m;zapikey=%s\" 401", TOK);
	log_error("user agent %s and appkey %s", TOK_BODY, APPKEY);
	memset(long_arg, 'x', sizeof(long_arg));
	memcpy(long_arg + 2020, TOK, strlen(TOK)); /* cut by the 2 KiB line limit */
	long_arg[sizeof(long_arg) - 1] = '\0';
	log_info("%s", long_arg);
	log_close();
	long n = take_file_text(path, text, sizeof(text));
	ck_assert_int_gt(n, 0);
	ck_assert_ptr_null(strstr(text, "Hookgate0123"));
	ck_assert_ptr_null(strstr(text, "hga_"));
	ck_assert_ptr_nonnull(strstr(text, "zapikey=" REDACT_TOKEN "\" 401"));
	ck_assert_ptr_nonnull(
		strstr(text, "user agent " REDACT_TOKEN " and appkey " REDACT_APPKEY));
}
END_TEST

Suite *make_suite_redact(void)
{
	Suite *s = suite_create("redact");
	TCase *tc = tcase_create("redact");
	tcase_add_test(tc, test_token_anywhere);
	tcase_add_test(tc, test_token_percent_encoded);
	tcase_add_test(tc, test_not_a_token);
	tcase_add_test(tc, test_appkey);
	tcase_add_test(tc, test_long_words);
	tcase_add_test(tc, test_truncated);
	tcase_add_test(tc, test_copy);
	tcase_add_test(tc, test_log_lines);
	suite_add_tcase(s, tc);
	return s;
}
