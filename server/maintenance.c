/* maintenance: see maintenance.h. */
#include "maintenance.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>

#define MAINTENANCE_FIRST_S 5
#define MAINTENANCE_EVERY_S 3600
#define MAINTENANCE_TIMEOUT_MS 30000
#define MONTHS_AHEAD "3"

struct maintenance {
	struct worker *w;
	struct event *timer;
};

static void retention_done(PGresult *res, void *arg);

/* One statement after the other: creating and dropping partitions of one table at the same
 * time on two connections deadlock on the parent's locks. */
static void partitions_done(PGresult *res, void *arg)
{
	struct maintenance *m = arg;
	const struct hg_config *cfg = m->w->cfg;
	char interval[64];
	const char *params[] = { interval };

	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK)
		log_warn("maintenance: creating usage partitions failed: %s",
			 res ? PQresultErrorMessage(res) : "no answer from PostgreSQL");
	else if (atoi(PQgetvalue(res, 0, 0)) > 0)
		log_info("maintenance: created %s usage partition(s)", PQgetvalue(res, 0, 0));
	if (cfg->usage_retention_ms <= 0)
		return;
	snprintf(interval, sizeof(interval), "%lld milliseconds", (long long)cfg->usage_retention_ms);
	db_query(m->w->db, "SELECT hookgate.drop_usage_partitions($1::interval)", 1, params,
		 MAINTENANCE_TIMEOUT_MS, retention_done, m);
}

static void retention_done(PGresult *res, void *arg)
{
	(void)arg;
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK)
		log_warn("maintenance: dropping old usage partitions failed: %s",
			 res ? PQresultErrorMessage(res) : "no answer from PostgreSQL");
	else if (atoi(PQgetvalue(res, 0, 0)) > 0)
		log_info("maintenance: dropped %s usage partition(s) older than "
			 "database.usage_retention", PQgetvalue(res, 0, 0));
}

/* A missed round (PostgreSQL down) is harmless: partitions exist three months ahead, and the
 * default partition catches rows in between. */
static void maintenance_cb(evutil_socket_t fd, short what, void *arg)
{
	struct maintenance *m = arg;
	const char *months[] = { MONTHS_AHEAD };
	(void)fd;
	(void)what;

	db_query(m->w->db, "SELECT hookgate.ensure_usage_partitions($1::integer)", 1, months,
		 MAINTENANCE_TIMEOUT_MS, partitions_done, m);
	struct timeval tv = { MAINTENANCE_EVERY_S, 0 };
	evtimer_add(m->timer, &tv);
}

struct maintenance *maintenance_start(struct worker *w)
{
	struct maintenance *m = calloc(1, sizeof(*m));
	if (m == NULL)
		return NULL;
	m->w = w;
	m->timer = evtimer_new(w->base, maintenance_cb, m);
	if (m->timer == NULL) {
		free(m);
		return NULL;
	}
	struct timeval tv = { MAINTENANCE_FIRST_S, 0 };
	evtimer_add(m->timer, &tv);
	return m;
}

void maintenance_free(struct maintenance *m)
{
	if (m == NULL)
		return;
	event_free(m->timer);
	free(m);
}
