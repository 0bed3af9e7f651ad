/* SPDX-License-Identifier: Apache-2.0 */
/* batch: see batch.h. Calls wait in one FIFO queue; a batch takes up to max_batch of them from
 * its head. One timer serves the batching delay and the deadline of calls that cannot be sent
 * yet (a batch is in flight), and nothing else. A batch still running at its deadline is
 * orphaned: its callers are answered, and it waits, off the in-flight list, for the owner to
 * learn what became of it. */
#include "webhook/batch.h"
#include "core/log.h"
#include "lib/clock.h"

#include <stdlib.h>
#include <time.h>

/* While calls wait for the batch in flight, their deadlines are checked this often. */
#define BATCH_RECHECK_US 10000

struct batch_queue {
	struct batch_config cfg;
	batch_send_fn send;
	void *owner;
	struct event *timer;
	struct ingest_call *head;
	struct ingest_call **tail;
	int nqueued;
	int64_t queued_since_us; /* when the oldest queued call was submitted */
	int want;		 /* after a batch: wait for this many queued calls ... */
	int64_t want_until_us;	 /* ... or until then (see batch_done) */
	LIST_HEAD(, ingest_batch) inflight;
	int ninflight;
	LIST_HEAD(, ingest_batch) orphans; /* answered, their statements still running */
	struct ingest_stats stats;
};

static void queue_pump(struct batch_queue *q, bool due);

static void call_unavailable(struct ingest_call *c, bool unknown)
{
	c->http_status = 503;
	c->code = "unavailable";
	c->message_id = 0;
	c->outcome_unknown = unknown;
}

/* Answers every call of b: 503 for those the database did not answer, which may have been
 * stored when unknown (the batch was sent and not answered), and surely were not otherwise. */
static void batch_answer(struct ingest_batch *b, bool unknown)
{
	struct batch_queue *q = b->queue;
	for (int i = 0; i < b->n; i++) {
		struct ingest_call *c = b->slots[i].call;
		b->slots[i].call = NULL; /* done frees it */
		if (c->http_status == 0) {
			call_unavailable(c, unknown);
			q->stats.failed_calls++;
		} else {
			q->stats.calls++;
		}
		c->done(c, c->arg);
	}
}

static void batch_finish(struct ingest_batch *b, bool unknown)
{
	batch_answer(b, unknown);
	free(b);
}

/* b's statement still runs at the deadline: its callers are answered now (503, outcome
 * unknown) and b, keeping of each call only what finds its usage row, waits for its result in
 * q->orphans. It no longer counts as the batch in flight: the next one may leave. */
static void batch_orphan(struct ingest_batch *b)
{
	struct batch_queue *q = b->queue;

	for (int i = 0; i < b->n; i++) {
		b->slots[i].token_id = b->slots[i].call->token_id;
		b->slots[i].at_us = b->slots[i].call->at_us;
	}
	b->orphaned = true;
	b->orphaned_us = clock_mono_us();
	LIST_INSERT_HEAD(&q->orphans, b, link);
	q->stats.late_batches++;
	batch_answer(b, true);
}

void batch_done(struct ingest_batch *b, enum batch_result result)
{
	struct batch_queue *q = b->queue;
	int answered = b->n;

	LIST_REMOVE(b, link);
	q->ninflight--;
	if (result != BATCH_RESULT_ANSWERED)
		q->stats.failed_batches++;
	if (result == BATCH_RESULT_LATE)
		batch_orphan(b);
	else
		batch_finish(b, result == BATCH_RESULT_LOST);
	/* The next batch waits (delay_us at most) for the clients just answered to send their
	 * next calls. Sent at once, it would hold only what queued meanwhile: the connections
	 * would split into two halves taking turns, in batches half as big as they can be, and
	 * each batch costs PostgreSQL a fixed price (statements, commit) besides its calls.
	 * Measured: 17-18 calls per batch without, 25 with; one hot token 11-15k -> 15-17k/s. */
	q->want = q->nqueued + answered;
	if (q->want > q->cfg.max_batch)
		q->want = q->cfg.max_batch;
	q->want_until_us = clock_mono_us() + q->cfg.delay_us;
	evtimer_del(q->timer);
	queue_pump(q, true);
}

