/* SPDX-License-Identifier: Apache-2.0 */
/* counters: see counters.h. A fold is never sent while the previous one runs. */
#include "housekeeping/counters.h"
#include "proc/metrics.h"
#include "core/log.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* A fold waits for the batches holding its token rows, which answer within a second. Past
 * this, something is wrong: the connection is dropped and the fold rolls back (its rows stay
 * pending for the next one, so nothing is lost or counted twice). */
#define COUNTERS_FOLD_TIMEOUT_MS 10000

/* The second column is the fold's lag for the metrics: the age of the oldest pending count,
 * read with the statement's snapshot, i.e. as the fold found them. */
static const char fold_sql[] =
	"SELECT hookgate.fold_token_counts(), (SELECT coalesce((extract(epoch FROM now() - "
	"min(last_at)) * 1000000)::bigint, 0) FROM hookgate.token_counts_pending)";

struct counters {
	struct db_pool *pool;
	bool running;
	bool failing; /* log a failure once, and its end */
};

static void fold_done(PGresult *res, void *arg)
{
	struct counters *c = arg;

	c->running = false;
	if (res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK) {
		if (c->failing)
			log_info("counters: folding token counts works again");
		c->failing = false;
		if (PQntuples(res) == 1)
			metrics_fold(strtoll(PQgetvalue(res, 0, 1), NULL, 10));
		if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0) &&
		    strcmp(PQgetvalue(res, 0, 0), "0") != 0)
			log_debug("counters: folded %s calls", PQgetvalue(res, 0, 0));
		return;
	}
	/* A lost connection is logged by the pool, and the next fold takes over the rows. */
	if (res != NULL && !c->failing)
		log_warn("counters: folding token counts failed: %s",
			 PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
	c->failing = res != NULL;
}

void counters_fold(struct counters *c)
{
	if (c->running || db_pool_ready(c->pool) == 0)
		return;
	c->running = db_query(c->pool, fold_sql, 0, NULL, COUNTERS_FOLD_TIMEOUT_MS, fold_done, c);
}

struct counters *counters_new(struct db_pool *pool)
{
	struct counters *c = calloc(1, sizeof(*c));
	if (c != NULL)
		c->pool = pool;
	return c;
}

void counters_free(struct counters *c)
{
	free(c);
}
