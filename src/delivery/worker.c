/* SPDX-License-Identifier: Apache-2.0 */
/* delivery_worker: see delivery/worker.h.
 *
 * Two PostgreSQL pools. The worker skeleton's pool has one connection and carries the feed
 * lease (a session advisory lock, pg/lease.h): delivery_take and feed_ack run there, so only the
 * lease holder ever reads or moves the feed. A second one-connection pool carries everything
 * else (destinations, claim, record, park, release), in the order it was sent.
 *
 * Memory stays bounded: each destination has two FIFOs (first attempts from the feed, retries
 * from the queue); a first attempt that cannot go out soon (destination disabled, paused after
 * 429/502/503/504, its FIFO full, or waiting longer than HANDOFF_MS) is parked in the queue,
 * so the feed position can move on. The feed is acknowledged only up to the oldest position
 * whose outcome (or park) PostgreSQL has committed: a crash before that delivers again. */
#include "delivery/worker.h"
#include "core/log.h"
#include "delivery/dest.h"
#include "delivery/netpolicy.h"
#include "delivery/post.h"
#include "delivery/worker_int.h"
#include "pg/lease.h"
#include "proc/worker.h"
#include "lib/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* The lease's advisory lock: "hkgt" and 4 (housekeeping has 2, the fold 1, feed_tick 3). */
#define DELIVERY_LOCK_KEY1 1751869300
#define DELIVERY_LOCK_KEY2 4
#define DELIVERY_APPLICATION_NAME "hookgated delivery"
#define TICK_MS 50
#define TICKS_PER_SECOND (1000 / TICK_MS)

/* ---- time and small helpers ---------------------------------------------------------------- */

int64_t dw_wall_ms(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* ISO 8601 in UTC, which PostgreSQL reads as a timestamptz. */
void dw_format_time(int64_t unix_ms, char *out, size_t len)
{
	time_t s = (time_t)(unix_ms / 1000);
	struct tm tm;
	gmtime_r(&s, &tm);
	char buf[32];
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, len, "%s.%03dZ", buf, (int)(unix_ms % 1000));
}

bool dw_result_ok(PGresult *res, const char *what)
{
	if (res != NULL &&
	    (PQresultStatus(res) == PGRES_TUPLES_OK || PQresultStatus(res) == PGRES_COMMAND_OK))
		return true;
	if (res != NULL) /* a lost connection is logged by the pool */
		log_warn("%s failed: %s", what, PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
	return false;
}

/* ---- the drain (SIGTERM) ------------------------------------------------------------------- */

static void release_done(PGresult *res, void *arg)
{
	struct delivery *dw = arg;
	dw->release_inflight = false;
	dw_result_ok(res, "delivery_release");
}

/* Stop taking; let what is in flight finish until shutdown_timeout; write every outcome;
 * acknowledge the feed; hand back the claimed rows not attempted. Each phase waits on the
 * coarse tick; past the deadline, what is left is delivered again by whoever comes next. */
static void drain_step(struct delivery *dw)
{
	struct worker *w = dw->w;
	int64_t now = clock_mono_ms();
	bool late = now >= w->drain_deadline_ms;
	if (dw->drain_phase == 1 && (dw->inflight == 0 || now >= dw->requests_deadline_ms)) {
		if (dw->inflight > 0)
			log_warn("shutdown timeout: %d delivery(ies) still in flight are left to a "
				 "later attempt",
				 dw->inflight);
		dw->drain_phase = 2;
	}
	if (dw->drain_phase == 2 && ((dw->nrows == 0 && !dw->write_inflight) || late)) {
		dw->drain_phase = 3;
		dw->final_ack = true;
		const char *params[1] = { dw->owner };
		dw->release_inflight = db_query(dw->pool, "SELECT hookgate.delivery_release($1)", 1,
						params, SQL_TIMEOUT_MS, release_done, dw);
	}
	if (dw->drain_phase == 3 && dw->final_ack && !dw->ack_inflight) {
		/* after any acknowledgement already on its way, one for everything done since */
		dw->final_ack = false;
		dw_ack(dw);
	}
	if (dw->drain_phase == 3 &&
	    ((!dw->final_ack && !dw->ack_inflight && !dw->release_inflight) || late))
		event_base_loopexit(w->base, NULL);
}

static bool delivery_drain(struct worker *w)
{
	struct delivery *dw = w->role;
	/* Half the time for the requests in flight (nothing new starts: what waits in memory is
	 * read again from the feed, or handed back by delivery_release), the rest for writing
	 * down what became of them. */
	dw->requests_deadline_ms = w->drain_deadline_ms - w->cfg->shutdown_timeout_ms / 2;
	dw->drain_phase = 1;
	return true;
}

/* ---- the loop's one coarse timer ----------------------------------------------------------- */

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct delivery *dw = arg;
	(void)fd;
	(void)what;
	dw_write_rows(dw);
	dest_cache_tick(dw->dests);
	if (dw->drain_phase > 0) {
		drain_step(dw);
		return;
	}
	delivery_pump(dw); /* pauses that ended */
	if (++dw->ticks % TICKS_PER_SECOND != 0)
		return;
	dw_handoff(dw);
	dw_ack(dw);
	dw_take(dw);
	dw_claim(dw);
}

