/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of webhook/token_table.c, the token cache's memory (README "Webhook endpoints":
 * the token look-up): hits, unknown tokens remembered for 5 s, concurrent misses sharing one
 * query, answers that came from before a flush (reconnect) or a notification not cached,
 * invalidation by NOTIFY payload, the cap on queries under way, and the table itself (growth,
 * collisions, deletion, eviction when full). The test stands where token_cache.c does: it
 * reports each query's answer and sets the clock. */
#include "suites.h"

#include "lib/encoding.h"
#include "webhook/token_table.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define MAX_ANSWERS 16

struct answer {
	enum token_cache_result result;
	int64_t token_id;
	int64_t user_id;
	int tag;
};

static struct {
	struct token_table *t;
	struct answer answers[MAX_ANSWERS];
	int nanswers;
	/* on_answer of a look-up tagged again_tag looks up again_hash */
	int again_tag;
	unsigned char again_hash[CRYPTO_HASH_LEN];
	struct token_pending *again;
	bool again_new;
} s;

static void on_answer(enum token_cache_result result, const struct token_info *info, void *arg)
{
	int tag = (int)(intptr_t)arg;
	if (s.nanswers < MAX_ANSWERS) /* the first ones; the rest are only counted */
		s.answers[s.nanswers] = (struct answer){ result, info->id, info->user_id, tag };
	s.nanswers++;
	if (tag != 0 && tag == s.again_tag)
		s.again = token_table_wait(s.t, s.again_hash, on_answer, NULL, &s.again_new);
}

/* A hash whose first 8 bytes (the slot index) are home, the rest from n. */
static void make_hash(unsigned char out[CRYPTO_HASH_LEN], uint64_t home, uint32_t n)
{
	memset(out, 0xa5, CRYPTO_HASH_LEN);
	memcpy(out, &home, sizeof(home));
	memcpy(out + 8, &n, sizeof(n));
}

static void hash_of(unsigned char out[CRYPTO_HASH_LEN], uint32_t n)
{
	/* spread over the slots like HMAC output */
	make_hash(out, (uint64_t)n * 0x9e3779b97f4a7c15ull, n);
}

static void setup(void)
{
	memset(&s, 0, sizeof(s));
	s.t = token_table_new();
	ck_assert_ptr_nonnull(s.t);
}

static void teardown(void)
{
	token_table_free(s.t);
}

/* A query's answer about token id (user 1000 + id, public id "tk_" and id). */
static void answer_with(struct token_pending *p, enum token_cache_result r, int64_t id,
			int64_t user_id, int64_t now)
{
	struct token_info info = { id, user_id, "", false };
	if (id != 0)
		snprintf(info.public_id, sizeof(info.public_id), "tk_%016lld", (long long)id);
	token_table_answer(p, r, &info, now);
}

/* A look-up that misses, then its query's answer. */
static void learn(const unsigned char *hash, enum token_cache_result r, int64_t id, int64_t now)
{
	bool is_new;
	struct token_pending *p = token_table_wait(s.t, hash, on_answer, NULL, &is_new);
	ck_assert_ptr_nonnull(p);
	ck_assert(is_new);
	answer_with(p, r, id, id ? 1000 + id : 0, now);
}

static bool get(const unsigned char *hash, int64_t now, struct answer *out)
{
	struct token_info info;
	char want[TOKEN_PUBLIC_ID_LEN + 1] = "";
	if (!token_table_get(s.t, hash, now, &out->result, &info))
		return false;
	if (info.id != 0)
		snprintf(want, sizeof(want), "tk_%016lld", (long long)info.id);
	ck_assert_str_eq(info.public_id, want);
	out->token_id = info.id;
	out->user_id = info.user_id;
	return true;
}

static void assert_known(const unsigned char *hash, int64_t now, enum token_cache_result r,
			 int64_t id)
{
	struct answer a;
	ck_assert_msg(get(hash, now, &a), "token %lld missed", (long long)id);
	ck_assert_int_eq(a.result, r);
	ck_assert_int_eq(a.token_id, id);
	ck_assert_int_eq(a.user_id, id ? 1000 + id : 0);
}

static void notify(int64_t id, const unsigned char *hash)
{
	char payload[32 + 2 * CRYPTO_HASH_LEN + 1];
	int n = snprintf(payload, sizeof(payload), "%lld:", (long long)id);
	hex_encode(hash, CRYPTO_HASH_LEN, payload + n);
	ck_assert(token_table_notify(s.t, payload));
}

