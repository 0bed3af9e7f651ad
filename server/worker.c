/* worker: see worker.h. */
#include "worker.h"
#include "httputil.h"
#include "log.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>

#define HEALTHZ_TIMEOUT_MS 900
#define HTTP_IDLE_TIMEOUT_S 30
#define DRAIN_FLUSH_MS 100

static void worker_stop_accepting(struct worker *w)
{
	if (w->bound) {
		/* Closes only this process's copy; the master and other workers keep theirs. */
		evhttp_del_accept_socket(w->http, w->bound);
		w->bound = NULL;
	}
}

/* The last answer has been queued: give the loop a moment to write it out, then leave. */
static void worker_maybe_exit(struct worker *w)
{
	if (w->draining && w->inflight == 0) {
		struct timeval tv = { 0, DRAIN_FLUSH_MS * 1000 };
		event_base_loopexit(w->base, &tv);
	}
}

static void worker_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	(void)fd;
	(void)what;
	log_warn("shutdown timeout: leaving with %d request(s) unanswered", w->inflight);
	event_base_loopbreak(w->base);
}

static void worker_drain(struct worker *w, const char *why)
{
	if (w->draining)
		return;
	log_info("%s: stopping gracefully (%d request(s) in flight)", why, w->inflight);
	w->draining = true;
	worker_stop_accepting(w);
	struct timeval tv = { w->cfg->shutdown_timeout_ms / 1000,
			      (w->cfg->shutdown_timeout_ms % 1000) * 1000 };
	w->ev_deadline = evtimer_new(w->base, worker_deadline_cb, w);
	evtimer_add(w->ev_deadline, &tv);
	worker_maybe_exit(w);
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

void worker_reply(struct worker *w, struct evhttp_request *req, int status, const char *content_type,
		  const char *body, size_t len)
{
	struct evkeyvalq *headers = evhttp_request_get_output_headers(req);
	struct evbuffer *buf = evbuffer_new();

	if (content_type)
		evhttp_add_header(headers, "Content-Type", content_type);
	if (w->draining)
		evhttp_add_header(headers, "Connection", "close");
	if (buf && len)
		evbuffer_add(buf, body, len);
	evhttp_send_reply(req, status, NULL, buf);
	if (buf)
		evbuffer_free(buf);
	w->inflight--;
	worker_maybe_exit(w);
}

struct healthz_call {
	struct worker *w;
	struct evhttp_request *req;
};

static void healthz_done(PGresult *res, void *arg)
{
	struct healthz_call *call = arg;
	if (res && PQresultStatus(res) == PGRES_TUPLES_OK) {
		static const char ok[] = "{\"status\":\"ok\"}";
		worker_reply(call->w, call->req, 200, "application/json", ok, sizeof(ok) - 1);
	} else {
		http_reply_unavailable(call->w, call->req, "PostgreSQL is not answering");
	}
	free(call);
}

void worker_healthz(struct worker *w, struct evhttp_request *req)
{
	struct healthz_call *call = malloc(sizeof(*call));
	if (call == NULL) {
		http_reply_unavailable(w, req, "out of memory");
		return;
	}
	call->w = w;
	call->req = req;
	if (!db_query(w->db, "SELECT 1", 0, NULL, HEALTHZ_TIMEOUT_MS, healthz_done, call)) {
		free(call);
		http_reply_unavailable(w, req, "no connection to PostgreSQL");
	}
}

static void worker_dispatch(struct evhttp_request *req, void *arg)
{
	struct worker *w = arg;
	w->inflight++;
	w->route(w, req);
}

static bool worker_setup_http(struct worker *w)
{
	w->http = evhttp_new(w->base);
	if (w->http == NULL)
		return false;
	evhttp_set_max_headers_size(w->http, 8192);
	evhttp_set_max_body_size(w->http, (ev_ssize_t)w->cfg->max_body_size);
	evhttp_set_timeout(w->http, HTTP_IDLE_TIMEOUT_S);
	evhttp_set_gencb(w->http, worker_dispatch, w);
	w->bound = evhttp_accept_socket_with_handle(w->http, w->listen_fd);
	if (w->bound == NULL) {
		log_error("cannot accept on the listening socket");
		return false;
	}
	return true;
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
	w->base = event_base_new();
	if (w->base == NULL)
		return false;
	w->ev_term = worker_signal(w, SIGTERM);
	w->ev_int = worker_signal(w, SIGINT);
	w->ev_quit = worker_signal(w, SIGQUIT);
	w->ev_hup = worker_signal(w, SIGHUP);
	w->ev_parent = event_new(w->base, w->parent_fd, EV_READ | EV_PERSIST, worker_parent_cb, w);
	if (!w->ev_term || !w->ev_int || !w->ev_quit || !w->ev_hup || !w->ev_parent)
		return false;
	event_add(w->ev_parent, NULL);
	w->db = db_pool_new(w->base, w->cfg->conninfo, w->cfg->pool_size, NULL, NULL);
	if (w->db == NULL)
		return false;
	return worker_setup_http(w);
}

static void worker_free_event(struct event **ev)
{
	if (*ev)
		event_free(*ev);
	*ev = NULL;
}

static void worker_teardown(struct worker *w)
{
	if (w->http)
		evhttp_free(w->http);
	w->http = NULL;
	w->bound = NULL;
	db_pool_free(w->db);
	w->db = NULL;
	worker_free_event(&w->ev_term);
	worker_free_event(&w->ev_int);
	worker_free_event(&w->ev_quit);
	worker_free_event(&w->ev_hup);
	worker_free_event(&w->ev_parent);
	worker_free_event(&w->ev_deadline);
	if (w->base)
		event_base_free(w->base);
	w->base = NULL;
}

int worker_run(struct worker *w)
{
	int status = 0;
	if (!worker_setup(w)) {
		log_error("worker set-up failed");
		status = 1;
	} else {
		log_info("started");
		event_base_dispatch(w->base);
		log_info("stopped");
	}
	worker_teardown(w);
	return status;
}
