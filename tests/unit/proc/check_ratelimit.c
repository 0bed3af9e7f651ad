/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of proc/ratelimit.c: token-bucket arithmetic with explicit clocks, many tokens,
 * a full table, and the table shared by forked processes as the webhook workers share it. */
#include "suites.h"

#include "proc/ratelimit.h"

#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SEC INT64_C(1000000)
#define T0 (INT64_C(5000) * SEC) /* an arbitrary monotonic time */

static struct ratelimit *create(size_t slots)
{
	struct ratelimit *rl = ratelimit_create(slots);
	ck_assert_ptr_nonnull(rl);
	return rl;
}

static int take_n(struct ratelimit *rl, int64_t id, double rate, int burst, int64_t now, int n)
{
	int allowed = 0;
	for (int i = 0; i < n; i++)
		allowed += ratelimit_take(rl, id, rate, burst, now, NULL);
	return allowed;
}

START_TEST(test_burst_then_refusal)
{
	struct ratelimit *rl = create(1024);
	int retry = -1;
	for (int i = 0; i < 5; i++) {
		ck_assert(ratelimit_take(rl, 7, 1.0, 5, T0, &retry));
		ck_assert_int_eq(retry, 0);
	}
	ck_assert(!ratelimit_take(rl, 7, 1.0, 5, T0, &retry));
	ck_assert_int_eq(retry, 1);
	ck_assert(!ratelimit_take(rl, 7, 1.0, 5, T0, NULL));
	/* Another token has its own bucket. */
	ck_assert_int_eq(take_n(rl, 8, 1.0, 5, T0, 10), 5);
	ratelimit_destroy(rl);
}
END_TEST

START_TEST(test_refill)
{
	struct ratelimit *rl = create(64);
	ck_assert_int_eq(take_n(rl, 1, 2.0, 3, T0, 3), 3);
	ck_assert(!ratelimit_take(rl, 1, 2.0, 3, T0 + SEC / 2 - 1, NULL));
	ck_assert(ratelimit_take(rl, 1, 2.0, 3, T0 + SEC / 2, NULL));
	ck_assert(!ratelimit_take(rl, 1, 2.0, 3, T0 + SEC / 2, NULL));
	/* Two seconds later four calls' worth has accrued, but the bucket holds only burst. */
	ck_assert_int_eq(take_n(rl, 1, 2.0, 3, T0 + 5 * SEC / 2, 10), 3);
	/* A steady 2 calls/s passes forever. */
	for (int i = 1; i <= 100; i++)
		ck_assert(ratelimit_take(rl, 1, 2.0, 3, T0 + 5 * SEC / 2 + i * SEC / 2, NULL));
	/* Time never runs backwards for a bucket: an older timestamp adds nothing. */
	ck_assert(!ratelimit_take(rl, 1, 2.0, 3, T0, NULL));
	ratelimit_destroy(rl);
}
END_TEST

START_TEST(test_retry_after)
{
	struct ratelimit *rl = create(64);
	int retry = 0;
	ck_assert(ratelimit_take(rl, 1, 0.25, 1, T0, &retry));
	ck_assert(!ratelimit_take(rl, 1, 0.25, 1, T0, &retry));
	ck_assert_int_eq(retry, 4);
	ck_assert(!ratelimit_take(rl, 1, 0.25, 1, T0 + SEC, &retry));
	ck_assert_int_eq(retry, 3);
	ck_assert(!ratelimit_take(rl, 1, 0.25, 1, T0 + SEC + 1, &retry));
	ck_assert_int_eq(retry, 3); /* 2.999999 s, rounded up */
	ck_assert(!ratelimit_take(rl, 1, 0.25, 1, T0 + 3 * SEC + SEC / 2, &retry));
	ck_assert_int_eq(retry, 1);
	ck_assert(ratelimit_take(rl, 1, 0.25, 1, T0 + 4 * SEC, &retry));
	/* Sub-second waits still say 1 (Retry-After has whole seconds). */
	ck_assert_int_eq(take_n(rl, 2, 100.0, 2, T0, 2), 2);
	ck_assert(!ratelimit_take(rl, 2, 100.0, 2, T0, &retry));
	ck_assert_int_eq(retry, 1);
	/* A very slow rate gives a long, not overflowing, wait. */
	ck_assert(ratelimit_take(rl, 3, 1e-12, 1, T0, &retry));
	ck_assert(!ratelimit_take(rl, 3, 1e-12, 1, T0, &retry));
	ck_assert_int_gt(retry, 1000000);
	ratelimit_destroy(rl);
}
END_TEST

