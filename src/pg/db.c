/* SPDX-License-Identifier: Apache-2.0 */
/* db: asynchronous libpq connections driven by libevent (see db.h). Each connection runs one
 * statement at a time; the pool hands queued statements to whichever connection is idle. A
 * statement with a grace period (db_query_prepared_graced) keeps its connection busy after its
 * soft deadline, until its answer comes or its hard deadline passes. */
#include "pg/db.h"
#include "pg/hosts.h"
#include "core/log.h"
#include "lib/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#define DB_CONNECT_TIMEOUT_MS 5000
#define DB_BACKOFF_MIN_MS 100
#define DB_BACKOFF_MAX_MS 1000
#define DB_SWEEP_MS 100
#define DB_MAX_SETUP 8

enum db_state { DB_STATE_DOWN, DB_STATE_CONNECTING, DB_STATE_READY };

struct db_query {
	TAILQ_ENTRY(db_query) next;
	char *sql;
	char *stmt; /* a statement prepared on every connection (db_pool_prepare), or NULL */
	int nparams;
	char **params;
	int *lengths; /* NULL when every parameter is text */
	int *formats;
	int64_t deadline_ms;	  /* 0 = none; for a graced statement, the soft deadline */
	int64_t hard_deadline_ms; /* graced: when its connection stops waiting; 0 = not graced */
	db_result_cb cb;
	db_outcome_cb outcome_cb; /* instead of cb for a graced statement */
	void *arg;
	bool sent; /* libpq took all of it: PostgreSQL may have run it */
	bool late; /* graced, and its callback was told DB_OUTCOME_LATE */
};
TAILQ_HEAD(db_query_list, db_query);

struct db_conn {
	struct db_pool *pool;
	int index;
	PGconn *pg;
	enum db_state state;
	struct event *io;
	short io_what;
	int io_fd;
	struct event *timer; /* reconnect back-off, connect and statement time-outs */
	int backoff_ms;
	bool logged_down; /* log an outage once, not at every retry */
	struct db_query *current;
	PGresult *first; /* first result of current, kept until the last one is drained */
	int setup_next;	 /* the next of pool->setup to run on this connection */
	bool was_ready;	 /* it was up before: becoming ready again is a reconnect */
};

struct db_pool {
	struct event_base *base;
	char *conninfo;
	char *application_name; /* NULL: whatever conninfo says */
	struct db_hosts *hosts; /* which of conninfo's hosts an attempt tries first */
	int connect_timeout_ms;
	int size;
	struct db_conn *conns;
	struct db_query_list queue;
	struct event *sweep;
	db_connect_cb on_connect;
	void *on_connect_arg;
	/* Run in order on every new connection before any queued statement: LISTEN (so that
	 * nothing is answered from a stale cache between a reconnect and the moment
	 * notifications flow again), then PREPARE. */
	char *setup[DB_MAX_SETUP];
	int nsetup;
	db_notify_cb on_notify;
	void *on_notify_arg;
	uint64_t reconnects;
};

static void conn_start(struct db_conn *c);
static void conn_io_cb(evutil_socket_t fd, short what, void *arg);
static void pool_dispatch(struct db_pool *pool);

static void query_free(struct db_query *q)
{
	for (int i = 0; i < q->nparams; i++)
		free(q->params[i]);
	free(q->params);
	free(q->lengths);
	free(q->formats);
	free(q->stmt);
	free(q->sql);
	free(q);
}

/* The last callback of q, then q is freed. outcome is for graced statements (a plain one only
 * gets res). */
static void query_finish(struct db_query *q, PGresult *res, enum db_outcome outcome)
{
	if (q->outcome_cb)
		q->outcome_cb(res, outcome, q->arg);
	else
		q->cb(res, q->arg);
	query_free(q);
}

static void timer_arm(struct db_conn *c, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	evtimer_add(c->timer, &tv);
}

/* Watch the socket for what libpq needs. The socket can change during PQconnectPoll (libpq
 * tries several addresses), so the event is re-created whenever fd or interest differ. */
static void conn_watch(struct db_conn *c, short what)
{
	int fd = PQsocket(c->pg);
	if (c->io && c->io_fd == fd && c->io_what == what)
		return;
	if (c->io)
		event_free(c->io);
	c->io = event_new(c->pool->base, fd, what | EV_PERSIST, conn_io_cb, c);
	c->io_fd = fd;
	c->io_what = what;
	event_add(c->io, NULL);
}

