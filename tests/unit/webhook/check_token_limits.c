/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of webhook/token_limits.c: a token's networks and targets parsed from PostgreSQL's
 * array text, and the per-call checks (docs/decisions/0017-token-limits.md). */
#include "suites.h"

#include "webhook/token_limits.h"

START_TEST(no_limits_allow_everything)
{
	struct token_limits *l = (struct token_limits *)1;
	ck_assert(token_limits_parse(NULL, NULL, &l));
	ck_assert_ptr_null(l);
	ck_assert(token_limits_source_ok(NULL, "203.0.113.7"));
	ck_assert(token_limits_target_ok(NULL, MODULE_CHANNEL, "alerts"));
}
END_TEST

START_TEST(networks_match_by_prefix)
{
	struct token_limits *l;
	ck_assert(token_limits_parse("{10.0.0.0/8,192.0.2.7/32,2001:db8::/32}", NULL, &l));
	ck_assert_int_eq(l->nnets, 3);
	ck_assert(token_limits_source_ok(l, "10.200.3.4"));
	ck_assert(token_limits_source_ok(l, "192.0.2.7"));
	ck_assert(!token_limits_source_ok(l, "192.0.2.8"));
	ck_assert(!token_limits_source_ok(l, "127.0.0.1"));
	ck_assert(token_limits_source_ok(l, "2001:db8:1::5"));
	ck_assert(!token_limits_source_ok(l, "2001:db9::5"));
	ck_assert(!token_limits_source_ok(l, NULL));
	/* Any target: only networks were set. */
	ck_assert(token_limits_target_ok(l, MODULE_BOT_MESSAGE, "x"));
	token_limits_unref(l);
}
END_TEST

START_TEST(odd_prefixes_and_families)
{
	struct token_limits *l;
	ck_assert(token_limits_parse("{127.0.0.0/9,::/0}", NULL, &l));
	ck_assert(token_limits_source_ok(l, "127.127.255.255"));
	ck_assert(!token_limits_source_ok(l, "127.128.0.1"));
	ck_assert(token_limits_source_ok(l, "::1")); /* ::/0: every IPv6 address, no IPv4 one */
	ck_assert(!token_limits_source_ok(l, "10.0.0.1"));
	token_limits_unref(l);
}
END_TEST

START_TEST(bad_values_are_refused)
{
	struct token_limits *l;
	struct token_net n;
	struct token_target tg;
	ck_assert(!token_net_parse("10.0.0.1/8", &n)); /* host bits set, as cidr refuses */
	ck_assert(!token_net_parse("10.0.0.0/33", &n));
	ck_assert(!token_net_parse("nonsense", &n));
	ck_assert(token_net_parse("10.0.0.1", &n) && n.bits == 32);
	ck_assert(!token_target_parse("channel:Alerts", &tg));
	ck_assert(!token_target_parse("queue:x", &tg));
	ck_assert(!token_target_parse("extension:app_short", &tg));
	ck_assert(!token_limits_parse("{}", NULL, &l));
	ck_assert(!token_limits_parse(NULL, "{channel:}", &l));
}
END_TEST

START_TEST(targets_name_module_and_name)
{
	struct token_limits *l;
	ck_assert(token_limits_parse(
		NULL, "{channel:alerts,bot:deploybot,extension:app_0123456789abcdef}", &l));
	ck_assert(token_limits_target_ok(l, MODULE_CHANNEL, "alerts"));
	ck_assert(!token_limits_target_ok(l, MODULE_CHANNEL, "general"));
	ck_assert(!token_limits_target_ok(l, MODULE_CHANNEL, "deploybot"));
	ck_assert(token_limits_target_ok(l, MODULE_BOT_INCOMING, "deploybot"));
	ck_assert(token_limits_target_ok(l, MODULE_BOT_MESSAGE, "deploybot"));
	ck_assert(token_limits_target_ok(l, MODULE_EXTENSION, "app_0123456789abcdef"));
	ck_assert(token_limits_source_ok(l, "198.51.100.1"));
	token_limits_ref(l);
	token_limits_unref(l);
	ck_assert_int_eq(l->refs, 1);
	token_limits_unref(l);
}
END_TEST

Suite *make_suite_webhook_token_limits(void)
{
	Suite *s = suite_create("webhook_token_limits");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, no_limits_allow_everything);
	tcase_add_test(tc, networks_match_by_prefix);
	tcase_add_test(tc, odd_prefixes_and_families);
	tcase_add_test(tc, bad_values_are_refused);
	tcase_add_test(tc, targets_name_module_and_name);
	suite_add_tcase(s, tc);
	return s;
}
