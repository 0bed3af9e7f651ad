/* SPDX-License-Identifier: Apache-2.0 */
/* delivery feed: first attempts read from the feed with delivery_take while this worker holds
 * the feed lease, their positions, the acknowledgement (feed_ack) up to the oldest one not yet
 * done, and the hand-off to the queue of first attempts unfinished after HANDOFF_MS. */
#include "delivery/dest.h"
#include "delivery/worker_int.h"
#include "lib/clock.h"
#include "pg/lease.h"
#include "proc/metrics.h"
#include "proc/worker.h"

#include <stdio.h>
#include <stdlib.h>

#define HANDOFF_MS 2000 /* a first attempt unfinished this long is parked */

/* ---- the feed: first attempts -------------------------------------------------------------- */

static struct feed_pos *pos_add(struct delivery *dw, const char *position)
{
	struct feed_pos *p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	snprintf(p->position, sizeof(p->position), "%s", position);
	p->epoch = dw->lease_epoch;
	p->taken_ms = clock_mono_ms();
	if (dw->pos_tail)
		dw->pos_tail->next = p;
	else
		dw->pos_head = p;
	dw->pos_tail = p;
	return p;
}

/* delivery_take's columns: position, message_id, destination_id, module, target,
 * token_public_id, content_type, body, at. */
static void take_row(struct delivery *dw, PGresult *res, int r)
{
	static const int cols[7] = { 1, 2, 3, 4, 5, 6, 7 };
	/* Each row is after the last one taken: delivery_take reads on from last_taken. */
	const char *position = PQgetvalue(res, r, 0);
	snprintf(dw->last_taken, sizeof(dw->last_taken), "%s", position);
	struct feed_pos *p = pos_add(dw, position);
	if (p == NULL)
		return;		      /* not acknowledged: read again after a restart */
	if (PQgetisnull(res, r, 2)) { /* no destination: nothing to deliver */
		p->done = true;
		return;
	}
	struct delivery_item *it = dw_item_new(dw, res, r, cols, true);
	if (it == NULL)
		return;
	it->attempt = 1;
	it->pos = p;
	p->item = it;
	snprintf(it->first_at, sizeof(it->first_at), "%s", PQgetvalue(res, r, 8));
	dw_dispatch_first(dw, it);
}

static void take_done(PGresult *res, void *arg)
{
	struct delivery *dw = arg;
	dw->take_inflight = false;
	if (!dw_result_ok(res, "delivery_take") || !lease_held(dw->lease))
		return;
	int n = PQntuples(res);
	for (int r = 0; r < n; r++)
		take_row(dw, res, r);
	/* The feed's lag: how old the last message handed out was (0 when caught up). */
	metrics_gauge_set(METRICS_GAUGE_FEED_LAG_US,
			  n > 0 && !PQgetisnull(res, n - 1, 9)
				  ? strtoll(PQgetvalue(res, n - 1, 9), NULL, 10)
				  : 0);
	delivery_pump(dw);
	/* A whole batch: there may be more behind it (a backlog), read on at once. So too when a
	 * NOTIFY came meanwhile: its batch may have committed after this read's tick, and waiting
	 * for the next NOTIFY or the poll would delay it by up to a second. */
	dw->take_full = n >= dw->w->cfg->delivery_batch;
	if (dw->take_full || dw->take_again)
		dw_take(dw);
}

static bool may_take(const struct delivery *dw)
{
	const struct hg_config *cfg = dw->w->cfg;
	return !dw->w->draining && !dw->take_inflight && lease_held(dw->lease) &&
	       dest_cache_loaded(dw->dests) && dw->nrows < OUTCOMES_MAX / 2 &&
	       dw->items - dw->retry_items < cfg->delivery_max_inflight + cfg->delivery_batch;
}

void dw_take_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	dw_take(arg);
}

/* Not before TAKE_INTERVAL_MS after the last take started, unless that one was a whole batch
 * (a backlog: read on at once): the timer takes then. */
