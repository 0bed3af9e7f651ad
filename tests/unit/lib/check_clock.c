/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of lib/clock.c: both units read the same clock, which never goes back and follows
 * real time. */
#include "suites.h"

#include "lib/clock.h"

#include <time.h>

START_TEST(test_units_agree)
{
	int64_t ms = clock_mono_ms();
	int64_t us = clock_mono_us();
	int64_t ms2 = clock_mono_ms();
	ck_assert_int_gt(ms, 0);
	/* us was read between ms and ms2, so us / 1000 lies between them. */
	ck_assert_int_le(ms, us / 1000);
	ck_assert_int_le(us / 1000, ms2);
}
END_TEST

START_TEST(test_follows_real_time)
{
	const struct timespec pause = { 0, 30 * 1000000L };
	int64_t us = clock_mono_us(), ms = clock_mono_ms(), prev = us;
	for (int i = 0; i < 1000; i++) {
		int64_t now = clock_mono_us();
		ck_assert_int_ge(now, prev);
		prev = now;
	}
	ck_assert_int_eq(nanosleep(&pause, NULL), 0);
	ck_assert_int_ge(clock_mono_us() - us, 30000);
	ck_assert_int_ge(clock_mono_ms() - ms, 30);
	/* Nor does it run away: a generous bound for a loaded test machine. */
	ck_assert_int_lt(clock_mono_ms() - ms, 30000);
}
END_TEST

Suite *make_suite_clock(void)
{
	Suite *s = suite_create("clock");
	TCase *tc = tcase_create("monotonic");
	tcase_add_test(tc, test_units_agree);
	tcase_add_test(tc, test_follows_real_time);
	suite_add_tcase(s, tc);
	return s;
}
