/* SPDX-License-Identifier: Apache-2.0 */
/* admin_reads: see admin/reads.h.
 *
 * The rule (docs/decisions/0016-read-replica.md): a user whose write was acknowledged gets an
 * entry holding the primary's pg_current_wal_lsn(), asked right after the acknowledgement (the
 * write has committed, so any position asked later covers it). While that answer is awaited,
 * or the standby's replay position is behind it, the user's reads go to the primary. The
 * replay position is asked on the read pool every READS_REFRESH_MS, only while some entry waits
 * for it; entries it has reached are dropped. When the table is full, an evicted entry's
 * position moves to entry 0, which every read checks: the guarantee holds, at the price of
 * sending everyone to the primary until the standby has caught up with it. */
#include "admin/reads.h"
#include "core/log.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define READS_APPLICATION_NAME "hookgated admin reads"
#define READS_USERS 1024
#define READS_MAX_PARAMS 8
/* A standby that does not answer in time is given up for the primary. */
#define READS_TIMEOUT_MS 2000
#define READS_REFRESH_MS 50

/* The position of a server's WAL: replayed on a standby, written on a primary (a read pool
 * that names a primary, or a standby promoted since). */
static const char replay_sql[] =
	"SELECT (CASE WHEN pg_is_in_recovery()"
	" THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END)::text";
static const char write_lsn_sql[] = "SELECT pg_current_wal_lsn()::text";

/* A user who wrote lately; entry 0 stands for everyone (positions of evicted entries). */
struct reads_user {
	int64_t user_id;
	uint64_t lsn; /* the primary's position after the user's writes, as far as known */
	uint64_t gen; /* of the ask in flight: an older answer is ignored */
	bool used;
	bool asking;  /* a position is being asked: reads stay on the primary */
	bool unknown; /* the ask failed: asked again at the user's next read */
};

struct admin_reads {
	struct worker *w;
	struct db_pool *pool;
	struct event *refresh;
	uint64_t replay; /* the standby's replay position as last asked; 0: not known */
	uint64_t gen;
	bool refreshing;
	bool fell_back; /* logged that reads went to the primary; cleared when the standby serves */
	struct reads_user users[READS_USERS];
};

/* One position asked of the primary for users[slot]. */
struct reads_ask {
	struct admin_reads *reads;
	size_t slot;
	uint64_t gen;
};

/* A read sent to the standby, kept to be sent again to the primary if the standby fails. */
struct reads_call {
	struct admin_ctx *ctx;
	const char *sql; /* the handlers' statements are static */
	int nparams;
	char *params[READS_MAX_PARAMS];
	db_result_cb cb;
};

static struct admin_reads *reads_of(const struct admin_ctx *ctx)
{
	return ((struct admin_role *)ctx->w->role)->reads;
}

/* "16/B374D848" into a number; 0 when the result holds none. */
static uint64_t lsn_of(const PGresult *res)
{
	unsigned int hi, lo;

	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 ||
	    PQgetisnull(res, 0, 0) || sscanf(PQgetvalue(res, 0, 0), "%X/%X", &hi, &lo) != 2)
		return 0;
	return ((uint64_t)hi << 32) | lo;
}

static bool user_satisfied(const struct admin_reads *r, const struct reads_user *u)
{
	return !u->used || (!u->asking && !u->unknown && u->lsn <= r->replay);
}

/* Some entry waits only for the standby's replay position to reach it. */
static bool reads_waiting(const struct admin_reads *r)
{
	for (size_t i = 0; i < READS_USERS; i++) {
		const struct reads_user *u = &r->users[i];
		if (u->used && !u->asking && !u->unknown && u->lsn > r->replay)
			return true;
	}
	return false;
}

static void refresh_arm(struct admin_reads *r)
{
	struct timeval tv = { 0, READS_REFRESH_MS * 1000 };

	if (!evtimer_pending(r->refresh, NULL))
		evtimer_add(r->refresh, &tv);
}