static void conn_close(struct db_conn *c)
{
	if (c->io)
		event_free(c->io);
	c->io = NULL;
	evtimer_del(c->timer);
	if (c->pg)
		PQfinish(c->pg);
	c->pg = NULL;
	if (c->first)
		PQclear(c->first);
	c->first = NULL;
}

/* The connection is unusable: fail its statement, and everything queued when no other
 * connection is up (callers answer 503 rather than wait), then retry after a back-off. */
static void conn_fail(struct db_conn *c, const char *why)
{
	struct db_query *q = c->current;

	if (!c->logged_down)
		log_warn("PostgreSQL connection %d lost: %s", c->index, why);
	c->logged_down = true;
	c->current = NULL;
	conn_close(c);
	c->state = DB_STATE_DOWN;
	if (q)
		query_finish(q, NULL, q->sent ? DB_OUTCOME_LOST : DB_OUTCOME_NOT_SENT);
	if (db_pool_ready(c->pool) == 0) {
		while ((q = TAILQ_FIRST(&c->pool->queue)) != NULL) {
			TAILQ_REMOVE(&c->pool->queue, q, next);
			query_finish(q, NULL, DB_OUTCOME_NOT_SENT);
		}
	}
	timer_arm(c, c->backoff_ms);
	c->backoff_ms =
		c->backoff_ms * 2 > DB_BACKOFF_MAX_MS ? DB_BACKOFF_MAX_MS : c->backoff_ms * 2;
}

static void conn_notice(void *arg, const char *message)
{
	struct db_conn *c = arg;
	log_debug("PostgreSQL notice on connection %d: %s", c->index, message);
}

static void conn_send(struct db_conn *c, struct db_query *q);

static void conn_send_setup(struct db_conn *c);

static void setup_done(PGresult *res, void *arg)
{
	struct db_conn *c = arg;
	if (res == NULL)
		return; /* the connection failed: it starts over when it is back */
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
		log_error("PostgreSQL connection %d: %.40s failed: %s", c->index,
			  c->pool->setup[c->setup_next - 1],
			  msg ? msg : PQresStatus(PQresultStatus(res)));
	}
	if (c->setup_next < c->pool->nsetup)
		conn_send_setup(c);
}

/* The next setup statement; its callback sends the one after it. Queued statements wait:
 * pool_dispatch skips a connection with a statement in flight. */
static void conn_send_setup(struct db_conn *c)
{
	struct db_query *q = calloc(1, sizeof(*q));
	if (q)
		q->sql = strdup(c->pool->setup[c->setup_next]);
	if (q == NULL || q->sql == NULL) {
		free(q);
		conn_fail(c, "out of memory");
		return;
	}
	c->setup_next++;
	q->cb = setup_done;
	q->arg = c;
	conn_send(c, q);
}

static void conn_ready(struct db_conn *c)
{
	evtimer_del(c->timer);
	if (PQsetnonblocking(c->pg, 1) != 0) {
		conn_fail(c, PQerrorMessage(c->pg));
		return;
	}
	PQsetNoticeProcessor(c->pg, conn_notice, c);
	c->state = DB_STATE_READY;
	c->pool->reconnects += c->was_ready;
	c->was_ready = true;
	c->backoff_ms = DB_BACKOFF_MIN_MS;
	if (c->logged_down)
		log_info("PostgreSQL connection %d is back", c->index);
	c->logged_down = false;
	conn_watch(c, EV_READ);
	/* The setup statements go first: what on_connect queues then waits behind them (a busy
	 * connection is skipped by pool_dispatch) instead of colliding with them. */
	c->setup_next = 0;
	if (c->pool->nsetup > 0)
		conn_send_setup(c);
	if (c->pool->on_connect)
		c->pool->on_connect(c->pool->on_connect_arg);
	if (c->pool->nsetup == 0)
		pool_dispatch(c->pool);
}

/* PQconnectPoll may close the socket and open another, for the next address or host of the
 * conninfo (a host that refused, a standby refused by target_session_attrs=read-write). The
 * new socket usually gets the closed one's descriptor number, which epoll stopped watching when
 * it was closed: an event kept because the number did not change would never fire, and the
 * attempt would hang until its time-out, again at every retry. So the event is made anew. */
