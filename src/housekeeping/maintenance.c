/* SPDX-License-Identifier: Apache-2.0 */
/* maintenance: see maintenance.h. */
#include "housekeeping/maintenance.h"
#include "core/log.h"

#include <stdio.h>
#include <stdlib.h>

#define MAINTENANCE_TIMEOUT_MS 30000
#define MONTHS_AHEAD "3"
#define WATCH_TIMEOUT_MS 10000
/* Dead row versions of token_counts_pending past which cleanup is held back, not merely
 * behind: with cleanup working, folds prune the pages they read and the table keeps under
 * about 100,000 at 20k calls/s between autovacuum runs (measured); a snapshot held open adds
 * one row per token per batch, about 20,000 a second at that load. */
#define WATCH_DEAD_MIN 500000

struct maintenance {
	struct db_pool *pool;
	const struct hg_config *cfg;
	int step; /* of partition_steps, in flight */
};

/* Every batch inserts its counts into token_counts_pending and each fold deletes them. A
 * transaction left open (pg_dump holds one for the whole dump) keeps PostgreSQL from removing
 * the deleted rows, and each fold reads them all again: ingest is not slowed, but the fold is.
 * Only the table's owner statistics are sure to be visible; the open transaction, only to
 * pg_monitor members and to its own role. A prepared transaction's name may hold a newline:
 * control characters go. */
static const char watch_sql[] =
	"SELECT s.n_dead_tup, regexp_replace(coalesce("
	" (SELECT format('pid %s (user %s, application %s) has had a transaction open for %s s',"
	"   a.pid, a.usename, coalesce(nullif(a.application_name, ''), '-'),"
	"   round(extract(epoch FROM now() - a.xact_start)))"
	"  FROM pg_stat_activity a"
	"  WHERE a.xact_start < now() - interval '10 seconds' AND a.pid <> pg_backend_pid()"
	"   AND coalesce(a.backend_xid, a.backend_xmin) IS NOT NULL"
	"  ORDER BY a.xact_start LIMIT 1),"
	" (SELECT format('prepared transaction %s has been open since %s', p.gid, p.prepared)"
	"  FROM pg_prepared_xacts p ORDER BY p.prepared LIMIT 1),"
	" (SELECT format('replication slot %s holds xmin %s', r.slot_name, r.xmin)"
	"  FROM pg_replication_slots r WHERE r.xmin IS NOT NULL ORDER BY age(r.xmin) DESC"
	"  LIMIT 1)), '[[:cntrl:]]', '?', 'g')"
	" FROM pg_stat_user_tables s WHERE s.relid = 'hookgate.token_counts_pending'::regclass";

/* The partitioned tables, each created ahead then trimmed to database.usage_retention: the
 * usage history and the delivery attempts, kept alike. */
struct partition_step {
	const char *sql; /* one parameter: months ahead, or the retention as an interval */
	bool retention;
	const char *what; /* the table, for the log: "created 2 usage partition(s)" */
};

static const struct partition_step partition_steps[] = {
	{ "SELECT hookgate.ensure_usage_partitions($1::integer)", false, "usage" },
	{ "SELECT hookgate.drop_usage_partitions($1::interval)", true, "usage" },
	{ "SELECT hookgate.ensure_delivery_partitions($1::integer)", false, "delivery attempt" },
	{ "SELECT hookgate.drop_delivery_partitions($1::interval)", true, "delivery attempt" },
};
#define PARTITION_STEPS (int)(sizeof(partition_steps) / sizeof(partition_steps[0]))

static void partition_next(struct maintenance *m, int step);

static void partition_done(PGresult *res, void *arg)
{
	struct maintenance *m = arg;
	const struct partition_step *s = &partition_steps[m->step];

	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
		log_warn("maintenance: %s failed: %s", s->sql,
			 res ? PQresultErrorMessage(res) : "no answer from PostgreSQL");
	} else if (atoi(PQgetvalue(res, 0, 0)) > 0) {
		log_info("maintenance: %s %s %s partition(s)%s",
			 s->retention ? "dropped" : "created", PQgetvalue(res, 0, 0), s->what,
			 s->retention ? " older than database.usage_retention" : "");
	}
	partition_next(m, m->step + 1);
}

/* One statement after the other: creating and dropping partitions of one table at the same
 * time on two connections deadlock on the parent's locks. A step that fails does not stop
 * the others. */
static void partition_next(struct maintenance *m, int step)
{
	char param[64];
	const char *params[] = { param };

	while (step < PARTITION_STEPS && partition_steps[step].retention &&
	       m->cfg->usage_retention_ms <= 0)
		step++;
	if (step >= PARTITION_STEPS)
		return;
	m->step = step;
	if (partition_steps[step].retention)
		snprintf(param, sizeof(param), "%lld milliseconds",
			 (long long)m->cfg->usage_retention_ms);
	else
		snprintf(param, sizeof(param), "%s", MONTHS_AHEAD);
	db_query(m->pool, partition_steps[step].sql, 1, params, MAINTENANCE_TIMEOUT_MS,
		 partition_done, m);
}

/* A missed round (PostgreSQL down) is harmless: partitions exist three months ahead, and the
 * default partitions catch rows in between. */
void maintenance_partitions(struct maintenance *m)
{
	partition_next(m, 0);
}

static void watch_done(PGresult *res, void *arg)
{
	(void)arg;
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		/* PostgreSQL down (its outage is logged elsewhere), or a failure worth a look. */
		log_debug("maintenance: the watch of token_counts_pending failed: %s",
			  res ? PQresultErrorMessage(res) : "no answer from PostgreSQL");
		return;
	}
	long long dead = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	if (dead < WATCH_DEAD_MIN)
		return;
	log_warn("maintenance: hookgate.token_counts_pending holds %lld dead row versions. "
		 "PostgreSQL cannot remove them while an older transaction is open, and each "
		 "fold of the token counters reads them all (ingest is not slowed): %s",
		 dead,
		 PQgetisnull(res, 0, 1) ? "none is visible to this role (grant it pg_monitor to "
					  "have it named here)"
					: PQgetvalue(res, 0, 1));
}

void maintenance_watch(struct maintenance *m)
{
	db_query(m->pool, watch_sql, 0, NULL, WATCH_TIMEOUT_MS, watch_done, NULL);
}

struct maintenance *maintenance_new(struct db_pool *pool, const struct hg_config *cfg)
{
	struct maintenance *m = calloc(1, sizeof(*m));
	if (m == NULL)
		return NULL;
	m->pool = pool;
	m->cfg = cfg;
	return m;
}

void maintenance_free(struct maintenance *m)
{
	free(m);
}
