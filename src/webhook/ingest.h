/* SPDX-License-Identifier: Apache-2.0 */
/* ingest: a webhook worker's group commit (docs/api-webhooks.md). Calls accumulate
 * into batches, each written by one hookgate.ingest_batch() statement (sql/002_ingest.sql),
 * i.e. one transaction; a call is answered only once its batch has committed, or 503 if it failed
 * or PostgreSQL did not answer by the deadline. Such a late batch is kept until its result comes:
 * if it committed after all, ingest logs it and makes its usage rows record the 503. */
#ifndef HG_INGEST_H
#define HG_INGEST_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>

#include "core/module.h"
#include "pg/db.h"

/* ingest_call.status for a call whose target and permission PostgreSQL decides. */
#define INGEST_STATUS_DECIDE 0
/* A batch (and the calls waiting for one) must be answered within this much of the calls'
 * start, PostgreSQL up or not. */
#define INGEST_DEADLINE_MS 900

struct ingest_call;
typedef void (*ingest_done_cb)(struct ingest_call *call, void *arg);

/* Filled by the caller; every pointer must stay valid until done runs. */
struct ingest_call {
	int64_t token_id;
	int64_t user_id;
	int generation; /* of the secret the call used (token_info.generation) */
	/* INGEST_STATUS_DECIDE, or the status the worker already answers (400, 413, 415, 429,
	 * 401 token_disabled, ...), which then only needs its usage row and count. */
	int status;
	enum module_kind module;
	const char *target;	  /* channel or bot name, lowercase; or the app id */
	const char *appkey_hash;  /* hex of the appkey's look-up hash; NULL without an appkey */
	const char *content_type; /* stored with the message */
	/* Valid UTF-8 without NUL bytes (the worker refuses those): PostgreSQL text cannot
	 * hold a NUL. */
	const char *body;
	const char *idem_key;	 /* NULL without Idempotency-Key */
	const char *client_addr; /* NULL when unknown */
	const char *user_agent;	 /* NULL when absent */
	int64_t request_bytes;
	int64_t started_us; /* monotonic (as http_request.started_us): latency, deadline */
	int64_t at_us;	    /* wall clock (µs since the epoch) when the call arrived */
	ingest_done_cb done;
	void *arg;

	/* The answer, set before done runs. code is a static string, or left as the caller set
	 * it where the status is the caller's own (and for 204). message_id is 0 unless stored
	 * (or replayed) as a message. A failed batch gives 503 "unavailable" to all its calls;
	 * outcome_unknown is then false when nothing of it was stored (PostgreSQL refused it or
	 * never got it), true when it was sent and not answered in time: it may commit later. */
	int http_status;
	const char *code;
	int64_t message_id;
	bool outcome_unknown;
	/* The committed batch's transaction id (as hookgate.messages.xid holds it), 0 when its
	 * batch did not commit: what the access log calls the batch id. */
	uint64_t batch_xid;

	struct ingest_call *next; /* private */
};

struct ingest;

/* max_batch calls per batch at most; a batch leaves delay_us after its first call, or at once
 * when full. One batch is in flight at a time; calls arriving meanwhile wait and form the next
 * batch, which leaves once the clients just answered have sent their next calls too, or
 * delay_us after the answer (the queue is webhook/batch.h's). A late batch, answered at the
 * deadline and still waiting for its result (up to 30 s, on its connection), does not count
 * as the one in flight. (Expired idempotency keys are purged by the housekeeping process.)
 * node (node.name, copied) goes into the usage row of every call. */
struct ingest *ingest_new(struct event_base *base, struct db_pool *pool, int max_batch,
			  int delay_us, const char *node);
/* Answers every call not yet answered with 503 (outcome unknown for a batch in flight) and
 * drops the late batches, logging that their outcome stays unknown. Free it only once the loop
 * has stopped (the pool never calls back into a freed ingest). */
void ingest_free(struct ingest *ing);

/* done may run before this returns (no connection: 503 at once). */
void ingest_submit(struct ingest *ing, struct ingest_call *call);

#endif