/* ---- hits and misses -------------------------------------------------------------------- */

START_TEST(test_hit_and_miss)
{
	unsigned char h1[CRYPTO_HASH_LEN], h2[CRYPTO_HASH_LEN], h3[CRYPTO_HASH_LEN];
	struct answer a;
	hash_of(h1, 1);
	hash_of(h2, 2);
	hash_of(h3, 3);
	ck_assert(!get(h1, 0, &a));
	learn(h1, TOKEN_CACHE_ACTIVE, 7, 0);
	ck_assert_int_eq(s.nanswers, 1);
	ck_assert_int_eq(s.answers[0].result, TOKEN_CACHE_ACTIVE);
	ck_assert_int_eq(s.answers[0].token_id, 7);
	ck_assert_int_eq(s.answers[0].user_id, 1007);
	learn(h2, TOKEN_CACHE_DISABLED, 8, 0);
	assert_known(h1, 0, TOKEN_CACHE_ACTIVE, 7);
	assert_known(h2, 0, TOKEN_CACHE_DISABLED, 8);
	/* Known tokens do not expire: only a notification or a flush drops them. */
	assert_known(h1, INT64_C(1) << 50, TOKEN_CACHE_ACTIVE, 7);
	ck_assert(!get(h3, 0, &a));
	ck_assert_int_eq(token_table_size(s.t), 2);
}
END_TEST

START_TEST(test_unknown_for_5s)
{
	unsigned char h[CRYPTO_HASH_LEN];
	struct answer a;
	hash_of(h, 1);
	learn(h, TOKEN_CACHE_UNKNOWN, 0, 1000);
	assert_known(h, 1000, TOKEN_CACHE_UNKNOWN, 0);
	assert_known(h, 1000 + TOKEN_TABLE_NEGATIVE_TTL_MS - 1, TOKEN_CACHE_UNKNOWN, 0);
	ck_assert_int_eq(token_table_size(s.t), 1);
	ck_assert(!get(h, 1000 + TOKEN_TABLE_NEGATIVE_TTL_MS, &a));
	ck_assert_int_eq(token_table_size(s.t), 0); /* dropped */
	/* PostgreSQL is asked again, and this time the token exists. */
	learn(h, TOKEN_CACHE_ACTIVE, 3, 7000);
	assert_known(h, 7000 + TOKEN_TABLE_NEGATIVE_TTL_MS, TOKEN_CACHE_ACTIVE, 3);
}
END_TEST

/* An error or time-out says nothing about the token: passed on, never cached. */
START_TEST(test_unavailable_not_cached)
{
	unsigned char h[CRYPTO_HASH_LEN];
	struct answer a;
	bool is_new;
	hash_of(h, 1);
	learn(h, TOKEN_CACHE_UNAVAILABLE, 0, 0);
	ck_assert_int_eq(s.answers[0].result, TOKEN_CACHE_UNAVAILABLE);
	ck_assert(!get(h, 0, &a));
	ck_assert_int_eq(token_table_size(s.t), 0);
	struct token_pending *p = token_table_wait(s.t, h, on_answer, NULL, &is_new);
	ck_assert(is_new);
	answer_with(p, TOKEN_CACHE_ACTIVE, 1, 1001, 0);
}
END_TEST

/* ---- concurrent misses ------------------------------------------------------------------ */

