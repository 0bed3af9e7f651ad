/* SPDX-License-Identifier: Apache-2.0 */
/* db: asynchronous PostgreSQL connections on a libevent loop. A connection connects with
 * PQconnectStart/PQconnectPoll, runs in non-blocking mode, queues queries, drains every result,
 * and reconnects with back-off; nothing here ever blocks the loop. A pool spreads queries over
 * database.pool_size connections. It knows whether a statement reached PostgreSQL, and can keep
 * waiting for the answer of one whose caller has stopped waiting (db_query_prepared_graced). */
#ifndef HG_DB_H
#define HG_DB_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>
#include <libpq-fe.h>

struct db_pool;

/* Called once per query with its result (the first non-NULL PGresult; NULL if the connection
 * failed before an answer). The callee must not PQclear it; it is freed after the callback. */
typedef void (*db_result_cb)(PGresult *res, void *arg);

/* What became of a statement queued with db_query_prepared_graced, as its callback learns it. */
enum db_outcome {
	/* res is PostgreSQL's answer: rows, or an error (its transaction rolled back). */
	DB_OUTCOME_ANSWERED,
	/* res is NULL: the statement never reached PostgreSQL (past its deadline while queued, no
	 * connection up, or libpq could not send all of it), so it did not run. */
	DB_OUTCOME_NOT_SENT,
	/* res is NULL: sent, then the connection failed or the hard time-out passed before an
	 * answer. It may or may not have run (and committed). */
	DB_OUTCOME_LOST,
	/* res is NULL: sent and unanswered at the soft deadline. The connection goes on waiting for
	 * the answer (and runs nothing else meanwhile); the callback runs once more, with
	 * DB_OUTCOME_ANSWERED or DB_OUTCOME_LOST. */
	DB_OUTCOME_LATE,
};
typedef void (*db_outcome_cb)(PGresult *res, enum db_outcome outcome, void *arg);
/* Called after every successful (re)connect of any connection, e.g. to re-LISTEN and flush
 * caches. */
typedef void (*db_connect_cb)(void *arg);

/* A NOTIFY received on any connection: channel and payload are valid during the call only. */
typedef void (*db_notify_cb)(const char *channel, const char *payload, void *arg);

/* application_name, when not NULL, names the pool's sessions in pg_stat_activity, over one that
 * conninfo sets. */
struct db_pool *db_pool_new(struct event_base *base, const char *conninfo,
			    const char *application_name, int size, db_connect_cb on_connect,
			    void *arg);
void db_pool_free(struct db_pool *pool);

/* Every connection runs LISTEN channel as soon as it is up (before any other statement), so a
 * notification can arrive on several connections: handlers must be idempotent. Call right after
 * db_pool_new. on_connect (above) tells when notifications may have been missed. */
bool db_pool_listen(struct db_pool *pool, const char *channel, db_notify_cb cb, void *arg);
/* Every connection prepares sql as statement name as soon as it is up (after LISTEN, before
 * any queued statement), for db_query_prepared: PostgreSQL then parses and plans it once per
 * connection, not once per call. name is [a-z_0-9]+. Call before the loop runs. */
bool db_pool_prepare(struct db_pool *pool, const char *name, const char *sql);

/* Queue a parameterized statement (text parameters). Returns false when no connection is up
 * (the callback is then not called); the callback may run before it returns. timeout_ms > 0
 * fails the query (callback with NULL) and drops that connection when PostgreSQL does not
 * answer in time; a query still queued then is failed without being sent. */
bool db_query(struct db_pool *pool, const char *sql, int nparams, const char *const *params,
	      int timeout_ms, db_result_cb cb, void *arg);
/* The same with binary parameters: formats[i] 1 sends lengths[i] bytes of values[i] as they
 * are, 0 sends values[i] as text (its length is then ignored). formats NULL: all text. */
bool db_query_params(struct db_pool *pool, const char *sql, int nparams, const char *const *values,
		     const int *lengths, const int *formats, int timeout_ms, db_result_cb cb,
		     void *arg);
/* The same for a statement prepared with db_pool_prepare. */
bool db_query_prepared(struct db_pool *pool, const char *name, int nparams,
		       const char *const *values, const int *lengths, const int *formats,
		       int timeout_ms, db_result_cb cb, void *arg);
/* The same with a grace period, for a statement whose effects the caller must learn even when
 * it cannot wait for them: the callback runs by soft_ms (the statement's answer, or that it was
 * never sent, was lost, or is late), and when late, once more with its final outcome, which the
 * connection waits for up to hard_ms (from now; then it is dropped, as db_query does at its
 * time-out). Queued past soft_ms, the statement is not sent (DB_OUTCOME_NOT_SENT). */
bool db_query_prepared_graced(struct db_pool *pool, const char *name, int nparams,
			      const char *const *values, const int *lengths, const int *formats,
			      int soft_ms, int hard_ms, db_outcome_cb cb, void *arg);
/* Number of connections currently up. */
int db_pool_ready(const struct db_pool *pool);
/* Its connections, up or not. */
int db_pool_size(const struct db_pool *pool);
/* How often a connection came up again after it had been up (for the metrics). */
uint64_t db_pool_reconnects(const struct db_pool *pool);

#endif