/* Calls microseconds apart must not stop a slow bucket from refilling. */
START_TEST(test_slow_rate_hammered)
{
	struct ratelimit *rl = create(64);
	int allowed = 0;
	for (int64_t now = T0; now <= T0 + 6 * SEC + 3; now += 3)
		allowed += ratelimit_take(rl, 5, 0.5, 1, now, NULL);
	ck_assert_int_eq(allowed, 4); /* at 0, 2, 4 and 6 s (to the microsecond step) */
	ratelimit_destroy(rl);
}
END_TEST

START_TEST(test_rate_off_and_odd_bursts)
{
	struct ratelimit *rl = create(64);
	int retry = -1;
	ck_assert_int_eq(take_n(rl, 1, 0.0, 1, T0, 1000), 1000);
	ck_assert(ratelimit_take(rl, 1, -5.0, 1, T0, &retry));
	ck_assert_int_eq(retry, 0);
	ck_assert(ratelimit_take(NULL, 1, 10.0, 1, T0, &retry));
	/* burst below 1 counts as 1 */
	ck_assert_int_eq(take_n(rl, 2, 1.0, 0, T0, 5), 1);
	ck_assert_int_eq(take_n(rl, 3, 1.0, -3, T0, 5), 1);
	ratelimit_destroy(rl);
	ratelimit_destroy(NULL);
}
END_TEST

START_TEST(test_many_tokens)
{
	enum { TOKENS = 4096 }; /* as many as asked for */
	struct ratelimit *rl = create(4096);
	for (int64_t id = 1; id <= TOKENS; id++)
		ck_assert_int_eq(take_n(rl, id * 7919, 1.0, 2, T0, 2), 2);
	for (int64_t id = 1; id <= TOKENS; id++)
		ck_assert_msg(!ratelimit_take(rl, id * 7919, 1.0, 2, T0, NULL), "token %lld",
			      (long long)id);
	for (int64_t id = 1; id <= TOKENS; id++)
		ck_assert(ratelimit_take(rl, id * 7919, 1.0, 2, T0 + SEC, NULL));
	/* Negative and extreme ids are ordinary keys. */
	ck_assert_int_eq(take_n(rl, INT64_MIN, 1.0, 1, T0, 3), 1);
	ck_assert_int_eq(take_n(rl, INT64_MAX, 1.0, 1, T0, 3), 1);
	ck_assert_int_eq(take_n(rl, 0, 1.0, 1, T0, 3), 1);
	ratelimit_destroy(rl);
}
END_TEST

START_TEST(test_full_table)
{
	/* The smallest table: 32 slots, and every token's probe covers them all. */
	struct ratelimit *rl = create(1);
	for (int64_t id = 1; id <= 32; id++)
		ck_assert(ratelimit_take(rl, id, 1.0, 2, T0, NULL));
	/* No free slot and none idle: the 33rd token is let through (documented). */
	ck_assert_int_eq(take_n(rl, 33, 1.0, 2, T0, 10), 10);
	/* The busy tokens kept their buckets. */
	for (int64_t id = 1; id <= 32; id++)
		ck_assert_int_eq(take_n(rl, id, 1.0, 2, T0, 5), 1);
	/* Tokens 2-32 call again at 1.5 s; at 2 s only token 1 has a full bucket (idle): token
	 * 33 takes its slot and is limited from then on. */
	for (int64_t id = 2; id <= 32; id++)
		ck_assert(ratelimit_take(rl, id, 1.0, 2, T0 + 3 * SEC / 2, NULL));
	ck_assert_int_eq(take_n(rl, 33, 1.0, 2, T0 + 2 * SEC, 5), 2);
	ck_assert(!ratelimit_take(rl, 33, 1.0, 2, T0 + 2 * SEC, NULL));
	for (int64_t id = 2; id <= 32; id++)
		ck_assert_int_eq(take_n(rl, id, 1.0, 2, T0 + 2 * SEC, 3), 1);
	ratelimit_destroy(rl);
}
END_TEST

START_TEST(test_shared_across_fork)
{
	struct ratelimit *rl = create(256);
	ck_assert(ratelimit_take(rl, 42, 1.0, 10, T0, NULL));
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(take_n(rl, 42, 1.0, 10, T0, 20));
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 9); /* the parent's first call counted there */
	ck_assert(!ratelimit_take(rl, 42, 1.0, 10, T0, NULL));
	ck_assert(ratelimit_take(rl, 42, 1.0, 10, T0 + SEC, NULL));
	ratelimit_destroy(rl);
}
END_TEST