START_TEST(test_misses_share_a_query)
{
	unsigned char h1[CRYPTO_HASH_LEN], h2[CRYPTO_HASH_LEN];
	bool new1, new2, new3;
	hash_of(h1, 1);
	hash_of(h2, 2);
	struct token_pending *p1 = token_table_wait(s.t, h1, on_answer, (void *)1, &new1);
	struct token_pending *p2 = token_table_wait(s.t, h1, on_answer, (void *)2, &new2);
	struct token_pending *p3 = token_table_wait(s.t, h2, on_answer, (void *)3, &new3);
	ck_assert(new1 && !new2 && new3);
	ck_assert_ptr_eq(p1, p2);
	ck_assert_ptr_ne(p1, p3);
	ck_assert_mem_eq(token_pending_hash(p1), h1, CRYPTO_HASH_LEN);
	ck_assert_mem_eq(token_pending_hash(p3), h2, CRYPTO_HASH_LEN);
	answer_with(p1, TOKEN_CACHE_DISABLED, 5, 1005, 0);
	ck_assert_int_eq(s.nanswers, 2); /* both waiters of h1, in order; not h2's */
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(s.answers[i].tag, i + 1);
		ck_assert_int_eq(s.answers[i].result, TOKEN_CACHE_DISABLED);
		ck_assert_int_eq(s.answers[i].token_id, 5);
	}
	assert_known(h1, 0, TOKEN_CACHE_DISABLED, 5);
	answer_with(p3, TOKEN_CACHE_UNKNOWN, 0, 0, 0);
	ck_assert_int_eq(s.nanswers, 3);
	ck_assert_int_eq(s.answers[2].tag, 3);
	ck_assert_int_eq(s.answers[2].result, TOKEN_CACHE_UNKNOWN);
}
END_TEST

/* A waiter that looks the same hash up again while being answered starts a new query: the
 * answered one is over. */
START_TEST(test_lookup_again_from_answer)
{
	unsigned char h[CRYPTO_HASH_LEN];
	bool is_new;
	hash_of(h, 1);
	s.again_tag = 1;
	memcpy(s.again_hash, h, CRYPTO_HASH_LEN);
	struct token_pending *p = token_table_wait(s.t, h, on_answer, (void *)1, &is_new);
	token_table_wait(s.t, h, on_answer, (void *)2, &is_new);
	answer_with(p, TOKEN_CACHE_UNAVAILABLE, 0, 0, 0);
	ck_assert_int_eq(s.nanswers, 2);
	ck_assert_ptr_nonnull(s.again);
	ck_assert(s.again_new);
	answer_with(s.again, TOKEN_CACHE_ACTIVE, 9, 1009, 0);
	ck_assert_int_eq(s.nanswers, 3);
	assert_known(h, 0, TOKEN_CACHE_ACTIVE, 9);
}
END_TEST

START_TEST(test_pending_cap)
{
	static struct token_pending *p[TOKEN_TABLE_MAX_PENDING];
	unsigned char h[CRYPTO_HASH_LEN];
	bool is_new;
	for (int i = 0; i < TOKEN_TABLE_MAX_PENDING; i++) {
		hash_of(h, (uint32_t)i);
		p[i] = token_table_wait(s.t, h, on_answer, NULL, &is_new);
		ck_assert_ptr_nonnull(p[i]);
	}
	hash_of(h, TOKEN_TABLE_MAX_PENDING);
	ck_assert_ptr_null(token_table_wait(s.t, h, on_answer, NULL, &is_new));
	hash_of(h, 0); /* joining a query under way costs no query */
	ck_assert_ptr_eq(token_table_wait(s.t, h, on_answer, NULL, &is_new), p[0]);
	answer_with(p[0], TOKEN_CACHE_UNKNOWN, 0, 0, 0);
	hash_of(h, TOKEN_TABLE_MAX_PENDING);
	ck_assert_ptr_nonnull(token_table_wait(s.t, h, on_answer, NULL, &is_new));
	/* The rest are answered UNAVAILABLE when the table goes (teardown). */
}
END_TEST

START_TEST(test_free_answers_waiters)
{
	unsigned char h[CRYPTO_HASH_LEN];
	bool is_new;
	hash_of(h, 1);
	token_table_wait(s.t, h, on_answer, (void *)1, &is_new);
	token_table_wait(s.t, h, on_answer, (void *)2, &is_new);
	token_table_free(s.t);
	s.t = NULL;
	ck_assert_int_eq(s.nanswers, 2);
	ck_assert_int_eq(s.answers[0].result, TOKEN_CACHE_UNAVAILABLE);
	ck_assert_int_eq(s.answers[1].result, TOKEN_CACHE_UNAVAILABLE);
}
END_TEST

/* ---- invalidation ----------------------------------------------------------------------- */

/* After a reconnect, notifications may have been missed: everything goes, and an answer to a
 * query sent before is passed on but not kept. */