static void conn_poll(struct db_conn *c)
{
	PostgresPollingStatusType polled = PQconnectPoll(c->pg);

	c->io_fd = -1;
	switch (polled) {
	case PGRES_POLLING_READING:
		conn_watch(c, EV_READ);
		break;
	case PGRES_POLLING_WRITING:
		conn_watch(c, EV_WRITE);
		break;
	case PGRES_POLLING_OK:
		conn_ready(c);
		break;
	default:
		conn_fail(c, PQerrorMessage(c->pg));
		break;
	}
}

/* conninfo (key=value text or a URI) is expanded in place of dbname; the host list in its
 * current order (hosts.h) and application_name come after it, so they win over the
 * conninfo's. */
static PGconn *pool_connect_start(const struct db_pool *pool)
{
	const char *keys[6] = { "dbname" }, *values[6] = { pool->conninfo };
	int n = 1 + db_hosts_params(pool->hosts, &keys[1], &values[1]);
	if (pool->application_name) {
		keys[n] = "application_name";
		values[n++] = pool->application_name;
	}
	keys[n] = values[n] = NULL;
	return PQconnectStartParams(keys, values, 1);
}

/* A connection attempt past its time-out: libpq was waiting for one host (it ignores
 * connect_timeout in this mode), which the next attempts try last. */
static void conn_timed_out(struct db_conn *c)
{
	const char *host = PQhost(c->pg), *port = PQport(c->pg);
	if (db_hosts_skip(c->pool->hosts, host, port))
		log_warn("PostgreSQL connection %d: no answer from %s port %s within %d ms; the "
			 "next attempts try the other hosts first",
			 c->index, host, port ? port : "(default)", c->pool->connect_timeout_ms);
	conn_fail(c, "connection timed out");
}

static void conn_start(struct db_conn *c)
{
	c->pg = pool_connect_start(c->pool);
	if (c->pg == NULL || PQstatus(c->pg) == CONNECTION_BAD) {
		conn_fail(c, c->pg ? PQerrorMessage(c->pg) : "out of memory");
		return;
	}
	c->state = DB_STATE_CONNECTING;
	timer_arm(c, c->pool->connect_timeout_ms);
	conn_watch(c, EV_WRITE);
}

/* A graced statement past its soft deadline: its caller learns it is late, and the connection
 * goes on waiting for the answer until the hard deadline. */
static void conn_late(struct db_conn *c)
{
	struct db_query *q = c->current;
	q->late = true;
	q->outcome_cb(NULL, DB_OUTCOME_LATE, q->arg);
	if (c->current != q)
		return; /* the callback cannot reach this connection, but be safe */
	int64_t left = q->hard_deadline_ms - clock_mono_ms();
	timer_arm(c, left > 0 ? (int)left : 1);
}

static void conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct db_conn *c = arg;
	(void)fd;
	(void)what;
	if (c->state == DB_STATE_DOWN)
		conn_start(c);
	else if (c->state == DB_STATE_CONNECTING)
		conn_timed_out(c);
	else if (c->current && c->current->hard_deadline_ms && !c->current->late)
		conn_late(c);
	else if (c->current)
		conn_fail(c, "statement timed out");
}

/* Keep results until libpq returns NULL: a statement is finished only then, and the next one
 * may not be sent before. */
static void conn_drain(struct db_conn *c)
{
	while (c->current && !PQisBusy(c->pg)) {
		PGresult *res = PQgetResult(c->pg);
		if (res == NULL) {
			struct db_query *q = c->current;
			PGresult *first = c->first;
			c->current = NULL;
			c->first = NULL;
			evtimer_del(c->timer);
			query_finish(q, first, DB_OUTCOME_ANSWERED);
			PQclear(first);
			pool_dispatch(c->pool);
			return;
		}
		if (c->first == NULL)
			c->first = res;
		else
			PQclear(res);
	}
}

static void conn_flush(struct db_conn *c)
{
	int r = PQflush(c->pg);
	if (r < 0)
		conn_fail(c, PQerrorMessage(c->pg));
	else
		conn_watch(c, r == 1 ? EV_READ | EV_WRITE : EV_READ);
}

