/* db: asynchronous PostgreSQL connections on a libevent loop. A connection connects with
 * PQconnectStart/PQconnectPoll, runs in non-blocking mode, queues queries, drains every result,
 * and reconnects with back-off; nothing here ever blocks the loop. A pool spreads queries over
 * database.pool_size connections. */
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
/* Called after every successful (re)connect of any connection, e.g. to re-LISTEN and flush
 * caches. */
typedef void (*db_connect_cb)(void *arg);

/* A NOTIFY received on any connection: channel and payload are valid during the call only. */
typedef void (*db_notify_cb)(const char *channel, const char *payload, void *arg);

struct db_pool *db_pool_new(struct event_base *base, const char *conninfo, int size,
			    db_connect_cb on_connect, void *arg);
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
 * (the callback is then not called). timeout_ms > 0 fails the query (callback with NULL) and
 * drops that connection when PostgreSQL does not answer in time. */
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
/* Number of connections currently up. */
int db_pool_ready(const struct db_pool *pool);

#endif