/* A worker killed while it holds a slot's lock must not stall the others: a child hammering
 * one token is SIGKILLed at varying moments, and every time the parent must still get through.
 * With the take-over disabled this hung after about 10 rounds on average (1 kill in 10 lands
 * inside a critical section), so 100 rounds miss it with odds of about 1 in 40,000. */
START_TEST(test_holder_killed)
{
	struct ratelimit *rl = create(64);
	for (int round = 0; round < 100; round++) {
		pid_t pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			for (int64_t now = T0;; now++)
				(void)ratelimit_take(rl, 77, 1e6, 1000, now, NULL);
		}
		usleep(200 + (unsigned)(round * 37 % 400));
		kill(pid, SIGKILL);
		ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
		(void)ratelimit_take(rl, 77, 1e6, 1000, T0, NULL);
		(void)ratelimit_take(rl, 78, 1e6, 1000, T0, NULL); /* needs the insert lock */
	}
	ratelimit_destroy(rl);
}
END_TEST

static int64_t monotonic_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * SEC + ts.tv_nsec / 1000;
}

struct hammer_counts {
	_Atomic long admitted;
	_Atomic long refused;
};

/* Two processes (the parent and a child, as two workers) hit one token for 300 ms on the real
 * clock. Whatever the interleaving, the admitted total never exceeds what the bucket allows
 * over the whole window; and it is close to it, so the limiter does not starve either. */
