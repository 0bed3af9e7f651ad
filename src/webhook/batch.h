/* SPDX-License-Identifier: Apache-2.0 */
/* batch: the group commit's queue, without PostgreSQL (README "Webhook endpoints", Group
 * commit). It owns which calls leave together and when: calls wait in one FIFO queue, a batch
 * takes up to max_batch of them, one batch is in flight at a time, and every call is answered
 * by its deadline: 503 when it could not leave in time, or when its batch is late (that batch
 * is then kept, orphaned, until its owner learns what became of it). Sending a batch and
 * reading its result are the owner's (ingest.c, which speaks to PostgreSQL); kept apart so
 * that the queue can be tested on its own. */
#ifndef HG_BATCH_H
#define HG_BATCH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include <event2/event.h>

#include "webhook/ingest.h"

/* What a queue has done, for its tests to observe. */
struct ingest_stats {
	uint64_t batches;	 /* sent to PostgreSQL */
	uint64_t calls;		 /* answered by a committed batch */
	uint64_t failed_batches; /* not sent, failed or timed out */
	uint64_t failed_calls;	 /* answered 503 */
	uint64_t late_batches;	 /* answered at the deadline, still running in PostgreSQL */
};

/* One call of a batch. call is NULL once its caller is answered; an orphaned batch keeps
 * token_id and at_us, which find the call's usage row. */
struct batch_slot {
	struct ingest_call *call;
	int64_t token_id;
	int64_t at_us;
};

struct ingest_batch {
	LIST_ENTRY(ingest_batch) link; /* the queue's: in flight, or orphaned */
	struct batch_queue *queue;
	void *owner;	     /* the queue's owner, as given to batch_queue_new */
	bool orphaned;	     /* answered at its deadline, its result still to come */
	int64_t orphaned_us; /* monotonic: when its callers were answered */
	int n;
	struct batch_slot slots[]; /* index = the call's place in the batch */
};

struct batch_config {
	int max_batch; /* calls per batch at most */
	/* A batch leaves this long after its first call, or at once when full; see batch_done
	 * for the wait after an answer. */
	int delay_us;
	int deadline_ms; /* every call is answered within this much of its started_us */
	/* A batch with no more than this left before its deadline is not sent: it could not
	 * commit and be answered in time. */
	int margin_ms;
};

/* Sends b, whose oldest call must be answered within left_ms; budget_ms (left_ms less the
 * margin) is what the statement itself may take. False when b cannot be sent: b then fails
 * (503, nothing stored). Otherwise batch_done must follow, possibly before this returns. */
typedef bool (*batch_send_fn)(struct ingest_batch *b, int left_ms, int budget_ms, void *owner);

/* What became of a batch, as its owner learned it. */
enum batch_result {
	/* The owner has set each stored or refused call's http_status (and code, message_id);
	 * a call left at 0 gets 503, nothing stored. */
	BATCH_RESULT_ANSWERED,
	/* Nothing of it was stored (not sent, or the database answered an error): 503. */
	BATCH_RESULT_FAILED,
	/* Sent and never answered: 503, it may or may not have been stored. */
	BATCH_RESULT_LOST,
	/* Still running at its deadline: 503 as LOST, and the batch is kept (orphaned) until
	 * batch_orphan_release; it no longer counts as the batch in flight. */
	BATCH_RESULT_LATE,
};

struct batch_queue;

struct batch_queue *batch_queue_new(struct event_base *base, const struct batch_config *cfg,
				    batch_send_fn send, void *owner);
/* Answers every call not yet answered with 503 (outcome unknown for a batch in flight) and
 * frees the orphaned batches, logging that their outcome stays unknown. */
void batch_queue_free(struct batch_queue *q);

/* call->done may run before this returns (the batch could not be sent: 503 at once). */
void batch_queue_submit(struct batch_queue *q, struct ingest_call *call);
/* Answers the calls of b (its callers' done) and frees it, or orphans it (LATE); then lets
 * the next batch leave. */
void batch_done(struct ingest_batch *b, enum batch_result result);
/* An orphaned batch's outcome is known (and dealt with by the owner): frees it. */
void batch_orphan_release(struct ingest_batch *b);

/* Calls waiting to leave in a batch. */
int batch_queue_depth(const struct batch_queue *q);
void batch_queue_stats(const struct batch_queue *q, struct ingest_stats *out);

#endif
