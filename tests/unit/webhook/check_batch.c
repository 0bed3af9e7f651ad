/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of webhook/batch.c, the group commit's queue (README "Webhook endpoints", Group
 * commit), on a real event_base and clock. The test is the queue's owner: its send function
 * keeps each batch, and the test reports what became of it as ingest.c would from PostgreSQL.
 * Covered: calls accumulate up to the batch size, a batch leaves when full or after the delay,
 * one batch in flight and the next leaving when its result arrives, answers, deadlines (503 for
 * calls that could not leave in time, a batch not sent without time to commit) and the late
 * path (503 "may or may not have been stored", the batch kept until its outcome is known). */
#include "suites.h"
#include "evloop.h"

#include "webhook/batch.h"

#include <stdint.h>
#include <string.h>

#define MAX_CALLS 32
#define MAX_SENT 16

static struct {
	struct event_base *base;
	struct batch_queue *q;
	struct ingest_call calls[MAX_CALLS];
	int ncalls;
	int answers[MAX_CALLS]; /* how many times each call's done ran */
	int64_t answered_us[MAX_CALLS];
	int order[MAX_CALLS]; /* the calls in the order they were answered */
	int nanswered;
	struct ingest_batch *sent[MAX_SENT];
	int left_ms[MAX_SENT];
	int budget_ms[MAX_SENT];
	int64_t sent_us[MAX_SENT];
	int nsent;
	bool refuse;	   /* send fails */
	int resubmit_from; /* done of a call from this index on submits one more call */
} t;

static int submit_started(int64_t started_us);

static void on_done(struct ingest_call *call, void *arg)
{
	int i = (int)(intptr_t)arg;
	ck_assert_ptr_eq(call, &t.calls[i]);
	ck_assert_int_ne(call->http_status, 0);
	t.answers[i]++;
	t.answered_us[i] = evloop_now_us();
	t.order[t.nanswered++] = i;
	if (t.resubmit_from > 0 && i >= t.resubmit_from && t.ncalls < MAX_CALLS)
		submit_started(evloop_now_us()); /* a client retrying from inside its answer */
}

static bool owner_send(struct ingest_batch *b, int left_ms, int budget_ms, void *owner)
{
	ck_assert_ptr_eq(owner, &t);
	ck_assert_int_lt(t.nsent, MAX_SENT);
	t.sent[t.nsent] = b;
	t.left_ms[t.nsent] = left_ms;
	t.budget_ms[t.nsent] = budget_ms;
	t.sent_us[t.nsent] = evloop_now_us();
	t.nsent++;
	return !t.refuse;
}

static void start_queue(int max_batch, int delay_us, int deadline_ms, int margin_ms)
{
	const struct batch_config cfg = { .max_batch = max_batch,
					  .delay_us = delay_us,
					  .deadline_ms = deadline_ms,
					  .margin_ms = margin_ms };
	t.q = batch_queue_new(t.base, &cfg, owner_send, &t);
	ck_assert_ptr_nonnull(t.q);
}

static void setup(void)
{
	memset(&t, 0, sizeof(t));
	t.base = event_base_new();
	ck_assert_ptr_nonnull(t.base);
}

static void teardown(void)
{
	batch_queue_free(t.q);
	event_base_free(t.base);
}

static int submit_started(int64_t started_us)
{
	int i = t.ncalls++;
	struct ingest_call *c = &t.calls[i];
	ck_assert_int_lt(i, MAX_CALLS);
	memset(c, 0, sizeof(*c));
	c->token_id = 100 + i;
	c->at_us = 1700000000000000 + i;
	c->started_us = started_us;
	c->done = on_done;
	c->arg = (void *)(intptr_t)i;
	c->http_status = 418; /* submit must reset what a reused call carries */
	c->outcome_unknown = true;
	batch_queue_submit(t.q, c);
	return i;
}

static int submit(void)
{
	return submit_started(evloop_now_us());
}

static bool run_until(const int *counter, int n, int ms)
{
	return evloop_run_until_count(t.base, counter, n, ms);
}

static void run_for(int ms)
{
	evloop_run_for(t.base, ms);
}

/* Batch k holds these calls, in this order. */
static void assert_batch(int k, int first, int n)
{
	ck_assert_int_lt(k, t.nsent);
	ck_assert_int_eq(t.sent[k]->n, n);
	for (int i = 0; i < n; i++)
		ck_assert_ptr_eq(t.sent[k]->slots[i].call, &t.calls[first + i]);
}

/* The owner reports what became of batch k. The test keeps no pointer to it afterwards, so
 * that a batch the queue fails to free shows as a leak under AddressSanitizer. A late batch
 * is returned: the owner holds it until its outcome is known. */
