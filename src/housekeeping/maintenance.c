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

static void retention_done(PGresult *res, void *arg);

/* One statement after the other: creating and dropping partitions of one table at the same
 * time on two connections deadlock on the parent's locks. */
static void partitions_done(PGresult *res, void *arg)
{
	struct maintenance *m = arg;
	const struct hg_config *cfg = m->cfg;
	char interval[64];
	const char *params[] = { interval };

	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK)
		log_warn("maintenance: creating usage partitions failed: %s",
			 res ? PQresultErrorMessage(res) : "no answer from PostgreSQL");
	else if (atoi(PQgetvalue(res, 0, 0)) > 0)
		log_info("maintenance: created %s usage partition(s)", PQgetvalue(res, 0, 0));
	if (cfg->usage_retention_ms <= 0)
		return;
	snprintf(interval, sizeof(interval), "%lld milliseconds",
		 (long long)cfg->usage_retention_ms);
	db_query(m->pool, "SELECT hookgate.drop_usage_partitions($1::interval)", 1, params,
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
			 "database.usage_retention",
			 PQgetvalue(res, 0, 0));
}

/* A missed round (PostgreSQL down) is harmless: partitions exist three months ahead, and the
 * default partition catches rows in between. */
void maintenance_partitions(struct maintenance *m)
{
	const char *months[] = { MONTHS_AHEAD };

	db_query(m->pool, "SELECT hookgate.ensure_usage_partitions($1::integer)", 1, months,
		 MAINTENANCE_TIMEOUT_MS, partitions_done, m);
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
