/* SPDX-License-Identifier: Apache-2.0 */
/* rate_shares: see rate_shares.h. One beat in flight at a time; a beat that fails (PostgreSQL
 * unreachable or erring) changes nothing, so the table keeps the last number of nodes.
 *
 * A smaller count is believed only once this node has beaten without a gap for a whole live
 * window. After PostgreSQL was away for everyone (or this node was), the first beat finds the
 * other nodes' rows as old as the outage, and counting them gone for the few hundred
 * milliseconds until their own beats resume would let every node admit the whole limit. A
 * larger count is always believed: it only makes the node stricter. */
#include "housekeeping/rate_shares.h"
#include "core/log.h"
#include "lib/clock.h"
#include "pg/db.h"
#include "proc/ratelimit.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* A beat is a few row operations on a tiny table; one that takes longer than this is stuck,
 * and its connection is dropped (and made again) rather than waited for. */
#define RATE_SHARES_TIMEOUT_MS 1000

static const char beat_sql[] = "SELECT hookgate.rate_share_beat($1::bigint, $2, $3::integer)";

struct rate_shares {
	struct db_pool *pool;
	struct ratelimit *rl;
	struct event *timer;
	char node_id[24];
	char host[256];
	bool running;
	bool failing;	      /* log a failure once, and its end */
	int64_t streak_ms;    /* when the beats' current unbroken run began (monotonic) */
	int64_t last_beat_ms; /* when the last beat was answered; 0 for never */
};

/* Records an answered beat; true when this node's beats have had no gap for a live window. */
static bool beat_streak(struct rate_shares *rs)
{
	int64_t now = clock_mono_ms();
	if (rs->last_beat_ms == 0 || now - rs->last_beat_ms > RATE_SHARES_LIVE_MS / 2)
		rs->streak_ms = now;
	rs->last_beat_ms = now;
	return now - rs->streak_ms >= RATE_SHARES_LIVE_MS;
}

static void beat_failed(struct rate_shares *rs, PGresult *res)
{
	/* A lost connection is logged by the pool. */
	if (res != NULL && !rs->failing)
		log_warn("rate shares: a beat failed, keeping %u node(s): %s",
			 ratelimit_nodes(rs->rl), PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
	rs->failing = true;
}

static void beat_done(PGresult *res, void *arg)
{
	struct rate_shares *rs = arg;
	rs->running = false;
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		beat_failed(rs, res);
		return;
	}
	if (rs->failing)
		log_info("rate shares: beats work again");
	rs->failing = false;
	bool steady = beat_streak(rs);
	long nodes = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	if (nodes < 1)
		nodes = 1; /* this node's own row is always counted; never divide by 0 */
	unsigned known = ratelimit_nodes(rs->rl);
	if ((unsigned)nodes == known || ((unsigned)nodes < known && !steady))
		return;
	log_info("rate shares: %ld node(s) share limits.token_rate; this one enforces 1/%ld of it",
		 nodes, nodes);
	ratelimit_set_nodes(rs->rl, (unsigned)nodes);
}

static void beat(evutil_socket_t fd, short what, void *arg)
{
	struct rate_shares *rs = arg;
	char live[16];
	(void)fd;
	(void)what;
	if (rs->running || db_pool_ready(rs->pool) == 0)
		return;
	snprintf(live, sizeof(live), "%d", RATE_SHARES_LIVE_MS);
	const char *params[3] = { rs->node_id, rs->host, live };
	rs->running =
		db_query(rs->pool, beat_sql, 3, params, RATE_SHARES_TIMEOUT_MS, beat_done, rs);
}

struct rate_shares *rate_shares_new(struct event_base *base, const struct hg_config *cfg,
				    struct ratelimit *rl, int64_t node_id)
{
	struct rate_shares *rs = calloc(1, sizeof(*rs));
	if (rs == NULL)
		return NULL;
	rs->rl = rl;
	snprintf(rs->node_id, sizeof(rs->node_id), "%" PRId64, node_id);
	if (gethostname(rs->host, sizeof(rs->host)) != 0)
		snprintf(rs->host, sizeof(rs->host), "unknown");
	rs->host[sizeof(rs->host) - 1] = '\0';
	rs->pool = db_pool_new(base, cfg->conninfo, RATE_SHARES_APPLICATION_NAME, 1, NULL, NULL);
	rs->timer = event_new(base, -1, EV_PERSIST, beat, rs);
	struct timeval every = { 0, RATE_SHARES_BEAT_MS * 1000 };
	if (rs->pool == NULL || rs->timer == NULL || event_add(rs->timer, &every) != 0) {
		rate_shares_free(rs);
		return NULL;
	}
	return rs;
}

void rate_shares_free(struct rate_shares *rs)
{
	if (rs == NULL)
		return;
	if (rs->timer != NULL)
		event_free(rs->timer);
	db_pool_free(rs->pool);
	free(rs);
}
