/* SPDX-License-Identifier: Apache-2.0 */
/* worker: see worker.h. */
#include "proc/worker.h"
#include "http/reply.h"
#include "core/log.h"
#include "proc/metrics.h"
#include "proc/tls.h"
#include "lib/clock.h"

#include <errno.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HEALTHZ_TIMEOUT_MS 900
#define DRAIN_POLL_MS 20
#define WORKER_MAX_CONNECTIONS 4096

/* Leaves once every connection has finished its last answer, or at shutdown_timeout. */
static void worker_drain_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	(void)fd;
	(void)what;
	int conns = http_server_connections(w->http);
	if (conns == 0) {
		event_base_loopexit(w->base, NULL);
	} else if (clock_mono_ms() >= w->drain_deadline_ms) {
		log_warn("shutdown timeout: leaving with %d request(s) unanswered on %d "
			 "connection(s)",
			 http_server_inflight(w->http), conns);
		event_base_loopexit(w->base, NULL);
	}
}

static void worker_drain(struct worker *w, const char *why)
{
	if (w->draining)
		return;
	if (w->http == NULL) { /* no listener: no request to wait for, unless the role says */
		log_info("%s: stopping", why);
		w->draining = true;
		w->drain_deadline_ms = clock_mono_ms() + w->cfg->shutdown_timeout_ms;
		if (w->drain == NULL || !w->drain(w))
			event_base_loopexit(w->base, NULL);
		return;
	}
	log_info("%s: stopping gracefully (%d request(s) in flight)", why,
		 http_server_inflight(w->http));
	w->draining = true;
	http_server_stop_accepting(w->http);
	w->drain_deadline_ms = clock_mono_ms() + w->cfg->shutdown_timeout_ms;
	w->ev_drain = event_new(w->base, -1, EV_PERSIST, worker_drain_cb, w);
	struct timeval tv = { 0, DRAIN_POLL_MS * 1000 };
	if (w->ev_drain)
		event_add(w->ev_drain, &tv);
	else
		event_base_loopexit(w->base, NULL);
}

static void worker_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct worker *w = arg;
	(void)what;
	switch (sig) {
	case SIGTERM:
	case SIGINT:
		worker_drain(w, sig == SIGTERM ? "SIGTERM" : "SIGINT");
		break;
	case SIGQUIT:
		log_info("SIGQUIT: stopping now");
		event_base_loopbreak(w->base);
		break;
	case SIGUSR1: /* the master re-opened the log file (logrotate): so do we */
		if (!log_reopen())
			log_error("SIGUSR1: cannot reopen the log file: %s; logging on to the old "
				  "file",
				  strerror(errno));
		break;
	default:
		/* SIGHUP: the master re-reads the config and replaces us; nothing to do here. */
		break;
	}
}

static void worker_parent_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	char buf[16];
	(void)what;
	if (read(fd, buf, sizeof(buf)) > 0)
		return;
	event_del(w->ev_parent);
	log_warn("the master process is gone");
	worker_drain(w, "master gone");
}

static void healthz_done(PGresult *res, void *arg)
{
	struct http_request *req = arg;
	if (res && PQresultStatus(res) == PGRES_TUPLES_OK) {
		static const char ok[] = "{\"status\":\"ok\"}";
		http_respond(req, 200, "application/json", ok, sizeof(ok) - 1);
	} else {
		http_reply_unavailable(req, "PostgreSQL is not answering");
	}
}

void worker_healthz(struct worker *w, struct http_request *req)
{
	if (!db_query(w->db, "SELECT 1", 0, NULL, HEALTHZ_TIMEOUT_MS, healthz_done, req))
		http_reply_unavailable(req, "no connection to PostgreSQL");
}

static void worker_dispatch(struct http_request *req, void *arg)
{
	struct worker *w = arg;
	w->route(w, req);
}

static bool worker_body_check(const struct http_request *req, void *arg)
{
	struct worker *w = arg;
	return w->body_check(w, req);
}

static void worker_on_db_connect(void *arg)
{
	struct worker *w = arg;
	if (w->on_db_connect)
		w->on_db_connect(w);
}

/* Connections beyond what the open-file limit allows would make accept() fail in a loop;
 * keep a margin for PostgreSQL, logs and the pipes. */
static int worker_max_connections(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return WORKER_MAX_CONNECTIONS;
	long room = (long)rl.rlim_cur - 64;
	return room < 16 ? 16 : room < WORKER_MAX_CONNECTIONS ? (int)room : WORKER_MAX_CONNECTIONS;
}

static bool worker_setup_http(struct worker *w)
{
	char err[512];
	struct http_limits limits = {
		.max_body = w->max_body,
		.head_timeout_ms = 8000,
		.idle_timeout_ms = 60000,
		.body_timeout_ms = 30000,
		.max_connections = worker_max_connections(),
		.access_log = w->cfg->log_access,
	};
	w->ssl_ctx = tls_context_new(w->cfg, err, sizeof(err));
	if (w->ssl_ctx == NULL && err[0]) {
		log_error("%s", err);
		return false;
	}
	w->http = http_server_new(w->base, w->listen_fd, w->ssl_ctx, &limits, worker_dispatch, w);
	if (w->http && w->body_check)
		http_server_set_body_check(w->http, worker_body_check);
	return w->http != NULL;
}