static struct ingest_batch *report(int k, enum batch_result result)
{
	struct ingest_batch *b = t.sent[k];
	t.sent[k] = NULL;
	batch_done(b, result);
	return result == BATCH_RESULT_LATE ? b : NULL;
}

/* Batch k's result: every call stored (204). */
static void answer_stored(int k)
{
	struct ingest_batch *b = t.sent[k];
	for (int i = 0; i < b->n; i++) {
		b->slots[i].call->http_status = 204;
		b->slots[i].call->message_id = 1000 + i;
	}
	report(k, BATCH_RESULT_ANSWERED);
}

static void assert_answer(int i, int status, bool unknown)
{
	ck_assert_msg(t.answers[i] == 1, "call %d answered %d times", i, t.answers[i]);
	ck_assert_int_eq(t.calls[i].http_status, status);
	if (status == 503) {
		ck_assert_str_eq(t.calls[i].code, "unavailable");
		ck_assert_int_eq(t.calls[i].message_id, 0);
	}
	ck_assert(t.calls[i].outcome_unknown == unknown);
}

static struct ingest_stats stats(void)
{
	struct ingest_stats s;
	batch_queue_stats(t.q, &s);
	return s;
}

/* ---- batching --------------------------------------------------------------------------- */

START_TEST(test_full_batch_leaves_at_once)
{
	start_queue(4, 10000000, 900, 100);
	for (int i = 0; i < 3; i++)
		submit();
	run_for(20);
	ck_assert_int_eq(t.nsent, 0); /* the delay is 10 s */
	submit();
	ck_assert_int_eq(t.nsent, 1);
	assert_batch(0, 0, 4);
	ck_assert_int_le(t.left_ms[0], 900);
	ck_assert_int_gt(t.left_ms[0], 800);
	ck_assert_int_eq(t.budget_ms[0], t.left_ms[0] - 100);
	ck_assert_int_eq(t.nanswered, 0);
	answer_stored(0);
	for (int i = 0; i < 4; i++)
		assert_answer(i, 204, false);
	ck_assert_int_eq(t.calls[2].message_id, 1002);
	ck_assert_int_eq(stats().batches, 1);
	ck_assert_int_eq(stats().calls, 4);
}
END_TEST

START_TEST(test_delay)
{
	start_queue(256, 40000, 900, 100);
	int64_t first = evloop_now_us();
	submit();
	submit();
	ck_assert_int_eq(t.nsent, 0);
	ck_assert(run_until(&t.nsent, 1, 2000));
	ck_assert_int_ge(t.sent_us[0] - first, 40000);
	assert_batch(0, 0, 2);
}
END_TEST

/* One batch in flight: the calls behind it wait, however many, and leave in batches of at
 * most max_batch when its result arrives. */
START_TEST(test_one_in_flight)
{
	start_queue(4, 1000, 900, 100);
	for (int i = 0; i < 4; i++)
		submit();
	ck_assert_int_eq(t.nsent, 1);
	for (int i = 0; i < 6; i++)
		submit();
	run_for(30);
	ck_assert_int_eq(t.nsent, 1);
	answer_stored(0);
	ck_assert_int_eq(t.nsent, 2); /* a full batch was waiting: it leaves at once */
	assert_batch(1, 4, 4);
	answer_stored(1);
	ck_assert_int_eq(t.nsent, 2); /* two left: they wait for more, up to delay_us */
	ck_assert(run_until(&t.nsent, 3, 2000));
	assert_batch(2, 8, 2);
	answer_stored(2);
	ck_assert_int_eq(t.nanswered, 10);
	for (int i = 0; i < 10; i++)
		ck_assert_int_eq(t.order[i], i);
}
END_TEST

/* After an answer, the next batch waits for as many calls as were just answered (the clients
 * sending their next calls), or delay_us. */
START_TEST(test_wait_for_answered_clients)
{
	start_queue(256, 50000, 900, 100);
	for (int i = 0; i < 3; i++)
		submit();
	ck_assert(run_until(&t.nsent, 1, 2000));
	submit(); /* arrives while the batch is in flight */
	answer_stored(0);
	ck_assert_int_eq(t.nsent, 1);
	submit();
	submit();
	ck_assert_int_eq(t.nsent, 1);
	submit(); /* the fourth: as many as were answered plus the one waiting */
	ck_assert_int_eq(t.nsent, 2);
	assert_batch(1, 3, 4);
	/* Nobody comes: the next call leaves delay_us after the answer. */
	answer_stored(1);
	int64_t answered = evloop_now_us();
	submit();
	ck_assert_int_eq(t.nsent, 2);
	ck_assert(run_until(&t.nsent, 3, 2000));
	ck_assert_int_ge(t.sent_us[2] - answered, 48000);
	assert_batch(2, 7, 1);
}
END_TEST