START_TEST(test_flush)
{
	unsigned char h1[CRYPTO_HASH_LEN], h2[CRYPTO_HASH_LEN], h3[CRYPTO_HASH_LEN];
	struct answer a;
	bool is_new;
	hash_of(h1, 1);
	hash_of(h2, 2);
	hash_of(h3, 3);
	learn(h1, TOKEN_CACHE_ACTIVE, 1, 0);
	learn(h2, TOKEN_CACHE_UNKNOWN, 0, 0);
	struct token_pending *p = token_table_wait(s.t, h3, on_answer, NULL, &is_new);
	token_table_flush(s.t);
	ck_assert_int_eq(token_table_size(s.t), 0);
	ck_assert(!get(h1, 0, &a));
	ck_assert(!get(h2, 0, &a));
	answer_with(p, TOKEN_CACHE_ACTIVE, 3, 1003, 0);
	ck_assert_int_eq(s.answers[s.nanswers - 1].token_id, 3);
	ck_assert(!get(h3, 0, &a));
	/* A query sent after the flush is cached again. */
	learn(h3, TOKEN_CACHE_ACTIVE, 3, 0);
	assert_known(h3, 0, TOKEN_CACHE_ACTIVE, 3);
}
END_TEST

START_TEST(test_notify)
{
	unsigned char h[5][CRYPTO_HASH_LEN], other[CRYPTO_HASH_LEN];
	struct answer a;
	for (int i = 0; i < 5; i++)
		hash_of(h[i], (uint32_t)i + 1);
	hash_of(other, 99);
	learn(h[0], TOKEN_CACHE_ACTIVE, 1, 0);
	learn(h[1], TOKEN_CACHE_ACTIVE, 2, 0);
	learn(h[2], TOKEN_CACHE_UNKNOWN, 0, 0);
	learn(h[3], TOKEN_CACHE_DISABLED, 4, 0);
	learn(h[4], TOKEN_CACHE_ACTIVE, 5, 0);
	notify(1, h[0]); /* a token disabled or deleted: its id and hash */
	ck_assert(!get(h[0], 0, &a));
	assert_known(h[1], 0, TOKEN_CACHE_ACTIVE, 2);
	notify(1, h[0]); /* again, from another connection */
	ck_assert_int_eq(token_table_size(s.t), 4);
	notify(2, other); /* the hash changed (a new token for that row): found by id */
	ck_assert(!get(h[1], 0, &a));
	notify(77, h[2]); /* a token created with a hash remembered as unknown */
	ck_assert(!get(h[2], 0, &a));
	notify(4, h[3]);
	ck_assert(!get(h[3], 0, &a));
	assert_known(h[4], 0, TOKEN_CACHE_ACTIVE, 5);
	ck_assert_int_eq(token_table_size(s.t), 1);
	ck_assert(token_table_notify(s.t, "5:not-hex"));
	ck_assert(!get(h[4], 0, &a)); /* by id alone */
	/* The hash names one entry and the id another: both go. */
	learn(h[0], TOKEN_CACHE_ACTIVE, 1, 0);
	learn(h[1], TOKEN_CACHE_ACTIVE, 2, 0);
	notify(2, h[0]);
	ck_assert(!get(h[0], 0, &a));
	ck_assert(!get(h[1], 0, &a));
}
END_TEST

START_TEST(test_notify_malformed_flushes)
{
	const char *bad[] = { "", "x:00", ":00", "12", "12;00" };
	unsigned char h[CRYPTO_HASH_LEN];
	struct answer a;
	hash_of(h, 1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		learn(h, TOKEN_CACHE_ACTIVE, 1, 0);
		ck_assert_msg(!token_table_notify(s.t, bad[i]), "%s accepted", bad[i]);
		ck_assert(!get(h, 0, &a));
	}
}
END_TEST

/* An answer to a query sent before a notification may predate the change: not cached. */
START_TEST(test_notify_during_query)
{
	unsigned char h[CRYPTO_HASH_LEN], other[CRYPTO_HASH_LEN];
	struct answer a;
	bool is_new;
	hash_of(h, 1);
	hash_of(other, 2);
	struct token_pending *p = token_table_wait(s.t, h, on_answer, NULL, &is_new);
	notify(50, other);
	answer_with(p, TOKEN_CACHE_ACTIVE, 1, 1001, 0);
	ck_assert_int_eq(s.answers[0].result, TOKEN_CACHE_ACTIVE);
	ck_assert(!get(h, 0, &a));
}
END_TEST

/* ---- the table -------------------------------------------------------------------------- */