/* ---- set-up ------------------------------------------------------------------------------- */

static void dest_changed(int64_t id, const struct dest *d, void *arg)
{
	struct delivery *dw = arg;
	struct dest_state *ds = dw_dest_state(dw, id);
	if (ds == NULL)
		return;
	bool disabled = d == NULL || !d->enabled;
	if (disabled && !ds->disabled && d != NULL)
		log_info("destination %s:%s disabled", d->module, d->target);
	else if (!disabled && ds->disabled)
		log_info("destination %s:%s enabled", d->module, d->target);
	ds->disabled = disabled;
	if (!disabled)
		ds->failing = ds->failing && d != NULL;
}

static void pool_connected(void *arg)
{
	struct delivery *dw = arg;
	dest_cache_invalidate(dw->dests);
}

static void lease_connected(void *arg)
{
	struct worker *w = arg;
	struct delivery *dw = w->role;
	lease_reconnected(dw->lease);
}

static bool policy_allows(const struct sockaddr *sa, void *arg)
{
	return netpolicy_allows(arg, sa);
}

static bool delivery_setup(struct worker *w)
{
	struct delivery *dw = w->role;
	const struct hg_config *cfg = w->cfg;
	char host[64] = "", err[256] = "";
	gethostname(host, sizeof(host) - 1);
	snprintf(dw->owner, sizeof(dw->owner), "%s:%d:%d", host, (int)getpid(), w->index);
	dw->w = w;
	dw->rows = calloc(OUTCOMES_MAX, sizeof(dw->rows[0]));
	dw->policy = netpolicy_new(cfg->delivery_allow_networks, err, sizeof(err));
	if (dw->policy == NULL) {
		log_error("delivery.allow_networks: %s", err);
		return false;
	}
	dw->post = post_ctx_new(w->base, cfg->delivery_ca_file, cfg->delivery_max_inflight,
				policy_allows, dw->policy);
	dw->pool = db_pool_new(w->base, cfg->conninfo, DELIVERY_APPLICATION_NAME, 1, pool_connected,
			       dw);
	dw->tick = event_new(w->base, -1, EV_PERSIST, tick_cb, dw);
	dw->take_timer = evtimer_new(w->base, dw_take_timer_cb, dw);
	if (!dw->rows || !dw->post || !dw->pool || !dw->tick || !dw->take_timer)
		return false;
	dw->dests = dest_cache_new(dw->pool, &w->keys, dest_changed, dw);
	if (dw->dests == NULL || !db_pool_listen(w->db, "hookgate_feed", dw_feed_notified, dw))
		return false;
	struct timeval tv = { 0, TICK_MS * 1000 };
	event_add(dw->tick, &tv);
	dw->lease =
		lease_new(w->base, w->db, DELIVERY_LOCK_KEY1, DELIVERY_LOCK_KEY2, "delivery feed",
			  dw->restarted ? 2 * LEASE_RETRY_MS : 0, dw_lease_changed, dw);
	return dw->lease != NULL;
}

/* In-flight requests are dropped without their callbacks: their feed positions are not
 * acknowledged and their claimed rows' leases run out, so they are attempted again. */
static bool delivery_teardown(struct worker *w)
{
	struct delivery *dw = w->role;
	post_ctx_free(dw->post);
	lease_free(dw->lease);
	db_pool_free(dw->pool);
	dest_cache_free(dw->dests);
	if (dw->tick)
		event_free(dw->tick);
	if (dw->take_timer)
		event_free(dw->take_timer);
	for (int i = 0; dw->rows && i < dw->nrows; i++)
		free(dw->rows[i].response);
	free(dw->rows);
	dw_free_dest_states(dw); /* before the positions its items point to */
	while (dw->pos_head) {
		struct feed_pos *p = dw->pos_head;
		dw->pos_head = p->next;
		free(p);
	}
	netpolicy_free(dw->policy);
	return true;
}

int delivery_worker_main(const struct role_args *args)
{
	struct delivery dw = { .restarted = args->restarted };
	struct worker w = {
		.pool_size = 1, /* the feed lease's session: see above */
		.application_name = DELIVERY_APPLICATION_NAME " feed",
		.setup = delivery_setup,
		.teardown = delivery_teardown,
		.drain = delivery_drain,
		.on_db_connect = lease_connected,
		.role = &dw,
	};
	return worker_run(&w, args);
}
