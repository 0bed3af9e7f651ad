/* SPDX-License-Identifier: Apache-2.0 */
/* housekeeping_worker: see housekeeping/worker.h.
 *
 * The process has one PostgreSQL connection. The lease is a session-level advisory lock on
 * it, and every job runs on that same connection, so a job can only ever run in the session
 * that holds the lock: when the connection drops, the lock and the jobs go together and
 * another hookgated can take over. The jobs' timers run only while the lease is held. The
 * rate shares (housekeeping/rate_shares.h) are no such job: they run on every node, on a
 * second connection that the jobs never hold up. */
#include "housekeeping/worker.h"
#include "core/log.h"
#include "proc/worker.h"
#include "housekeeping/counters.h"
#include "housekeeping/maintenance.h"
#include "housekeeping/rate_shares.h"
#include "pg/lease.h"

#include <stdlib.h>

/* The lease's advisory lock: "hkgt" and 2. hookgate.fold_token_counts() takes (1751869300, 1)
 * for each fold (sql/002_ingest.sql); the pair must differ from it. */
#define HOUSEKEEPING_LOCK_KEY1 1751869300
#define HOUSEKEEPING_LOCK_KEY2 2
/* What a DBA sees in pg_stat_activity for the leader's and the standbys' sessions. */
#define HOUSEKEEPING_APPLICATION_NAME "hookgated housekeeping"
#define HOUSEKEEPING_TIMEOUT_MS 10000

struct housekeeping;

/* A periodic job: first_ms after the lease is taken, then every every_ms while it is held.
 * run, or else the statement sql whose one-row answer counts what it deleted. */
struct housekeeping_job {
	const char *name;
	int first_ms;
	int every_ms;
	void (*run)(struct housekeeping *hk);
	const char *sql;
};

static void run_fold(struct housekeeping *hk);
static void run_partitions(struct housekeeping *hk);
static void run_watch(struct housekeeping *hk);

static const struct housekeeping_job jobs[] = {
	{ "counter fold", COUNTERS_FOLD_EVERY_MS, COUNTERS_FOLD_EVERY_MS, run_fold, NULL },
	{ "usage and delivery partitions", 5000, 3600 * 1000, run_partitions, NULL },
	{ "dead-row watch", 5000, 60 * 1000, run_watch, NULL },
	{ "expired idempotency keys", 10000, 600 * 1000, NULL,
	  "SELECT hookgate.prune_idempotency_keys()" },
	{ "expired sessions", 10000, 600 * 1000, NULL, "SELECT hookgate.prune_sessions()" },
	/* Ticks every feed consumer has passed (sql/004_delivery.sql); a tick is taken at most
	 * once a read, so a minute's worth is small. */
	{ "old feed ticks", 15000, 60 * 1000, NULL, "SELECT hookgate.feed_prune()" },
};
#define NJOBS (sizeof(jobs) / sizeof(jobs[0]))

struct housekeeping_timer {
	struct housekeeping *hk;
	const struct housekeeping_job *job;
	struct event *ev;
};

struct housekeeping {
	struct worker *w;
	bool restarted;
	struct ratelimit *ratelimit;
	int64_t node_id;
	struct rate_shares *shares; /* on every node, leading or not; NULL with the limit off */
	struct lease *lease;
	struct counters *counters;
	struct maintenance *maintenance;
	struct housekeeping_timer timers[NJOBS];
};

static void run_fold(struct housekeeping *hk)
{
	counters_fold(hk->counters);
}

static void run_partitions(struct housekeeping *hk)
{
	maintenance_partitions(hk->maintenance);
}

static void run_watch(struct housekeeping *hk)
{
	maintenance_watch(hk->maintenance);
}

static void statement_done(PGresult *res, void *arg)
{
	const struct housekeeping_job *job = arg;
	if (res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
		log_debug("deleted %s %s", PQgetvalue(res, 0, 0), job->name);
	else if (res != NULL) /* a lost connection is logged by the pool */
		log_warn("deleting %s failed: %s", job->name,
			 PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
}

static void job_arm(struct housekeeping_timer *t, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	evtimer_add(t->ev, &tv);
}

static void job_cb(evutil_socket_t fd, short what, void *arg)
{
	struct housekeeping_timer *t = arg;
	struct db_pool *pool = t->hk->w->db;
	(void)fd;
	(void)what;
	if (t->job->run)
		t->job->run(t->hk);
	else if (db_pool_ready(pool) > 0)
		db_query(pool, t->job->sql, 0, NULL, HOUSEKEEPING_TIMEOUT_MS, statement_done,
			 (void *)t->job);
	job_arm(t, t->job->every_ms);
}

/* A statement still running when the lease is lost has already failed with its connection
 * (the only way to lose the lock); nothing else can run once the timers are off. */
static void lease_changed(bool held, void *arg)
{
	struct housekeeping *hk = arg;
	for (size_t i = 0; i < NJOBS; i++) {
		if (held)
			job_arm(&hk->timers[i], jobs[i].first_ms);
		else
			evtimer_del(hk->timers[i].ev);
	}
}

static void housekeeping_on_db_connect(void *arg)
{
	struct worker *w = arg;
	struct housekeeping *hk = w->role;
	lease_reconnected(hk->lease);
}

/* A restarted process (its predecessor died) waits twice the standbys' retry period before its
 * first try, so that a standby of another hookgated, if there is one, takes over first: a
 * process that crashed may crash again, the standby is known to run. */
static bool housekeeping_setup(struct worker *w)
{
	struct housekeeping *hk = w->role;
	hk->w = w;
	hk->counters = counters_new(w->db);
	hk->maintenance = maintenance_new(w->db, w->cfg);
	if (hk->counters == NULL || hk->maintenance == NULL)
		return false;
	for (size_t i = 0; i < NJOBS; i++) {
		hk->timers[i] = (struct housekeeping_timer){ hk, &jobs[i], NULL };
		hk->timers[i].ev = evtimer_new(w->base, job_cb, &hk->timers[i]);
		if (hk->timers[i].ev == NULL)
			return false;
	}
	if (w->cfg->token_rate > 0 && hk->ratelimit != NULL) {
		hk->shares = rate_shares_new(w->base, w->cfg, hk->ratelimit, hk->node_id);
		if (hk->shares == NULL)
			return false;
	}
	hk->lease = lease_new(w->base, w->db, HOUSEKEEPING_LOCK_KEY1, HOUSEKEEPING_LOCK_KEY2,
			      "housekeeping", hk->restarted ? 2 * LEASE_RETRY_MS : 0, lease_changed,
			      hk);
	return hk->lease != NULL;
}

static bool housekeeping_teardown(struct worker *w)
{
	struct housekeeping *hk = w->role;
	lease_free(hk->lease);
	rate_shares_free(hk->shares);
	for (size_t i = 0; i < NJOBS; i++)
		if (hk->timers[i].ev)
			event_free(hk->timers[i].ev);
	counters_free(hk->counters);
	maintenance_free(hk->maintenance);
	return true;
}

int housekeeping_main(const struct role_args *args)
{
	struct housekeeping hk = {
		.restarted = args->restarted,
		.ratelimit = args->ratelimit,
		.node_id = args->node_id,
	};
	struct worker w = {
		.pool_size = 1, /* the lease's session: see above */
		.application_name = HOUSEKEEPING_APPLICATION_NAME,
		.setup = housekeeping_setup,
		.teardown = housekeeping_teardown,
		.on_db_connect = housekeeping_on_db_connect,
		.role = &hk,
	};
	return worker_run(&w, args);
}
