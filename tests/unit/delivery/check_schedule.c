/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of delivery/schedule.c: every step of the retry schedule and its jitter bounds,
 * the end of it, the class of every kind of status, and Retry-After in both forms. */
#include "suites.h"

#include "delivery/schedule.h"

#include <stdbool.h>

#define SEC INT64_C(1000)
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
/* 2021-02-25 15:02:10 UTC, "Thu, 25 Feb 2021 15:02:10 GMT", in unix milliseconds. */
#define NOW (INT64_C(1614265330) * SEC)

static const int64_t steps[SCHEDULE_ATTEMPTS] = {
	0,	  5 * SEC,   5 * MIN,	30 * MIN,  2 * HOUR,
	5 * HOUR, 10 * HOUR, 14 * HOUR, 20 * HOUR, 24 * HOUR,
};

/* rnd = 2^31 is the middle of the range: no jitter; 0 and 2^32 - 1 are its two ends. */
START_TEST(test_every_step)
{
	for (int i = 0; i < SCHEDULE_ATTEMPTS; i++) {
		int64_t base = steps[i];
		ck_assert_int_eq(schedule_delay_ms(i, UINT32_C(0x80000000)), base);
		ck_assert_int_eq(schedule_delay_ms(i, 0), base - base / 5);
		ck_assert_int_eq(schedule_delay_ms(i, UINT32_MAX), base + base / 5);
	}
}
END_TEST

START_TEST(test_jitter_bounds)
{
	uint32_t rnd = 12345;
	bool below = false, above = false;
	for (int n = 0; n < 20000; n++) {
		int i = n % SCHEDULE_ATTEMPTS;
		int64_t d;
		rnd = rnd * 1664525u + 1013904223u; /* any spread of values will do */
		d = schedule_delay_ms(i, rnd);
		ck_assert_int_ge(d, steps[i] - steps[i] / 5);
		ck_assert_int_le(d, steps[i] + steps[i] / 5);
		below |= d < steps[i] - steps[i] / 10;
		above |= d > steps[i] + steps[i] / 10;
	}
	/* The jitter really spreads: both outer tenths are reached. */
	ck_assert(below && above);
	ck_assert_int_eq(schedule_delay_ms(0, 0), 0);
	ck_assert_int_eq(schedule_delay_ms(0, UINT32_MAX), 0);
}
END_TEST

START_TEST(test_the_end)
{
	ck_assert_int_eq(schedule_delay_ms(SCHEDULE_ATTEMPTS, 0), -1);
	ck_assert_int_eq(schedule_delay_ms(SCHEDULE_ATTEMPTS, UINT32_MAX), -1);
	ck_assert_int_eq(schedule_delay_ms(SCHEDULE_ATTEMPTS + 1, 7), -1);
	ck_assert_int_eq(schedule_delay_ms(-1, 7), -1);
	ck_assert_int_eq(SCHEDULE_ATTEMPTS, 10);
}
END_TEST

START_TEST(test_classify)
{
	ck_assert_int_eq(schedule_classify(200), DELIVERY_DELIVERED);
	ck_assert_int_eq(schedule_classify(201), DELIVERY_DELIVERED);
	ck_assert_int_eq(schedule_classify(204), DELIVERY_DELIVERED);
	ck_assert_int_eq(schedule_classify(299), DELIVERY_DELIVERED);
	ck_assert_int_eq(schedule_classify(410), DELIVERY_GONE);
	ck_assert_int_eq(schedule_classify(429), DELIVERY_SLOW_DOWN);
	ck_assert_int_eq(schedule_classify(502), DELIVERY_SLOW_DOWN);
	ck_assert_int_eq(schedule_classify(503), DELIVERY_SLOW_DOWN);
	ck_assert_int_eq(schedule_classify(504), DELIVERY_SLOW_DOWN);
	/* Everything else fails the attempt: no answer, 1xx, redirects, other 4xx and 5xx. */
	static const long failed[] = { 0,   100, 101, 199, 300, 301, 302, 304, 307,
				       308, 400, 401, 403, 404, 408, 409, 411, 413,
				       428, 430, 500, 501, 505, 599, 600, 999, -1 };
	for (size_t i = 0; i < sizeof(failed) / sizeof(failed[0]); i++)
		ck_assert_msg(schedule_classify(failed[i]) == DELIVERY_FAILED, "status %ld",
			      failed[i]);
}
END_TEST

