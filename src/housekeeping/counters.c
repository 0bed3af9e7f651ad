/* counters: see counters.h. One timer; a fold is never sent while the previous one runs. */
#include "housekeeping/counters.h"
#include "core/log.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* A fold waits for the batches holding its token rows, which answer within a second. Past
 * this, something is wrong: the connection is dropped and the fold rolls back (its rows stay
 * pending for the next one, so nothing is lost or counted twice). */
#define COUNTERS_FOLD_TIMEOUT_MS 10000

static const char fold_sql[] = "SELECT hookgate.fold_token_counts()";

struct counters {
	struct db_pool *pool;
	struct event *timer;
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

static void fold_cb(evutil_socket_t fd, short what, void *arg)
{
	struct counters *c = arg;
	(void)fd;
	(void)what;
	if (c->running || db_pool_ready(c->pool) == 0)
		return;
	c->running = db_query(c->pool, fold_sql, 0, NULL, COUNTERS_FOLD_TIMEOUT_MS, fold_done, c);
}

struct counters *counters_start(struct event_base *base, struct db_pool *pool)
{
	struct counters *c = calloc(1, sizeof(*c));
	struct timeval every = { 0, COUNTERS_FOLD_EVERY_MS * 1000 };

	if (c == NULL)
		return NULL;
	c->pool = pool;
	c->timer = event_new(base, -1, EV_PERSIST, fold_cb, c);
	if (c->timer == NULL || event_add(c->timer, &every) != 0) {
		counters_free(c);
		return NULL;
	}
	return c;
}

void counters_free(struct counters *c)
{
	if (c == NULL)
		return;
	if (c->timer)
		event_free(c->timer);
	free(c);
}