static void ask_done(PGresult *res, void *arg)
{
	struct reads_ask *a = arg;
	struct reads_user *u = &a->reads->users[a->slot];
	uint64_t lsn = lsn_of(res);

	if (u->used && u->asking && u->gen == a->gen) {
		u->asking = false;
		u->unknown = lsn == 0;
		u->lsn = lsn > u->lsn ? lsn : u->lsn;
		if (!u->unknown)
			refresh_arm(a->reads);
	}
	free(a);
}

/* Asks the primary's position for u; its reads stay on the primary until the answer. */
static void user_ask(struct admin_reads *r, struct reads_user *u)
{
	struct reads_ask *a = malloc(sizeof(*a));

	u->used = true;
	u->gen = ++r->gen;
	u->asking = a != NULL;
	u->unknown = a == NULL;
	if (a == NULL)
		return;
	*a = (struct reads_ask){ r, (size_t)(u - r->users), u->gen };
	if (!db_query(r->w->db, write_lsn_sql, 0, NULL, ADMIN_DB_TIMEOUT_MS, ask_done, a)) {
		free(a);
		u->asking = false;
		u->unknown = true;
	}
}

static struct reads_user *user_find(struct admin_reads *r, int64_t user_id)
{
	for (size_t i = 1; i < READS_USERS; i++)
		if (r->users[i].used && r->users[i].user_id == user_id)
			return &r->users[i];
	return NULL;
}

/* A free entry, or one evicted into entry 0 (round robin: any choice keeps the rule). */
static struct reads_user *user_add(struct admin_reads *r, int64_t user_id)
{
	struct reads_user *u = NULL, *all = &r->users[0];

	for (size_t i = 1; i < READS_USERS && u == NULL; i++)
		if (!r->users[i].used)
			u = &r->users[i];
	if (u == NULL) {
		u = &r->users[1 + r->gen % (READS_USERS - 1)];
		all->used = true;
		all->lsn = u->lsn > all->lsn ? u->lsn : all->lsn;
		if (u->asking || u->unknown)
			user_ask(r, all);
	}
	*u = (struct reads_user){ .user_id = user_id, .used = true };
	return u;
}

void admin_reads_wrote(struct admin_ctx *ctx)
{
	struct admin_reads *r = reads_of(ctx);
	int64_t user_id = strtoll(ctx->auth.user_id, NULL, 10);
	struct reads_user *u;

	if (r == NULL || user_id <= 0)
		return;
	u = user_find(r, user_id);
	user_ask(r, u ? u : user_add(r, user_id));
}

/* Whether the standby may serve user_id's reads now; if not, what is missing is asked. */
static bool user_may_read_standby(struct admin_reads *r, int64_t user_id)
{
	struct reads_user *u = user_find(r, user_id), *all = &r->users[0];
	bool ok = user_satisfied(r, all) && (u == NULL || user_satisfied(r, u));

	if (ok)
		return true;
	if (u && u->unknown)
		user_ask(r, u);
	if (all->unknown)
		user_ask(r, all);
	if (reads_waiting(r))
		refresh_arm(r);
	return false;
}

static void replay_done(PGresult *res, void *arg)
{
	struct admin_reads *r = arg;
	uint64_t replay = lsn_of(res);

	r->refreshing = false;
	if (replay > r->replay)
		r->replay = replay;
	for (size_t i = 0; i < READS_USERS; i++)
		if (r->users[i].used && user_satisfied(r, &r->users[i]))
			r->users[i] = (struct reads_user){ 0 };
	if (reads_waiting(r))
		refresh_arm(r);
}

static void refresh_cb(evutil_socket_t fd, short what, void *arg)
{
	struct admin_reads *r = arg;

	(void)fd;
	(void)what;
	if (r->refreshing || !reads_waiting(r))
		return;
	r->refreshing = true;
	if (!db_query(r->pool, replay_sql, 0, NULL, READS_TIMEOUT_MS, replay_done, r)) {
		r->refreshing = false;
		refresh_arm(
			r); /* the standby is away; try again, meanwhile reads are on the primary */
	}
}

/* A (re)connected session may be on another standby, further behind: forget the position. */
static void reads_on_connect(void *arg)
{
	struct admin_reads *r = arg;

	r->replay = 0;
}