/* ---- answers ---------------------------------------------------------------------------- */

START_TEST(test_answered)
{
	start_queue(3, 1000, 900, 100);
	for (int i = 0; i < 3; i++)
		submit();
	t.calls[0].http_status = 204;
	t.calls[0].message_id = 7;
	t.calls[1].http_status = 403;
	t.calls[1].code = "forbidden";
	report(0, BATCH_RESULT_ANSWERED); /* no row for the third call */
	assert_answer(0, 204, false);
	ck_assert_int_eq(t.calls[0].message_id, 7);
	assert_answer(1, 403, false);
	ck_assert_str_eq(t.calls[1].code, "forbidden");
	assert_answer(2, 503, false);
	struct ingest_stats s = stats();
	ck_assert_int_eq(s.calls, 2);
	ck_assert_int_eq(s.failed_calls, 1);
	ck_assert_int_eq(s.failed_batches, 0);
}
END_TEST

START_TEST(test_failed_and_lost)
{
	start_queue(2, 1000, 900, 100);
	submit();
	submit();
	submit();
	submit();
	report(0, BATCH_RESULT_FAILED);
	assert_answer(0, 503, false);
	assert_answer(1, 503, false);
	ck_assert_int_eq(t.nsent, 2);
	report(1, BATCH_RESULT_LOST);
	assert_answer(2, 503, true);
	assert_answer(3, 503, true);
	struct ingest_stats s = stats();
	ck_assert_int_eq(s.batches, 2);
	ck_assert_int_eq(s.failed_batches, 2);
	ck_assert_int_eq(s.failed_calls, 4);
	ck_assert_int_eq(s.calls, 0);
}
END_TEST

START_TEST(test_send_refused)
{
	start_queue(1, 1000, 900, 100);
	t.refuse = true;
	submit();
	ck_assert_int_eq(t.nsent, 1);
	assert_answer(0, 503, false); /* at once, and nothing was stored */
	t.refuse = false;
	submit();
	ck_assert_int_eq(t.nsent, 2); /* the failed batch is not in flight */
	struct ingest_stats s = stats();
	ck_assert_int_eq(s.batches, 2);
	ck_assert_int_eq(s.failed_batches, 1);
}
END_TEST

/* ---- deadlines -------------------------------------------------------------------------- */

/* Calls behind a batch that does not return are answered 503 at their deadline (soon after:
 * it is checked every 10 ms; 310 ms is no multiple of that), nothing stored; the batch in
 * flight is the database's to answer in time. */
START_TEST(test_deadline_behind_batch)
{
	start_queue(4, 1000, 310, 50);
	submit();
	ck_assert(run_until(&t.nsent, 1, 2000));
	submit();
	submit();
	ck_assert(run_until(&t.nanswered, 2, 3000));
	for (int i = 1; i <= 2; i++) {
		assert_answer(i, 503, false);
		int64_t waited = t.answered_us[i] - t.calls[i].started_us;
		ck_assert_msg(waited >= 310000 && waited < 460000, "answered after %lld us",
			      (long long)waited);
	}
	ck_assert_int_eq(t.answers[0], 0);
	ck_assert_int_eq(t.nsent, 1);
	ck_assert_int_eq(stats().failed_calls, 2);
	report(0, BATCH_RESULT_FAILED);
	assert_answer(0, 503, false);
}
END_TEST

/* A batch is sent with the time left to its oldest call's deadline; with no more than the
 * margin left it is not sent at all. */
START_TEST(test_deadline_budget)
{
	start_queue(1, 1000, 200, 50);
	submit_started(evloop_now_us() - 100000);
	ck_assert_int_eq(t.nsent, 1);
	ck_assert_int_le(t.left_ms[0], 100);
	ck_assert_int_gt(t.left_ms[0], 60);
	ck_assert_int_eq(t.budget_ms[0], t.left_ms[0] - 50);
	report(0, BATCH_RESULT_FAILED);
	submit_started(0); /* no start time: the whole deadline */
	ck_assert_int_eq(t.left_ms[1], 200);
	report(1, BATCH_RESULT_FAILED);

	submit_started(evloop_now_us() - 155000);
	ck_assert_int_eq(t.nsent, 2); /* not sent */
	assert_answer(2, 503, false);
	struct ingest_stats s = stats();
	ck_assert_int_eq(s.batches, 3);
	ck_assert_int_eq(s.failed_batches, 3);
}
END_TEST