void batch_orphan_release(struct ingest_batch *b)
{
	LIST_REMOVE(b, link);
	free(b);
}

/* Takes up to max_batch calls from the head of the queue. */
static struct ingest_batch *batch_take(struct batch_queue *q)
{
	int n = q->nqueued < q->cfg.max_batch ? q->nqueued : q->cfg.max_batch;
	struct ingest_batch *b = calloc(1, sizeof(*b) + (size_t)n * sizeof(b->slots[0]));
	if (b == NULL)
		return NULL;
	b->queue = q;
	b->owner = q->owner;
	b->n = n;
	for (int i = 0; i < n; i++) {
		b->slots[i].call = q->head;
		q->head = q->head->next;
	}
	q->nqueued -= n;
	if (q->head == NULL)
		q->tail = &q->head;
	q->queued_since_us = clock_mono_us();
	return b;
}

/* Milliseconds left before the batch's oldest call must be answered; <= 0 when none. */
static int batch_time_left_ms(const struct batch_queue *q, const struct ingest_batch *b)
{
	int64_t oldest = 0, now = clock_mono_us();
	for (int i = 0; i < b->n; i++) {
		int64_t s = b->slots[i].call->started_us;
		if (s != 0 && (oldest == 0 || s < oldest))
			oldest = s;
	}
	if (oldest == 0)
		return q->cfg.deadline_ms;
	return (int)((oldest + (int64_t)q->cfg.deadline_ms * 1000 - now) / 1000);
}

static void batch_send(struct batch_queue *q, struct ingest_batch *b)
{
	int left_ms = batch_time_left_ms(q, b);
	int budget_ms = left_ms - q->cfg.margin_ms;

	LIST_INSERT_HEAD(&q->inflight, b, link);
	q->ninflight++;
	q->stats.batches++;
	/* send may fail the batch before returning (connection lost while sending): batch_done
	 * then already ran, which is why b is in the list before. */
	if (budget_ms <= 0 || !q->send(b, left_ms, budget_ms, q->owner)) {
		LIST_REMOVE(b, link);
		q->ninflight--;
		q->stats.failed_batches++;
		batch_finish(b, false);
	}
}

/* Answers 503 to the queued calls that started before limit_us (all of them for INT64_MAX):
 * calls that cannot be sent in time get their answer now rather than wait for a connection.
 * They are unlinked first, since a done callback may submit again. */
static void queue_expire(struct batch_queue *q, int64_t limit_us)
{
	struct ingest_call **pp = &q->head, *c, *expired = NULL, **etail = &expired;

	while ((c = *pp) != NULL) {
		if (limit_us != INT64_MAX && (c->started_us == 0 || c->started_us > limit_us)) {
			pp = &c->next;
			continue;
		}
		*pp = c->next;
		q->nqueued--;
		c->next = NULL;
		*etail = c;
		etail = &c->next;
	}
	q->tail = pp;
	while ((c = expired) != NULL) {
		expired = c->next;
		call_unavailable(c, false);
		q->stats.failed_calls++;
		c->done(c, c->arg);
	}
}

static void timer_arm(struct batch_queue *q, int64_t us)
{
	struct timeval tv = { (time_t)(us / 1000000), (suseconds_t)(us % 1000000) };
	evtimer_add(q->timer, &tv);
}

/* Whether the head of the queue leaves now: when it fills a batch, or when due (the delay has
 * passed, a batch was just answered, or enough calls arrived) unless batch_done asked to wait
 * for more calls and neither they nor the end of that wait have come. */
static bool batch_ready(const struct batch_queue *q, bool due)
{
	if (q->nqueued >= q->cfg.max_batch)
		return true;
	if (!due)
		return false;
	return q->want == 0 || q->nqueued >= q->want || clock_mono_us() >= q->want_until_us;
}

