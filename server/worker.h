/* worker: what every worker process shares — its own event_base and evhttp on the socket the
 * master opened, its PostgreSQL pool, signals as ordinary callbacks, the watch on the master's
 * pipe, the count of requests in flight and the graceful drain that waits for them. */
#ifndef HG_WORKER_H
#define HG_WORKER_H

#include <stdbool.h>

#include <event2/event.h>
#include <event2/http.h>

#include "config.h"
#include "db.h"

enum worker_kind { WORKER_KIND_WEBHOOK, WORKER_KIND_ADMIN };

struct worker;
typedef void (*worker_route_cb)(struct worker *w, struct evhttp_request *req);

struct worker {
	enum worker_kind kind;
	int index; /* 1..N for webhook workers, 0 for the admin worker */
	const struct hg_config *cfg;
	int listen_fd;
	int parent_fd; /* read end of the master's pipe: EOF means the master died */
	worker_route_cb route;

	struct event_base *base;
	struct evhttp *http;
	struct evhttp_bound_socket *bound;
	struct db_pool *db;
	int inflight; /* requests dispatched and not yet answered */
	bool draining;
	struct event *ev_parent, *ev_term, *ev_int, *ev_quit, *ev_hup, *ev_deadline;
};

/* Runs the worker until it is told to stop; returns the process exit status. */
int worker_run(struct worker *w);

/* Every answer goes through here so that the drain knows when the last one left. */
void worker_reply(struct worker *w, struct evhttp_request *req, int status, const char *content_type,
		  const char *body, size_t len);

/* GET /healthz: 200 when PostgreSQL answers a trivial statement within a second, else 503. */
void worker_healthz(struct worker *w, struct evhttp_request *req);

#endif