static void conn_readable(struct db_conn *c)
{
	if (!PQconsumeInput(c->pg)) {
		conn_fail(c, PQerrorMessage(c->pg));
		return;
	}
	PGnotify *n;
	while ((n = PQnotifies(c->pg)) != NULL) {
		if (c->pool->on_notify)
			c->pool->on_notify(n->relname, n->extra, c->pool->on_notify_arg);
		PQfreemem(n);
	}
	if (c->state != DB_STATE_READY)
		return; /* a notify handler may not drop the connection, but be safe */
	if (c->current)
		conn_drain(c);
	else if (PQstatus(c->pg) == CONNECTION_BAD)
		conn_fail(c, PQerrorMessage(c->pg));
}

static void conn_io_cb(evutil_socket_t fd, short what, void *arg)
{
	struct db_conn *c = arg;
	(void)fd;
	if (c->state == DB_STATE_CONNECTING) {
		conn_poll(c);
		return;
	}
	if (what & EV_WRITE) {
		conn_flush(c);
		if (c->state != DB_STATE_READY)
			return;
	}
	if (what & EV_READ)
		conn_readable(c);
}

static void conn_send(struct db_conn *c, struct db_query *q)
{
	c->current = q;
	int sent = q->stmt ? PQsendQueryPrepared(c->pg, q->stmt, q->nparams,
						 (const char *const *)q->params, q->lengths,
						 q->formats, 0)
			   : PQsendQueryParams(c->pg, q->sql, q->nparams, NULL,
					       (const char *const *)q->params, q->lengths,
					       q->formats, 0);
	/* On failure libpq has not written the Sync that ends the statement (it comes last): an
	 * extended-protocol statement without its Sync does not commit. */
	if (!sent) {
		conn_fail(c, PQerrorMessage(c->pg));
		return;
	}
	q->sent = true;
	if (q->deadline_ms) {
		int64_t left = q->deadline_ms - clock_mono_ms();
		timer_arm(c, left > 0 ? (int)left : 1);
	}
	conn_flush(c);
}

/* The first queued statement not past its deadline, or NULL. Those past it are left for
 * pool_sweep_cb to fail: sent, they would only time out, and leave their callers not knowing
 * whether they ran. */
static struct db_query *pool_next(struct db_pool *pool, int64_t now)
{
	struct db_query *q;
	for (q = TAILQ_FIRST(&pool->queue); q != NULL; q = TAILQ_NEXT(q, next)) {
		if (q->deadline_ms == 0 || q->deadline_ms > now)
			return q;
	}
	return NULL;
}

static void pool_dispatch(struct db_pool *pool)
{
	int64_t now = clock_mono_ms();
	for (int i = 0; i < pool->size && !TAILQ_EMPTY(&pool->queue); i++) {
		struct db_conn *c = &pool->conns[i];
		if (c->state != DB_STATE_READY || c->current)
			continue;
		struct db_query *q = pool_next(pool, now);
		if (q == NULL)
			return;
		TAILQ_REMOVE(&pool->queue, q, next);
		conn_send(c, q);
	}
}

/* Statements waiting for a busy connection also honour their time-out. */
static void pool_sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	struct db_pool *pool = arg;
	int64_t now = clock_mono_ms();
	struct db_query_list expired;
	struct db_query *q = TAILQ_FIRST(&pool->queue), *next;
	(void)fd;
	(void)what;
	/* Unlink first, call back afterwards: a callback may queue or fail other statements. */
	TAILQ_INIT(&expired);
	for (; q != NULL; q = next) {
		next = TAILQ_NEXT(q, next);
		if (q->deadline_ms && q->deadline_ms <= now) {
			TAILQ_REMOVE(&pool->queue, q, next);
			TAILQ_INSERT_TAIL(&expired, q, next);
		}
	}
	while ((q = TAILQ_FIRST(&expired)) != NULL) {
		TAILQ_REMOVE(&expired, q, next);
		query_finish(q, NULL, DB_OUTCOME_NOT_SENT);
	}
}

