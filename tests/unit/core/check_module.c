/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of core/module.c: the endpoint table (paths, SQL names, which take a message) and
 * the channel and bot name rule. */
#include "suites.h"

#include "core/module.h"

#include <stdio.h>
#include <string.h>

START_TEST(test_sql_names)
{
	ck_assert_str_eq(module_sql_name(MODULE_CHANNEL), "channel");
	ck_assert_str_eq(module_sql_name(MODULE_BOT_INCOMING), "bot_incoming");
	ck_assert_str_eq(module_sql_name(MODULE_BOT_MESSAGE), "bot_message");
	ck_assert_str_eq(module_sql_name(MODULE_EXTENSION), "extension");
	ck_assert_str_eq(module_sql_name((enum module_kind)MODULE_COUNT), "invalid");
	ck_assert_str_eq(module_sql_name((enum module_kind) - 1), "invalid");
}
END_TEST

static const char *path_of(enum module_kind m, const char *target, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s", module_path_prefix(m), target, module_path_suffix(m));
	return buf;
}

START_TEST(test_paths)
{
	char buf[128];
	ck_assert_str_eq(path_of(MODULE_CHANNEL, "ops", buf, sizeof(buf)),
			 "/api/v2/channelsbyname/ops/message");
	ck_assert_str_eq(path_of(MODULE_BOT_INCOMING, "deploy", buf, sizeof(buf)),
			 "/api/v2/bots/deploy/incoming");
	ck_assert_str_eq(path_of(MODULE_BOT_MESSAGE, "deploy", buf, sizeof(buf)),
			 "/api/v2/bots/deploy/message");
	ck_assert_str_eq(path_of(MODULE_EXTENSION, "app_x", buf, sizeof(buf)),
			 "/api/v2/applications/app_x/incoming");
	ck_assert_str_eq(path_of((enum module_kind)MODULE_COUNT, "x", buf, sizeof(buf)), "x");
}
END_TEST

START_TEST(test_is_message)
{
	ck_assert(module_is_message(MODULE_CHANNEL));
	ck_assert(module_is_message(MODULE_BOT_MESSAGE));
	ck_assert(!module_is_message(MODULE_BOT_INCOMING));
	ck_assert(!module_is_message(MODULE_EXTENSION));
	ck_assert(!module_is_message((enum module_kind)MODULE_COUNT));
}
END_TEST

static bool fold(const char *in, char *out)
{
	size_t len = strlen(in);
	memcpy(out, in, len + 1);
	return module_name_fold(out, len);
}

START_TEST(test_name_fold)
{
	char buf[MODULE_NAME_MAX + 8];
	char longest[MODULE_NAME_MAX + 2];

	ck_assert(fold("Ops_Team_2", buf));
	ck_assert_str_eq(buf, "ops_team_2");
	ck_assert(fold("a", buf));
	memset(longest, 'Z', MODULE_NAME_MAX);
	longest[MODULE_NAME_MAX] = '\0';
	ck_assert(fold(longest, buf));
	ck_assert_int_eq(buf[0], 'z');
	longest[MODULE_NAME_MAX] = 'z';
	longest[MODULE_NAME_MAX + 1] = '\0';
	ck_assert(!fold(longest, buf));
	ck_assert(!fold("", buf));
	ck_assert(!fold("ops-team", buf));
	ck_assert(!fold("ops team", buf));
	ck_assert(!fold("caf\xc3\xa9", buf));
	ck_assert(!fold("a/b", buf));
	/* Only len bytes are read. */
	strcpy(buf, "OK!");
	ck_assert(module_name_fold(buf, 2));
	ck_assert_str_eq(buf, "ok!");
}
END_TEST

Suite *make_suite_module(void)
{
	Suite *s = suite_create("module");
	TCase *tc = tcase_create("endpoints");
	tcase_add_test(tc, test_sql_names);
	tcase_add_test(tc, test_paths);
	tcase_add_test(tc, test_is_message);
	suite_add_tcase(s, tc);

	tc = tcase_create("names");
	tcase_add_test(tc, test_name_fold);
	suite_add_tcase(s, tc);
	return s;
}
