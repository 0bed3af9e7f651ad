/* SPDX-License-Identifier: Apache-2.0 */
/* worker: what every worker process shares, whatever its role (roles.h) — its own event_base, an
 * HTTP server on the socket the master opened (for a role with a listener), its PostgreSQL pool,
 * the keys, signals as ordinary callbacks, the watch on the master's pipe, and the graceful
 * drain that lets the requests in flight finish. */
#ifndef HG_WORKER_H
#define HG_WORKER_H

#include <stdbool.h>

#include <event2/event.h>

#include "core/config.h"
#include "core/crypto.h"
#include "proc/roles.h"
#include "pg/db.h"
#include "http/server.h"

struct worker;
typedef void (*worker_route_cb)(struct worker *w, struct http_request *req);
/* Role-specific set-up after the loop, pool and keys exist (e.g. caches, LISTEN); false
 * stops the worker. The matching teardown runs before the pool is freed. */
typedef bool (*worker_hook_cb)(struct worker *w);
/* Expect: 100-continue (see http_body_check): whether the answer may depend on the body. */
typedef bool (*worker_body_cb)(struct worker *w, const struct http_request *req);

/* The role's main fills in its part (route … role) and calls worker_run with its role_args. */
struct worker {
	int index; /* 1..N in a numbered role, else 0 */
	const struct hg_config *cfg;
	int listen_fd;		      /* -1: the role serves no HTTP */
	int parent_fd;		      /* read end of the master's pipe: EOF means the master died */
	uint64_t max_body;	      /* request bodies, with a listener */
	int pool_size;		      /* PostgreSQL connections; 0: database.pool_size */
	const char *application_name; /* of those connections; NULL: the conninfo's */
	worker_route_cb route;	      /* with a listener */
	worker_body_cb body_check;    /* may be NULL: every announced body is read */
	worker_hook_cb setup;	      /* may be NULL */
	worker_hook_cb teardown;      /* may be NULL */
	/* May be NULL. A role without a listener that has work in flight: called once when the
	 * drain starts (drain_deadline_ms is set). True: the role stops the loop itself
	 * (event_base_loopexit) once its work is done, by that deadline; false: stop now. */
	worker_hook_cb drain;
	db_connect_cb on_db_connect; /* may be NULL; arg is the worker */
	void *role;		     /* the role's own state */

	struct event_base *base;
	struct http_server *http;
	SSL_CTX *ssl_ctx;
	struct db_pool *db;
	struct crypto_keys keys;
	bool draining;
	struct event *ev_parent, *ev_term, *ev_int, *ev_quit, *ev_hup, *ev_usr1, *ev_drain;
	struct event *ev_metrics; /* publishes the pool's state to the metrics once a second */
	uint64_t reconnects_published;
	int64_t drain_deadline_ms;
};

/* Takes cfg, index and the sockets from args, then runs the worker until it is told to stop;
 * returns the process exit status. */
int worker_run(struct worker *w, const struct role_args *args);

/* GET /healthz: 200 when PostgreSQL answers a trivial statement within a second, else 503. */
void worker_healthz(struct worker *w, struct http_request *req);

#endif