struct admin_reads *admin_reads_new(struct worker *w, bool *failed)
{
	struct admin_reads *r;

	*failed = false;
	if (w->cfg->read_conninfo == NULL)
		return NULL;
	r = calloc(1, sizeof(*r));
	if (r != NULL) {
		r->w = w;
		r->refresh = evtimer_new(w->base, refresh_cb, r);
		r->pool = db_pool_new(w->base, w->cfg->read_conninfo, READS_APPLICATION_NAME,
				      w->cfg->pool_size, reads_on_connect, r);
	}
	if (r == NULL || r->refresh == NULL || r->pool == NULL) {
		admin_reads_free(r);
		*failed = true;
		return NULL;
	}
	return r;
}

void admin_reads_free(struct admin_reads *r)
{
	if (r == NULL)
		return;
	if (r->refresh)
		event_free(r->refresh);
	db_pool_free(r->pool);
	free(r);
}

/* ---- the reads ------------------------------------------------------------------------------- */

static void call_free(struct reads_call *call)
{
	for (int i = 0; i < call->nparams; i++)
		free(call->params[i]);
	free(call);
}

static struct reads_call *call_new(struct admin_ctx *ctx, const char *sql, int nparams,
				   const char *const *params, db_result_cb cb)
{
	struct reads_call *call = nparams <= READS_MAX_PARAMS ? calloc(1, sizeof(*call)) : NULL;
	bool ok = call != NULL;

	if (call)
		*call = (struct reads_call){ .ctx = ctx, .sql = sql, .cb = cb };
	for (int i = 0; ok && i < nparams; i++) {
		call->nparams = i + 1;
		ok = params[i] == NULL || (call->params[i] = strdup(params[i])) != NULL;
	}
	if (!ok && call) {
		call_free(call);
		return NULL;
	}
	return call;
}

/* Logged once per outage: the first read that goes to the primary because the standby is
 * away, then when the standby serves again. */
static void reads_fall_back(struct admin_reads *r, const char *why)
{
	if (!r->fell_back)
		log_warn("admin: reads go to the primary: the standby of database.read_conninfo %s",
			 why);
	r->fell_back = true;
}

/* The standby could not answer (no answer, a connection or server state error, a statement
 * cancelled on a conflict with recovery): the primary can. Any other error is the
 * statement's own, which the primary would give too. */
static bool standby_failed(const PGresult *res)
{
	static const char *const classes[] = { "08", "25", "40", "53", "57", "58" };
	const char *state = admin_sqlstate(res);

	if (res == NULL)
		return true;
	for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++)
		if (strncmp(state, classes[i], 2) == 0)
			return true;
	return false;
}

static void read_done(PGresult *res, void *arg)
{
	struct reads_call *call = arg;
	struct admin_ctx *ctx = call->ctx;
	struct admin_reads *r = reads_of(ctx);

	if (standby_failed(res)) {
		reads_fall_back(r, res ? "failed a statement" : "did not answer");
		admin_query(ctx, call->sql, call->nparams, (const char *const *)call->params,
			    call->cb);
	} else {
		if (r->fell_back)
			log_info("admin: reads are served by the standby again");
		r->fell_back = false;
		call->cb(res, ctx);
	}
	call_free(call);
}

bool admin_read(struct admin_ctx *ctx, const char *sql, int nparams, const char *const *params,
		db_result_cb cb)
{
	struct admin_reads *r = reads_of(ctx);
	struct reads_call *call;

	if (r == NULL || !user_may_read_standby(r, strtoll(ctx->auth.user_id, NULL, 10)))
		return admin_query(ctx, sql, nparams, params, cb);
	if (db_pool_ready(r->pool) == 0) {
		reads_fall_back(r, "is not connected");
		return admin_query(ctx, sql, nparams, params, cb);
	}
	call = call_new(ctx, sql, nparams, params, cb);
	if (call && db_query(r->pool, sql, nparams, (const char *const *)call->params,
			     READS_TIMEOUT_MS, read_done, call))
		return true;
	if (call)
		call_free(call);
	return admin_query(ctx, sql, nparams, params, cb);
}