/* Sends what may be sent, one batch in flight at a time. Every batch locks its tokens' rows
 * until it commits, so two batches of one worker would mostly wait for each other (measured:
 * p99 191 ms with two, 48 ms with one); one bigger batch does the same work in one commit, and
 * the pool's other connection stays free for token look-ups and /healthz. With no connection
 * up, the batch fails at once instead of being held. */
static void queue_pump(struct batch_queue *q, bool due)
{
	const int limit = 1;

	while (q->nqueued > 0 && q->ninflight < limit && batch_ready(q, due)) {
		struct ingest_batch *b = batch_take(q);
		if (b == NULL)
			break;
		q->want = 0;
		batch_send(q, b);
	}
	if (q->nqueued == 0) {
		evtimer_del(q->timer);
	} else if (!evtimer_pending(q->timer, NULL) && q->want > 0) {
		int64_t left = q->want_until_us - clock_mono_us();
		timer_arm(q, left > 0 ? left : 0);
	} else if (!evtimer_pending(q->timer, NULL)) {
		int64_t waited = clock_mono_us() - q->queued_since_us;
		timer_arm(q,
			  waited >= q->cfg.delay_us ? BATCH_RECHECK_US : q->cfg.delay_us - waited);
	}
}

static void queue_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct batch_queue *q = arg;
	(void)fd;
	(void)what;
	queue_expire(q, clock_mono_us() - (int64_t)q->cfg.deadline_ms * 1000);
	queue_pump(q, true);
}

void batch_queue_submit(struct batch_queue *q, struct ingest_call *call)
{
	call->http_status = 0;
	call->message_id = 0;
	call->outcome_unknown = false;
	call->next = NULL;
	if (q->nqueued == 0)
		q->queued_since_us = clock_mono_us();
	*q->tail = call;
	q->tail = &call->next;
	q->nqueued++;
	queue_pump(q, q->want > 0 && q->nqueued >= q->want);
}

struct batch_queue *batch_queue_new(struct event_base *base, const struct batch_config *cfg,
				    batch_send_fn send, void *owner)
{
	struct batch_queue *q = calloc(1, sizeof(*q));
	if (q == NULL)
		return NULL;
	q->cfg = *cfg;
	if (q->cfg.max_batch < 1)
		q->cfg.max_batch = 1;
	if (q->cfg.delay_us < 0)
		q->cfg.delay_us = 0;
	q->send = send;
	q->owner = owner;
	q->tail = &q->head;
	LIST_INIT(&q->inflight);
	LIST_INIT(&q->orphans);
	q->timer = evtimer_new(base, queue_timer_cb, q);
	if (q->timer == NULL) {
		free(q);
		return NULL;
	}
	return q;
}

void batch_queue_free(struct batch_queue *q)
{
	struct ingest_batch *b;
	if (q == NULL)
		return;
	/* A batch in flight may already be in PostgreSQL: its outcome is unknown. */
	while ((b = LIST_FIRST(&q->inflight)) != NULL) {
		LIST_REMOVE(b, link);
		q->ninflight--;
		log_warn("stopping: ingest batch of %d calls not answered by PostgreSQL yet; "
			 "answered 503, whether it was stored stays unknown",
			 b->n);
		for (int i = 0; i < b->n; i++)
			b->slots[i].call->http_status = 0;
		batch_finish(b, true);
	}
	while ((b = LIST_FIRST(&q->orphans)) != NULL) {
		LIST_REMOVE(b, link);
		log_warn("stopping: ingest batch of %d calls answered 503 at its deadline has "
			 "had no answer from PostgreSQL; whether those calls were stored stays "
			 "unknown (message ids unknown)",
			 b->n);
		free(b);
	}
	queue_expire(q, INT64_MAX);
	event_free(q->timer);
	free(q);
}

int batch_queue_depth(const struct batch_queue *q)
{
	return q->nqueued;
}

void batch_queue_stats(const struct batch_queue *q, struct ingest_stats *out)
{
	*out = q->stats;
}