START_TEST(test_retry_after_seconds)
{
	ck_assert_int_eq(schedule_retry_after_ms("120", NOW, HOUR), 120 * SEC);
	ck_assert_int_eq(schedule_retry_after_ms(" 7\r\n", NOW, HOUR), 7 * SEC);
	ck_assert_int_eq(schedule_retry_after_ms("\t3600", NOW, HOUR), HOUR);
	/* Clamped to [1 s, max]. */
	ck_assert_int_eq(schedule_retry_after_ms("0", NOW, HOUR), SEC);
	ck_assert_int_eq(schedule_retry_after_ms("3601", NOW, HOUR), HOUR);
	ck_assert_int_eq(schedule_retry_after_ms("86400", NOW, 10 * SEC), 10 * SEC);
	/* Too large for any integer type: still a (long) wait, clamped. */
	ck_assert_int_eq(schedule_retry_after_ms("99999999999999999999999999", NOW, HOUR), HOUR);
}
END_TEST

START_TEST(test_retry_after_date)
{
	ck_assert_int_eq(schedule_retry_after_ms("Thu, 25 Feb 2021 15:04:10 GMT", NOW, HOUR),
			 2 * MIN);
	ck_assert_int_eq(
		schedule_retry_after_ms("Fri, 26 Feb 2021 15:02:10 GMT", NOW, 2 * 24 * HOUR),
		24 * HOUR);
	/* Months, years and a leap day read right: 2024-02-29 23:59:59 is 1709251199. */
	ck_assert_int_eq(schedule_retry_after_ms("Thu, 29 Feb 2024 23:59:59 GMT",
						 INT64_C(1709251199) * SEC - 30 * SEC, HOUR),
			 30 * SEC);
	ck_assert_int_eq(schedule_retry_after_ms("Mon, 01 Jan 2024 00:00:00 GMT",
						 INT64_C(1704067200) * SEC - 5 * SEC, HOUR),
			 5 * SEC);
	/* Now or in the past: wait the least, 1 s. Far ahead: the most. */
	ck_assert_int_eq(schedule_retry_after_ms("Thu, 25 Feb 2021 15:02:10 GMT", NOW, HOUR), SEC);
	ck_assert_int_eq(schedule_retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT", NOW, HOUR), SEC);
	ck_assert_int_eq(schedule_retry_after_ms("Fri, 31 Dec 9999 23:59:59 GMT", NOW, HOUR), HOUR);
}
END_TEST

START_TEST(test_retry_after_garbage)
{
	static const char *const bad[] = {
		"",
		"   ",
		"-5",
		"+5",
		"5s",
		"1.5",
		"0x10",
		"soon",
		"Thu, 25 Feb 2021 15:04:10 UTC",    /* not GMT */
		"Thu, 25 Feb 2021 15:04:10",	    /* no zone */
		"Thu, 30 Feb 2021 15:04:10 GMT",    /* no such day */
		"Thu, 29 Feb 2021 15:04:10 GMT",    /* 2021 is no leap year */
		"Thu, 25 Foo 2021 15:04:10 GMT",    /* no such month */
		"Thx, 25 Feb 2021 15:04:10 GMT",    /* no such weekday */
		"Thu, 25 Feb 2021 24:00:00 GMT",    /* no such hour */
		"Thu, 25 Feb 2021 15:60:00 GMT",    /* no such minute */
		"Thu, 5 Feb 2021 15:04:10 GMT",	    /* one-digit day */
		"Thursday, 25-Feb-21 15:04:10 GMT", /* RFC 850: obsolete, not read */
		"Thu Feb 25 15:04:10 2021",	    /* asctime: obsolete, not read */
		"Thu, 25 Feb 2021 15:04:10 GMTX",
		"Thu, 25 Feb 2021 15:04:10 GMT and then some text long enough to pass the buffer",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(schedule_retry_after_ms(bad[i], NOW, HOUR) == -1, "accepted \"%s\"",
			      bad[i]);
	ck_assert_int_eq(schedule_retry_after_ms(NULL, NOW, HOUR), -1);
}
END_TEST

Suite *make_suite_schedule(void)
{
	Suite *s = suite_create("schedule");
	TCase *tc = tcase_create("schedule");
	tcase_add_test(tc, test_every_step);
	tcase_add_test(tc, test_jitter_bounds);
	tcase_add_test(tc, test_the_end);
	tcase_add_test(tc, test_classify);
	tcase_add_test(tc, test_retry_after_seconds);
	tcase_add_test(tc, test_retry_after_date);
	tcase_add_test(tc, test_retry_after_garbage);
	suite_add_tcase(s, tc);
	return s;
}