START_TEST(test_concurrent_never_over_admits)
{
	const double rate = 2000.0;
	const int burst = 100;
	const int64_t run_us = 300000;
	struct ratelimit *rl = create(64);
	struct hammer_counts *counts = mmap(NULL, sizeof(*counts), PROT_READ | PROT_WRITE,
					    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(counts, MAP_FAILED);
	int64_t start = monotonic_us();
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	for (int64_t now = monotonic_us(); now - start < run_us; now = monotonic_us()) {
		if (ratelimit_take(rl, 99, rate, burst, now, NULL))
			atomic_fetch_add(&counts->admitted, 1);
		else
			atomic_fetch_add(&counts->refused, 1);
	}
	if (pid == 0)
		_exit(0);
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	double elapsed_s = (double)(monotonic_us() - start) / 1e6;
	long admitted = atomic_load(&counts->admitted);
	ck_assert_msg(admitted <= burst + (long)(rate * elapsed_s) + 1,
		      "admitted %ld in %.3f s (burst %d, rate %.0f)", admitted, elapsed_s, burst,
		      rate);
	ck_assert_msg(admitted >= burst + (long)(rate * run_us / 1e6 / 4), "admitted only %ld",
		      admitted);
	ck_assert_int_gt(atomic_load(&counts->refused), 0);
	munmap(counts, sizeof(*counts));
	ratelimit_destroy(rl);
}
END_TEST

/* Client addresses: IPv4 alone, IPv4-mapped IPv6 as IPv4, IPv6 by its /64. */
START_TEST(test_addr_key)
{
	int64_t v4 = ratelimit_addr_key("203.0.113.7");
	ck_assert_int_eq(v4, INT64_C(0xcb007107));
	ck_assert_int_eq(ratelimit_addr_key("::ffff:203.0.113.7"), v4);
	ck_assert_int_ne(ratelimit_addr_key("203.0.113.8"), v4);
	ck_assert_int_ne(ratelimit_addr_key("127.0.0.1"), ratelimit_addr_key("127.0.0.2"));

	int64_t v6 = ratelimit_addr_key("2001:db8:1:2::1");
	ck_assert_int_eq(v6, INT64_C(0x20010db800010002));
	ck_assert_int_eq(ratelimit_addr_key("2001:db8:1:2:ffff:ffff:ffff:ffff"), v6);
	ck_assert_int_ne(ratelimit_addr_key("2001:db8:1:3::1"), v6);
	/* The top bit set: the key is negative, and still its own. */
	int64_t top = ratelimit_addr_key("fe80::1");
	ck_assert_int_eq(top, (int64_t)UINT64_C(0xfe80000000000000));
	ck_assert_int_ne(top, ratelimit_addr_key("fe81::1"));
	ck_assert_int_ne(ratelimit_addr_key("::1"), ratelimit_addr_key("127.0.0.1"));

	ck_assert_int_eq(ratelimit_addr_key("local"), 0);
	ck_assert_int_eq(ratelimit_addr_key(""), 0);
	ck_assert_int_eq(ratelimit_addr_key("203.0.113.7:80"), 0);

	/* Two addresses of one /64 share a bucket; another /64 has its own. */
	struct ratelimit *rl = create(64);
	ck_assert_int_eq(take_n(rl, ratelimit_addr_key("2001:db8::a"), 0.5, 5, T0, 3), 3);
	ck_assert_int_eq(take_n(rl, ratelimit_addr_key("2001:db8::b"), 0.5, 5, T0, 3), 2);
	ck_assert_int_eq(take_n(rl, ratelimit_addr_key("2001:db8:0:1::a"), 0.5, 5, T0, 3), 3);
	ratelimit_destroy(rl);
}
END_TEST

/* A limit held by several nodes: each enforces rate / nodes, and burst / nodes rounded up so
 * that a burst of 1 still lets a call through somewhere. */
START_TEST(test_share)
{
	struct ratelimit_share sh = ratelimit_share(20.0, 4, 2);
	ck_assert(sh.rate == 10.0);
	ck_assert_int_eq(sh.burst, 2);
	sh = ratelimit_share(20.0, 5, 2);
	ck_assert_int_eq(sh.burst, 3);
	sh = ratelimit_share(1.0, 1, 3);
	ck_assert(sh.rate > 0.333 && sh.rate < 0.334);
	ck_assert_int_eq(sh.burst, 1);
	sh = ratelimit_share(20.0, 1000000, 3);
	ck_assert_int_eq(sh.burst, 333334);
	/* One node, or none known, holds the whole limit; a burst below 1 counts as 1. */
	sh = ratelimit_share(20.0, 4, 1);
	ck_assert(sh.rate == 20.0);
	ck_assert_int_eq(sh.burst, 4);
	sh = ratelimit_share(20.0, 4, 0);
	ck_assert(sh.rate == 20.0);
	ck_assert_int_eq(sh.burst, 4);
	ck_assert_int_eq(ratelimit_share(5.0, 0, 4).burst, 1);
}
END_TEST

/* The table enforces its share of the limit it is given, and takes the whole limit back when
 * the other nodes are gone. */
START_TEST(test_nodes_divide)
{
	struct ratelimit *rl = create(64);
	ck_assert_uint_eq(ratelimit_nodes(rl), 1);
	ratelimit_set_nodes(rl, 2);
	ck_assert_uint_eq(ratelimit_nodes(rl), 2);
	ck_assert_int_eq(take_n(rl, 1, 2.0, 4, T0, 10), 2);
	/* 1 call/s for this node. */
	ck_assert(!ratelimit_take(rl, 1, 2.0, 4, T0 + SEC / 2, NULL));
	ck_assert(ratelimit_take(rl, 1, 2.0, 4, T0 + SEC, NULL));
	ck_assert(!ratelimit_take(rl, 1, 2.0, 4, T0 + SEC, NULL));
	ratelimit_set_nodes(rl, 0); /* counts as 1 */
	ck_assert_uint_eq(ratelimit_nodes(rl), 1);
	ck_assert(ratelimit_take(rl, 1, 2.0, 4, T0 + 3 * SEC / 2, NULL));
	ck_assert(!ratelimit_take(rl, 1, 2.0, 4, T0 + 3 * SEC / 2, NULL));
	/* Ten seconds at 2 calls/s: 20 calls, the whole limit. */
	int allowed = 0;
	for (int i = 1; i <= 200; i++)
		allowed += ratelimit_take(rl, 1, 2.0, 4, T0 + 3 * SEC / 2 + i * SEC / 20, NULL);
	ck_assert_int_eq(allowed, 20);
	ratelimit_destroy(rl);
}
END_TEST

Suite *make_suite_ratelimit(void)
{
	Suite *s = suite_create("ratelimit");
	TCase *tc = tcase_create("bucket");
	tcase_add_test(tc, test_burst_then_refusal);
	tcase_add_test(tc, test_refill);
	tcase_add_test(tc, test_retry_after);
	tcase_add_test(tc, test_slow_rate_hammered);
	tcase_add_test(tc, test_rate_off_and_odd_bursts);
	tcase_add_test(tc, test_addr_key);
	tcase_add_test(tc, test_share);
	tcase_add_test(tc, test_nodes_divide);
	suite_add_tcase(s, tc);

	tc = tcase_create("table");
	tcase_add_test(tc, test_many_tokens);
	tcase_add_test(tc, test_full_table);
	suite_add_tcase(s, tc);

	tc = tcase_create("shared");
	tcase_add_test(tc, test_shared_across_fork);
	tcase_add_test(tc, test_concurrent_never_over_admits);
	tcase_add_test(tc, test_holder_killed);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}
