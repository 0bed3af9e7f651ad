/* SPDX-License-Identifier: Apache-2.0 */
/* delivery worker internals: the state the delivery role's modules share (struct delivery,
 * its items, feed positions, per-destination state and the rows waiting to be written) and the
 * functions they call across files. Only src/delivery/ includes it. */
#ifndef HG_DELIVERY_WORKER_INT_H
#define HG_DELIVERY_WORKER_INT_H

#include "pg/db.h"

#include <event2/event.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SQL_TIMEOUT_MS 10000
#define LEASE_MARGIN_MS 60000 /* a claimed row's lease: delivery.timeout + this */
#define OUTCOMES_MAX 8192     /* outcomes and parks kept while PostgreSQL is away */
/* Takes start at most this often unless the last one was a whole batch. A take costs about a
 * millisecond of PostgreSQL's time whatever it returns; under load a NOTIFY comes every batch
 * commit, and a take each time cost more than the deliveries themselves. Adds up to this to
 * a message's way to its destination. */
#define TAKE_INTERVAL_MS 10

struct delivery;

/* A feed position handed out by delivery_take, acknowledged once done. */
struct feed_pos {
	struct feed_pos *next;
	char position[48];
	bool done;
	unsigned epoch;		    /* of the lease that read it */
	struct delivery_item *item; /* while its delivery is not recorded or parked */
	int64_t taken_ms;
};

/* One delivery (a message to a destination) held in memory. */
struct delivery_item {
	struct delivery_item *next;
	struct delivery *dw;
	struct dest_state *ds;
	int64_t message_id, destination_id;
	int attempt;	      /* this attempt's number, 1 = first */
	bool first;	      /* from the feed (else claimed from the queue) */
	struct feed_pos *pos; /* of a first attempt until it is parked */
	bool inflight;
	char first_at[48];
	char *module, *target, *token_id, *content_type, *body;
	size_t body_len;
	char *headers[8];
};

/* What the worker knows of one destination at run time. */
struct dest_state {
	struct dest_state *next; /* hash chain */
	int64_t id;
	struct delivery_item *first_head, *first_tail, *retry_head, *retry_tail;
	int firsts, retries;
	int inflight, inflight_retries;
	int64_t paused_until_ms; /* monotonic */
	bool failing, disabled;
};

/* An outcome or a park, waiting to be written. */
struct delivery_row {
	bool park;
	int64_t message_id, destination_id;
	int attempt;
	const char *outcome;
	long http_status;
	char error[64];
	int64_t latency_us;
	char *response;
	char next_at[48], first_at[48], at[48]; /* park: due_at in next_at */
	struct feed_pos *pos;
};

#define DEST_BUCKETS 256

struct delivery {
	struct worker *w;
	bool restarted;
	char owner[128];
	struct lease *lease;
	unsigned lease_epoch;
	struct db_pool *pool; /* claim, record, park, release, destinations */
	struct dest_cache *dests;
	struct netpolicy *policy;
	struct post_ctx *post;
	struct event *tick;
	unsigned ticks;
	struct dest_state *buckets[DEST_BUCKETS];
	int items, inflight, retry_items;
	struct feed_pos *pos_head, *pos_tail;
	char last_taken[48];
	bool take_inflight, claim_inflight, ack_inflight, write_inflight;
	bool take_again; /* a NOTIFY came while a take was in flight */
	bool take_full;	 /* the last take was a whole batch: read on at once */
	int64_t take_started_ms;
	struct event *take_timer; /* the next take, once TAKE_INTERVAL_MS have passed */
	struct delivery_row *rows;
	int nrows;
	int nwriting; /* rows at the buffer's head in the statement in flight */
	bool write_failing;
	int drain_phase; /* 0: running; 1: in flight finishing; 2: writing; 3: ack + release */
	int64_t requests_deadline_ms;	  /* phase 1 ends then at the latest */
	bool final_ack, release_inflight; /* the drain's last statements */
	bool pumping, pump_again;
};

/* worker.c: small helpers */
int64_t dw_wall_ms(void);
void dw_format_time(int64_t unix_ms, char *out, size_t len);
bool dw_result_ok(PGresult *res, const char *what);

/* item.c: items, their FIFOs and the per-destination state */
struct dest_state *dw_dest_state(struct delivery *dw, int64_t id);
void dw_item_free(struct delivery *dw, struct delivery_item *it);
struct delivery_item *dw_item_new(struct delivery *dw, PGresult *res, int r, const int cols[7],
				  bool first);
void dw_fifo_push(struct delivery_item **head, struct delivery_item **tail,
		  struct delivery_item *it);
struct delivery_item *dw_fifo_pop(struct delivery_item **head, struct delivery_item **tail);
void dw_fifo_remove_first(struct dest_state *ds, struct delivery_item *it);
void dw_free_dest_states(struct delivery *dw);

/* dispatch.c: parks, attempts and their outcomes, the per-destination caps */
void dw_park(struct delivery *dw, struct delivery_item *it, int64_t due_ms);
void delivery_pump(struct delivery *dw);
void dw_dispatch_first(struct delivery *dw, struct delivery_item *it);

/* feed.c: first attempts from the feed, under the feed lease */
void dw_take(struct delivery *dw);
void dw_take_timer_cb(evutil_socket_t fd, short what, void *arg);
void dw_feed_notified(const char *channel, const char *payload, void *arg);
void dw_ack(struct delivery *dw);
void dw_handoff(struct delivery *dw);
void dw_lease_changed(bool held, void *arg);

/* claim.c: retries, parked and replayed deliveries from the queue */
void dw_claim(struct delivery *dw);

/* outcomes.c: the rows buffer, written with delivery_record and delivery_park */
void delivery_push_row(struct delivery *dw, const struct delivery_row *row);
void dw_write_rows(struct delivery *dw);

#endif