/* The pool's state lives in this process; the metrics process reads it from our slot. A second
 * is fine for a gauge, and keeps every statement path free of bookkeeping. */
static void worker_metrics_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	(void)fd;
	(void)what;
	int up = db_pool_ready(w->db);
	uint64_t reconnects = db_pool_reconnects(w->db);
	metrics_gauge_set(METRICS_GAUGE_PG_UP, up);
	metrics_gauge_set(METRICS_GAUGE_PG_DOWN, db_pool_size(w->db) - up);
	metrics_pg_reconnects(reconnects - w->reconnects_published);
	w->reconnects_published = reconnects;
}

static bool worker_setup_metrics(struct worker *w)
{
	struct timeval tv = { 1, 0 };
	w->ev_metrics = event_new(w->base, -1, EV_PERSIST, worker_metrics_cb, w);
	return w->ev_metrics != NULL && event_add(w->ev_metrics, &tv) == 0;
}

static struct event *worker_signal(struct worker *w, int sig)
{
	struct event *ev = evsignal_new(w->base, sig, worker_signal_cb, w);
	if (ev)
		event_add(ev, NULL);
	return ev;
}

static bool worker_setup(struct worker *w)
{
	char err[512];
	if (!crypto_load_keys(w->cfg->secret_key_file, &w->keys, err, sizeof(err))) {
		log_error("%s", err);
		return false;
	}
	w->base = event_base_new();
	if (w->base == NULL)
		return false;
	w->ev_term = worker_signal(w, SIGTERM);
	w->ev_int = worker_signal(w, SIGINT);
	w->ev_quit = worker_signal(w, SIGQUIT);
	w->ev_hup = worker_signal(w, SIGHUP);
	w->ev_usr1 = worker_signal(w, SIGUSR1);
	w->ev_parent = event_new(w->base, w->parent_fd, EV_READ | EV_PERSIST, worker_parent_cb, w);
	if (!w->ev_term || !w->ev_int || !w->ev_quit || !w->ev_hup || !w->ev_usr1 || !w->ev_parent)
		return false;
	event_add(w->ev_parent, NULL);
	w->db = db_pool_new(w->base, w->cfg->conninfo, w->application_name,
			    w->pool_size > 0 ? w->pool_size : w->cfg->pool_size,
			    worker_on_db_connect, w);
	if (w->db == NULL || !worker_setup_metrics(w))
		return false;
	worker_metrics_cb(-1, 0, w);
	if (w->setup && !w->setup(w))
		return false;
	return w->listen_fd < 0 || worker_setup_http(w);
}

static void worker_free_event(struct event **ev)
{
	if (*ev)
		event_free(*ev);
	*ev = NULL;
}

static void worker_teardown(struct worker *w)
{
	/* The role answers what it still holds (e.g. 503 for calls waiting for a batch) while
	 * the connections still exist. */
	if (w->teardown)
		w->teardown(w);
	http_server_free(w->http);
	w->http = NULL;
	db_pool_free(w->db);
	w->db = NULL;
	SSL_CTX_free(w->ssl_ctx);
	w->ssl_ctx = NULL;
	worker_free_event(&w->ev_term);
	worker_free_event(&w->ev_int);
	worker_free_event(&w->ev_quit);
	worker_free_event(&w->ev_hup);
	worker_free_event(&w->ev_usr1);
	worker_free_event(&w->ev_parent);
	worker_free_event(&w->ev_drain);
	worker_free_event(&w->ev_metrics);
	if (w->base)
		event_base_free(w->base);
	w->base = NULL;
	crypto_keys_wipe(&w->keys);
}

/* Tells the master this process serves: it waits for every process of a generation (the first
 * one, and each one after a reload) before telling the service manager it is ready. A pid is
 * far smaller than PIPE_BUF, so the write is whole or nothing; the pipe never blocks, and the
 * master empties it every tick. */
static void worker_report_ready(int ready_fd)
{
	if (ready_fd < 0)
		return;
	pid_t pid = getpid();
	if (write(ready_fd, &pid, sizeof(pid)) != (ssize_t)sizeof(pid))
		log_debug("cannot report ready to the master: %s", strerror(errno));
	close(ready_fd);
}

int worker_run(struct worker *w, const struct role_args *args)
{
	int status = 0;
	w->cfg = args->cfg;
	w->index = args->index;
	w->listen_fd = args->listen_fd;
	w->parent_fd = args->parent_fd;
	if (!worker_setup(w)) {
		log_error("worker set-up failed");
		status = 1;
	} else {
		log_info("started");
		worker_report_ready(args->ready_fd);
		event_base_dispatch(w->base);
		log_info("stopped");
	}
	worker_teardown(w);
	return status;
}