struct db_pool *db_pool_new(struct event_base *base, const char *conninfo,
			    const char *application_name, int size, db_connect_cb on_connect,
			    void *arg)
{
	struct db_pool *pool = calloc(1, sizeof(*pool));
	if (!pool)
		return NULL;
	pool->base = base;
	pool->size = size;
	pool->on_connect = on_connect;
	pool->on_connect_arg = arg;
	pool->conninfo = strdup(conninfo);
	pool->application_name = application_name ? strdup(application_name) : NULL;
	pool->hosts = db_hosts_new(conninfo);
	pool->conns = calloc((size_t)size, sizeof(*pool->conns));
	TAILQ_INIT(&pool->queue);
	pool->sweep = event_new(base, -1, EV_PERSIST, pool_sweep_cb, pool);
	if (!pool->conninfo || (application_name && !pool->application_name) || !pool->conns ||
	    !pool->sweep || !pool->hosts) {
		db_pool_free(pool);
		return NULL;
	}
	pool->connect_timeout_ms = db_hosts_connect_timeout_ms(pool->hosts, DB_CONNECT_TIMEOUT_MS);
	struct timeval tv = { 0, DB_SWEEP_MS * 1000 };
	event_add(pool->sweep, &tv);
	for (int i = 0; i < size; i++) {
		struct db_conn *c = &pool->conns[i];
		c->pool = pool;
		c->index = i + 1;
		c->backoff_ms = DB_BACKOFF_MIN_MS;
		c->timer = evtimer_new(base, conn_timer_cb, c);
		conn_start(c);
	}
	return pool;
}

void db_pool_free(struct db_pool *pool)
{
	struct db_query *q;
	if (!pool)
		return;
	for (int i = 0; pool->conns && i < pool->size; i++) {
		struct db_conn *c = &pool->conns[i];
		if (c->current)
			query_free(c->current);
		c->current = NULL;
		conn_close(c);
		if (c->timer)
			event_free(c->timer);
	}
	while ((q = TAILQ_FIRST(&pool->queue)) != NULL) {
		TAILQ_REMOVE(&pool->queue, q, next);
		query_free(q);
	}
	if (pool->sweep)
		event_free(pool->sweep);
	free(pool->conns);
	free(pool->conninfo);
	free(pool->application_name);
	db_hosts_free(pool->hosts);
	for (int i = 0; i < pool->nsetup; i++)
		free(pool->setup[i]);
	free(pool);
}

uint64_t db_pool_reconnects(const struct db_pool *pool)
{
	return pool->reconnects;
}

int db_pool_size(const struct db_pool *pool)
{
	return pool->size;
}

int db_pool_ready(const struct db_pool *pool)
{
	int n = 0;
	for (int i = 0; i < pool->size; i++)
		n += pool->conns[i].state == DB_STATE_READY;
	return n;
}

/* A copy of one parameter: text up to its NUL, binary of its length. */
static char *param_dup(const char *value, int length, bool binary)
{
	if (!binary)
		return strdup(value);
	char *copy = malloc(length > 0 ? (size_t)length : 1);
	if (copy && length > 0)
		memcpy(copy, value, (size_t)length);
	return copy;
}

static struct db_query *query_new(const char *sql, int nparams, const char *const *values,
				  const int *lengths, const int *formats)
{
	struct db_query *q = calloc(1, sizeof(*q));
	if (!q)
		return NULL;
	q->sql = strdup(sql);
	q->params = nparams ? calloc((size_t)nparams, sizeof(char *)) : NULL;
	q->nparams = nparams;
	bool ok = q->sql && (nparams == 0 || q->params);
	if (ok && nparams && formats) {
		q->lengths = calloc((size_t)nparams, sizeof(int));
		q->formats = calloc((size_t)nparams, sizeof(int));
		ok = q->lengths && q->formats;
	}
	for (int i = 0; ok && i < nparams; i++) {
		bool binary = formats && formats[i] == 1;
		if (q->formats) {
			q->formats[i] = binary;
			q->lengths[i] = binary ? lengths[i] : 0;
		}
		/* NULL stays NULL: it is SQL NULL for libpq. */
		if (values[i] &&
		    !(q->params[i] = param_dup(values[i], binary ? lengths[i] : 0, binary)))
			ok = false;
	}
	if (!ok) {
		query_free(q);
		return NULL;
	}
	return q;
}

/* Queues q (the caller has checked that a connection is up) and dispatches it. */
static bool pool_enqueue(struct db_pool *pool, struct db_query *q, int timeout_ms, db_result_cb cb,
			 void *arg)
{
	q->cb = cb;
	q->arg = arg;
	q->deadline_ms = timeout_ms > 0 ? clock_mono_ms() + timeout_ms : 0;
	TAILQ_INSERT_TAIL(&pool->queue, q, next);
	pool_dispatch(pool);
	return true;
}