static bool take_paced(struct delivery *dw)
{
	int64_t wait = dw->take_started_ms + TAKE_INTERVAL_MS - clock_mono_ms();
	if (dw->take_full || wait <= 0)
		return false;
	if (!evtimer_pending(dw->take_timer, NULL)) {
		struct timeval tv = { 0, (suseconds_t)(wait * 1000) };
		evtimer_add(dw->take_timer, &tv);
	}
	return true;
}

void dw_take(struct delivery *dw)
{
	if (!may_take(dw) || take_paced(dw))
		return;
	dw->take_started_ms = clock_mono_ms();
	dw->take_again = false;
	char max[16];
	snprintf(max, sizeof(max), "%d", dw->w->cfg->delivery_batch);
	/* From the last position taken under this lease, not the acknowledged one: acks come
	 * once a second, reads as fast as deliveries go out. */
	const char *params[3] = { dw->owner, max, dw->last_taken[0] ? dw->last_taken : NULL };
	dw->take_inflight = db_query(dw->w->db,
				     "SELECT position, message_id, destination_id, module, target, "
				     "token_public_id, content_type, body, at, "
				     "(extract(epoch FROM now() - at) * 1000000)::bigint "
				     "FROM hookgate.delivery_take($1, $2::integer, $3)",
				     3, params, SQL_TIMEOUT_MS, take_done, dw);
}

void dw_feed_notified(const char *channel, const char *payload, void *arg)
{
	(void)channel;
	(void)payload;
	struct delivery *dw = arg;
	if (dw->take_inflight)
		dw->take_again = true;
	dw_take(dw);
}

static void ack_done(PGresult *res, void *arg)
{
	struct delivery *dw = arg;
	dw->ack_inflight = false;
	dw_result_ok(res, "feed_ack");
}

/* Acknowledges the feed up to the last of the done positions at its head. */
void dw_ack(struct delivery *dw)
{
	char last[48] = "";
	if (dw->ack_inflight || !lease_held(dw->lease))
		return; /* the done positions wait for the next one */
	while (dw->pos_head && dw->pos_head->done) {
		struct feed_pos *p = dw->pos_head;
		if (p->epoch == dw->lease_epoch)
			snprintf(last, sizeof(last), "%s", p->position);
		dw->pos_head = p->next;
		if (dw->pos_head == NULL)
			dw->pos_tail = NULL;
		free(p);
	}
	if (last[0] == '\0')
		return;
	const char *params[1] = { last };
	dw->ack_inflight = db_query(dw->w->db, "SELECT hookgate.feed_ack('delivery', $1)", 1,
				    params, SQL_TIMEOUT_MS, ack_done, dw);
}

/* First attempts unfinished after HANDOFF_MS go to the queue, so the feed can move on past
 * them: one waiting in memory leaves it (due now); one in flight stays, and its queue row
 * waits until well after its time-out (the outcome, recorded later, replaces the row). */
void dw_handoff(struct delivery *dw)
{
	int64_t now = clock_mono_ms();
	int64_t later = dw_wall_ms() + dw->w->cfg->delivery_timeout_ms + LEASE_MARGIN_MS;
	for (struct feed_pos *p = dw->pos_head; p; p = p->next) {
		if (now - p->taken_ms < HANDOFF_MS)
			break;
		struct delivery_item *it = p->item;
		if (p->done || it == NULL)
			continue;
		if (it->inflight) {
			dw_park(dw, it, later);
		} else {
			dw_fifo_remove_first(it->ds, it);
			dw_park(dw, it, dw_wall_ms());
		}
	}
}

void dw_lease_changed(bool held, void *arg)
{
	struct delivery *dw = arg;
	dw->lease_epoch++; /* positions read under another lease are never acknowledged */
	dw->last_taken[0] = '\0';
	if (held)
		dw_take(dw);
	else /* another process reads the feed now, and reports its lag */
		metrics_gauge_set(METRICS_GAUGE_FEED_LAG_US, 0);
}