START_TEST(test_growth)
{
	unsigned char h[CRYPTO_HASH_LEN];
	const int n = 5000;
	for (int i = 1; i <= n; i++) {
		hash_of(h, (uint32_t)i);
		learn(h, TOKEN_CACHE_ACTIVE, i, 0);
	}
	ck_assert_int_eq(token_table_size(s.t), n);
	for (int i = 1; i <= n; i += 3) {
		hash_of(h, (uint32_t)i);
		notify(i, h);
	}
	for (int i = 1; i <= n; i++) {
		struct answer a;
		hash_of(h, (uint32_t)i);
		ck_assert_msg(get(h, 0, &a) == (i % 3 != 1), "token %d", i);
		if (i % 3 != 1)
			ck_assert_int_eq(a.token_id, i);
	}
	ck_assert_int_eq(token_table_size(s.t), n - (n + 2) / 3);
}
END_TEST

/* Hashes with the same home slot form one cluster: removing from its middle (by hash or by
 * id) must leave every other one findable. */
START_TEST(test_collisions)
{
	unsigned char h[40][CRYPTO_HASH_LEN], elsewhere[CRYPTO_HASH_LEN], twin[CRYPTO_HASH_LEN];
	make_hash(elsewhere, 7, 999);
	make_hash(twin, 7, 1000);
	for (int i = 0; i < 40; i++) {
		make_hash(h[i], (uint64_t)(i < 20 ? 7 : 8) + 256 * (uint64_t)i, (uint32_t)i);
		learn(h[i], TOKEN_CACHE_ACTIVE, i + 1, 0);
		/* id 11 under two hashes side by side (a row whose token hash changed) */
		if (i == 10)
			learn(twin, TOKEN_CACHE_ACTIVE, 11, 0);
	}
	notify(1, h[0]); /* the head of the cluster, in its home slot */
	notify(3, h[2]);
	notify(11, elsewhere); /* by id: both entries of 11 */
	ck_assert(!get(twin, 0, &(struct answer){ 0 }));
	notify(26, h[25]);
	notify(40, h[39]);
	for (int i = 0; i < 40; i++) {
		struct answer a;
		bool gone = i == 0 || i == 2 || i == 10 || i == 25 || i == 39;
		ck_assert_msg(get(h[i], 0, &a) == !gone, "hash %d", i);
		if (!gone)
			ck_assert_int_eq(a.token_id, i + 1);
	}
	ck_assert_int_eq(token_table_size(s.t), 35);
}
END_TEST

/* Full: a new entry evicts one, and the table stays at its size. */
START_TEST(test_eviction)
{
	unsigned char h[CRYPTO_HASH_LEN];
	const int n = TOKEN_TABLE_MAX_ENTRIES + 100;
	for (int i = 1; i <= n; i++) {
		hash_of(h, (uint32_t)i);
		learn(h, TOKEN_CACHE_ACTIVE, i, 0);
	}
	ck_assert_int_eq(token_table_size(s.t), TOKEN_TABLE_MAX_ENTRIES);
	int found = 0;
	for (int i = 1; i <= n; i++) {
		struct answer a;
		hash_of(h, (uint32_t)i);
		found += get(h, 0, &a);
	}
	ck_assert_int_eq(found, TOKEN_TABLE_MAX_ENTRIES);
	assert_known(h, 0, TOKEN_CACHE_ACTIVE, n); /* the newest is in */
}
END_TEST

Suite *make_suite_webhook_token_table(void)
{
	Suite *su = suite_create("webhook_token_table");
	TCase *tc = tcase_create("lookup");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_hit_and_miss);
	tcase_add_test(tc, test_unknown_for_5s);
	tcase_add_test(tc, test_unavailable_not_cached);
	tcase_add_test(tc, test_misses_share_a_query);
	tcase_add_test(tc, test_lookup_again_from_answer);
	tcase_add_test(tc, test_pending_cap);
	tcase_add_test(tc, test_free_answers_waiters);
	suite_add_tcase(su, tc);

	tc = tcase_create("invalidation");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_flush);
	tcase_add_test(tc, test_notify);
	tcase_add_test(tc, test_notify_malformed_flushes);
	tcase_add_test(tc, test_notify_during_query);
	suite_add_tcase(su, tc);

	tc = tcase_create("table");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_growth);
	tcase_add_test(tc, test_collisions);
	tcase_add_test(tc, test_eviction);
	suite_add_tcase(su, tc);
	return su;
}