bool db_query_params(struct db_pool *pool, const char *sql, int nparams, const char *const *values,
		     const int *lengths, const int *formats, int timeout_ms, db_result_cb cb,
		     void *arg)
{
	if (db_pool_ready(pool) == 0)
		return false;
	struct db_query *q = query_new(sql, nparams, values, lengths, formats);
	return q != NULL && pool_enqueue(pool, q, timeout_ms, cb, arg);
}

/* A statement prepared with db_pool_prepare, not queued yet; NULL when no connection is up or
 * out of memory. */
static struct db_query *query_new_prepared(struct db_pool *pool, const char *name, int nparams,
					   const char *const *values, const int *lengths,
					   const int *formats)
{
	if (db_pool_ready(pool) == 0)
		return NULL;
	struct db_query *q = query_new(name, nparams, values, lengths, formats);
	if (q == NULL)
		return NULL;
	q->stmt = q->sql; /* the name; q->sql is what logs and errors show */
	q->sql = strdup(name);
	if (q->sql == NULL) {
		query_free(q);
		return NULL;
	}
	return q;
}

bool db_query_prepared(struct db_pool *pool, const char *name, int nparams,
		       const char *const *values, const int *lengths, const int *formats,
		       int timeout_ms, db_result_cb cb, void *arg)
{
	struct db_query *q = query_new_prepared(pool, name, nparams, values, lengths, formats);
	return q != NULL && pool_enqueue(pool, q, timeout_ms, cb, arg);
}

bool db_query_prepared_graced(struct db_pool *pool, const char *name, int nparams,
			      const char *const *values, const int *lengths, const int *formats,
			      int soft_ms, int hard_ms, db_outcome_cb cb, void *arg)
{
	struct db_query *q = query_new_prepared(pool, name, nparams, values, lengths, formats);
	if (q == NULL)
		return false;
	q->outcome_cb = cb;
	q->hard_deadline_ms = clock_mono_ms() + (hard_ms > soft_ms ? hard_ms : soft_ms);
	return pool_enqueue(pool, q, soft_ms > 0 ? soft_ms : 1, NULL, arg);
}

bool db_query(struct db_pool *pool, const char *sql, int nparams, const char *const *params,
	      int timeout_ms, db_result_cb cb, void *arg)
{
	return db_query_params(pool, sql, nparams, params, NULL, NULL, timeout_ms, cb, arg);
}

/* Our names are constants of [a-z_0-9]: nothing that would need quoting. */
static bool plain_name(const char *name)
{
	return name[0] != '\0' &&
	       name[strspn(name, "abcdefghijklmnopqrstuvwxyz_0123456789")] == '\0';
}

/* Adds a setup statement (a b c, concatenated) first or last. */
static bool pool_add_setup(struct db_pool *pool, bool first, const char *a, const char *b,
			   const char *c)
{
	size_t len = strlen(a) + strlen(b) + strlen(c) + 1;
	if (pool->nsetup == DB_MAX_SETUP)
		return false;
	char *sql = malloc(len);
	if (sql == NULL)
		return false;
	snprintf(sql, len, "%s%s%s", a, b, c);
	int at = first ? 0 : pool->nsetup;
	memmove(&pool->setup[at + 1], &pool->setup[at],
		(size_t)(pool->nsetup - at) * sizeof(pool->setup[0]));
	pool->setup[at] = sql;
	pool->nsetup++;
	return true;
}

bool db_pool_listen(struct db_pool *pool, const char *channel, db_notify_cb cb, void *arg)
{
	if (!plain_name(channel) || pool->on_notify != NULL)
		return false;
	if (!pool_add_setup(pool, true, "LISTEN \"", channel, "\""))
		return false;
	pool->on_notify = cb;
	pool->on_notify_arg = arg;
	return true;
}

bool db_pool_prepare(struct db_pool *pool, const char *name, const char *sql)
{
	if (!plain_name(name))
		return false;
	char head[96];
	snprintf(head, sizeof(head), "PREPARE %s AS ", name);
	return pool_add_setup(pool, false, head, sql, "");
}