/* The oldest call of a batch sets its deadline. */
START_TEST(test_deadline_oldest_call)
{
	start_queue(3, 1000, 900, 100);
	submit();
	submit_started(evloop_now_us() - 500000);
	submit();
	ck_assert_int_eq(t.nsent, 1);
	ck_assert_int_le(t.left_ms[0], 400);
	ck_assert_int_gt(t.left_ms[0], 300);
}
END_TEST

/* Late: the callers are answered 503 "may or may not have been stored", the batch is kept
 * with what finds their usage rows, and the next batch leaves without waiting for it. */
START_TEST(test_late_batch)
{
	start_queue(2, 1000, 900, 100);
	submit();
	submit();
	submit();
	submit();
	ck_assert_int_eq(t.nsent, 1);
	struct ingest_batch *late = report(0, BATCH_RESULT_LATE);
	assert_answer(0, 503, true);
	assert_answer(1, 503, true);
	ck_assert(late->orphaned);
	ck_assert_int_gt(late->orphaned_us, 0);
	for (int i = 0; i < 2; i++) {
		ck_assert_ptr_null(late->slots[i].call);
		ck_assert_int_eq(late->slots[i].token_id, 100 + i);
		ck_assert_int_eq(late->slots[i].at_us, 1700000000000000 + i);
	}
	ck_assert_int_eq(t.nsent, 2);
	assert_batch(1, 2, 2);
	struct ingest_stats s = stats();
	ck_assert_int_eq(s.late_batches, 1);
	ck_assert_int_eq(s.failed_batches, 1);
	ck_assert_int_eq(s.failed_calls, 2);
	answer_stored(1);
	assert_answer(2, 204, false);
	/* Its outcome known at last (ingest.c logs it and fixes the usage rows): */
	ck_assert_ptr_eq(late->owner, &t);
	batch_orphan_release(late);
	ck_assert_int_eq(t.nanswered, 4);
}
END_TEST

/* Stopping answers everything once: queued calls (nothing stored), the batch in flight (may
 * have been stored); an orphaned batch is dropped. */
START_TEST(test_free_answers_all)
{
	start_queue(2, 1000, 900, 100);
	for (int i = 0; i < 5; i++)
		submit();
	report(0, BATCH_RESULT_LATE);
	ck_assert_int_eq(t.nsent, 2);
	t.calls[2].http_status = 204; /* set by a result that never arrived */
	batch_queue_free(t.q);
	t.q = NULL;
	assert_answer(2, 503, true);
	assert_answer(3, 503, true);
	assert_answer(4, 503, false);
	ck_assert_int_eq(t.nanswered, 5);
}
END_TEST

/* A client answered at its deadline that calls again from inside its answer. */
START_TEST(test_resubmit_from_answer)
{
	start_queue(4, 1000, 150, 50);
	submit();
	ck_assert(run_until(&t.nsent, 1, 2000));
	submit();
	submit();
	t.resubmit_from = 1;
	ck_assert(run_until(&t.nanswered, 4, 3000)); /* calls 1, 2, then 3 and 4 expire too */
	ck_assert_int_eq(t.order[0], 1);
	ck_assert_int_eq(t.order[1], 2);
	t.resubmit_from = 0;
	report(0, BATCH_RESULT_FAILED);
	ck_assert(run_until(&t.nsent, 2, 2000)); /* the calls made meanwhile leave */
	ck_assert_int_eq(t.nanswered, 5);
	ck_assert_int_eq(t.sent[1]->n, t.ncalls - t.nanswered);
}
END_TEST

Suite *make_suite_webhook_batch(void)
{
	Suite *s = suite_create("webhook_batch");
	TCase *tc = tcase_create("batching");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_full_batch_leaves_at_once);
	tcase_add_test(tc, test_delay);
	tcase_add_test(tc, test_one_in_flight);
	tcase_add_test(tc, test_wait_for_answered_clients);
	suite_add_tcase(s, tc);

	tc = tcase_create("answers");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_answered);
	tcase_add_test(tc, test_failed_and_lost);
	tcase_add_test(tc, test_send_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("deadlines");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_deadline_behind_batch);
	tcase_add_test(tc, test_deadline_budget);
	tcase_add_test(tc, test_deadline_oldest_call);
	tcase_add_test(tc, test_late_batch);
	tcase_add_test(tc, test_free_answers_all);
	tcase_add_test(tc, test_resubmit_from_answer);
	suite_add_tcase(s, tc);
	return s;
}
