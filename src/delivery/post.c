/* SPDX-License-Identifier: Apache-2.0 */
/* post: see post.h. The wiring follows libcurl's docs/examples/multi-event.c: libcurl tells
 * which sockets to watch (CURLMOPT_SOCKETFUNCTION) and when to wake it (CURLMOPT_TIMERFUNCTION);
 * the loop calls curl_multi_socket_action back, then collects finished transfers. */
#include "delivery/post.h"
#include "lib/clock.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct post_ctx {
	struct event_base *base;
	CURLM *multi;
	struct event *timer;
	char *ca_file;
	post_address_cb allow;
	void *allow_arg;
	int inflight;
	struct post_call *calls; /* in flight, to drop them at free */
	struct post_sock *socks; /* watched, for those libcurl still holds at free */
	/* Easy handles of finished requests, reset for the next ones: a new handle per request
	 * cost a tenth of the worker's time in malloc and free (perf, under the delivery bench). */
	CURL **idle;
	int nidle, max_idle;
};

/* One request in flight: its handle, its headers and what its answer has brought so far. */
struct post_call {
	struct post_ctx *ctx;
	struct post_call *prev, *next;
	CURL *easy;
	struct curl_slist *headers;
	post_done_cb done;
	void *arg;
	int64_t started_us;
	size_t answer_total;
	bool too_large;
	bool refused;
	char answer[POST_KEEP_ANSWER];
	char retry_after[128];
	bool has_retry_after;
};

/* The watch on one socket libcurl uses. */
struct post_sock {
	struct post_ctx *ctx;
	struct post_sock *prev, *next;
	curl_socket_t fd;
	struct event *ev;
};

static void post_collect(struct post_ctx *ctx);

static void post_event_cb(evutil_socket_t fd, short what, void *arg)
{
	struct post_ctx *ctx = arg;
	int flags = ((what & EV_READ) ? CURL_CSELECT_IN : 0) |
		    ((what & EV_WRITE) ? CURL_CSELECT_OUT : 0);
	int running;
	curl_multi_socket_action(ctx->multi, fd, flags, &running);
	post_collect(ctx);
}

static void post_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct post_ctx *ctx = arg;
	int running;
	(void)fd;
	(void)what;
	curl_multi_socket_action(ctx->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	post_collect(ctx);
}

/* CURLMOPT_TIMERFUNCTION: -1 stops the timer; 0 means "soon", which must not call libcurl back
 * from inside this callback, so it goes through the loop too. */
static int post_timer_fn(CURLM *multi, long timeout_ms, void *arg)
{
	struct post_ctx *ctx = arg;
	(void)multi;
	if (timeout_ms < 0) {
		evtimer_del(ctx->timer);
		return 0;
	}
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	return evtimer_add(ctx->timer, &tv) == 0 ? 0 : -1;
}

static void post_sock_free(struct post_sock *s)
{
	if (s == NULL)
		return;
	if (s->prev)
		s->prev->next = s->next;
	else
		s->ctx->socks = s->next;
	if (s->next)
		s->next->prev = s->prev;
	if (s->ev)
		event_free(s->ev);
	free(s);
}

/* CURLMOPT_SOCKETFUNCTION: one persistent event per socket, re-armed when libcurl changes what
 * it waits for, freed when it is done with the socket. */
static int post_socket_fn(CURL *easy, curl_socket_t fd, int action, void *arg, void *sockp)
{
	struct post_ctx *ctx = arg;
	struct post_sock *s = sockp;
	(void)easy;
	if (action == CURL_POLL_REMOVE) {
		curl_multi_assign(ctx->multi, fd, NULL);
		post_sock_free(s);
		return 0;
	}
	short kind = EV_PERSIST | ((action & CURL_POLL_IN) ? EV_READ : 0) |
		     ((action & CURL_POLL_OUT) ? EV_WRITE : 0);
	if (s == NULL) {
		s = calloc(1, sizeof(*s));
		if (s == NULL)
			return -1;
		s->ctx = ctx;
		s->fd = fd;
		s->next = ctx->socks;
		if (ctx->socks)
			ctx->socks->prev = s;
		ctx->socks = s;
		curl_multi_assign(ctx->multi, fd, s);
	} else if (s->ev) {
		event_free(s->ev);
	}
	s->ev = event_new(ctx->base, fd, kind, post_event_cb, ctx);
	if (s->ev == NULL || event_add(s->ev, NULL) != 0)
		return -1;
	return 0;
}

static bool post_global_init(void)
{
	static bool done;
	if (!done)
		done = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
	return done;
}

struct post_ctx *post_ctx_new(struct event_base *base, const char *ca_file, long max_connects,
			      post_address_cb allow, void *allow_arg)
{
	if (!post_global_init())
		return NULL;
	struct post_ctx *ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL)
		return NULL;
	ctx->base = base;
	ctx->allow = allow;
	ctx->allow_arg = allow_arg;
	ctx->ca_file = ca_file ? strdup(ca_file) : NULL;
	ctx->multi = curl_multi_init();
	ctx->timer = evtimer_new(base, post_timer_cb, ctx);
	ctx->max_idle = max_connects > 0 ? (int)max_connects : 1;
	ctx->idle = calloc((size_t)ctx->max_idle, sizeof(*ctx->idle));
	if (ctx->multi == NULL || ctx->timer == NULL || ctx->idle == NULL ||
	    (ca_file && ctx->ca_file == NULL)) {
		post_ctx_free(ctx);
		return NULL;
	}
	curl_multi_setopt(ctx->multi, CURLMOPT_SOCKETFUNCTION, post_socket_fn);
	curl_multi_setopt(ctx->multi, CURLMOPT_SOCKETDATA, ctx);
	curl_multi_setopt(ctx->multi, CURLMOPT_TIMERFUNCTION, post_timer_fn);
	curl_multi_setopt(ctx->multi, CURLMOPT_TIMERDATA, ctx);
	curl_multi_setopt(ctx->multi, CURLMOPT_MAXCONNECTS, max_connects);
	return ctx;
}

static void post_call_unlink(struct post_call *c)
{
	struct post_ctx *ctx = c->ctx;
	if (c->prev)
		c->prev->next = c->next;
	else
		ctx->calls = c->next;
	if (c->next)
		c->next->prev = c->prev;
	ctx->inflight--;
}

/* Kept for the next request (curl_easy_reset keeps no option of this one, and no answer), or
 * cleaned up when enough are kept. */
static void post_easy_release(struct post_ctx *ctx, CURL *e)
{
	if (ctx->idle && ctx->nidle < ctx->max_idle) {
		curl_easy_reset(e);
		ctx->idle[ctx->nidle++] = e;
	} else {
		curl_easy_cleanup(e);
	}
}

static CURL *post_easy_get(struct post_ctx *ctx)
{
	return ctx->nidle > 0 ? ctx->idle[--ctx->nidle] : curl_easy_init();
}

static void post_call_free(struct post_call *c)
{
	curl_multi_remove_handle(c->ctx->multi, c->easy);
	post_easy_release(c->ctx, c->easy);
	curl_slist_free_all(c->headers);
	free(c);
}

void post_ctx_free(struct post_ctx *ctx)
{
	if (ctx == NULL)
		return;
	while (ctx->calls) {
		struct post_call *c = ctx->calls;
		post_call_unlink(c);
		post_call_free(c);
	}
	if (ctx->multi)
		curl_multi_cleanup(ctx->multi);
	while (ctx->socks)
		post_sock_free(ctx->socks);
	if (ctx->timer)
		event_free(ctx->timer);
	for (int i = 0; i < ctx->nidle; i++)
		curl_easy_cleanup(ctx->idle[i]);
	free(ctx->idle);
	free(ctx->ca_file);
	free(ctx);
}

int post_inflight(const struct post_ctx *ctx)
{
	return ctx->inflight;
}

int post_idle_handles(const struct post_ctx *ctx)
{
	return ctx->nidle;
}

/* CURLOPT_WRITEFUNCTION: counts the (decompressed) answer and keeps its beginning; past the cap
 * it returns a short count, which makes libcurl abort the transfer. */
static size_t post_write_fn(char *data, size_t size, size_t nmemb, void *arg)
{
	struct post_call *c = arg;
	size_t n = size * nmemb;
	if (c->answer_total + n > POST_MAX_ANSWER) {
		c->too_large = true;
		return 0;
	}
	if (c->answer_total < POST_KEEP_ANSWER) {
		size_t room = POST_KEEP_ANSWER - c->answer_total;
		memcpy(c->answer + c->answer_total, data, n < room ? n : room);
	}
	c->answer_total += n;
	return n;
}

/* CURLOPT_HEADERFUNCTION: keeps Retry-After of the final answer (a status line starts a new
 * answer, e.g. after "100 Continue", and forgets what an earlier one said). */
static size_t post_header_fn(char *line, size_t size, size_t nmemb, void *arg)
{
	struct post_call *c = arg;
	size_t n = size * nmemb;
	static const char name[] = "retry-after:";
	if (n >= 5 && strncmp(line, "HTTP/", 5) == 0) {
		c->has_retry_after = false;
	} else if (n > sizeof(name) - 1 && strncasecmp(line, name, sizeof(name) - 1) == 0) {
		const char *v = line + sizeof(name) - 1, *end = line + n;
		while (v < end && (*v == ' ' || *v == '\t'))
			v++;
		while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
			end--;
		size_t len = (size_t)(end - v);
		if (len < sizeof(c->retry_after)) {
			memcpy(c->retry_after, v, len);
			c->retry_after[len] = '\0';
			c->has_retry_after = true;
		}
	}
	return n;
}

/* CURLOPT_OPENSOCKETFUNCTION: the address libcurl is about to connect to, after its own DNS
 * resolution, so a name that resolves to an internal address is refused here whatever it
 * resolved to when the destination was set (DNS rebinding). */
static curl_socket_t post_open_fn(void *arg, curlsocktype purpose, struct curl_sockaddr *addr)
{
	struct post_call *c = arg;
	if (purpose != CURLSOCKTYPE_IPCXN ||
	    (c->ctx->allow && !c->ctx->allow(&addr->addr, c->ctx->allow_arg))) {
		c->refused = true;
		return CURL_SOCKET_BAD;
	}
	return socket(addr->family, addr->socktype, addr->protocol);
}

static const char *post_error(const struct post_call *c, CURLcode rc, long status)
{
	if (c->too_large)
		return "too_large";
	if (c->refused && rc == CURLE_COULDNT_CONNECT)
		return "refused_address";
	switch (rc) {
	case CURLE_OK:
		return status >= 300 && status < 400 ? "redirect" : NULL;
	case CURLE_OPERATION_TIMEDOUT:
		return "timeout";
	case CURLE_COULDNT_CONNECT:
		return "connect";
	case CURLE_COULDNT_RESOLVE_HOST:
		return "dns";
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
		return "tls";
	default:
		return curl_easy_strerror(rc);
	}
}

static void post_finish(struct post_call *c, CURLcode rc)
{
	long status = 0;
	curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
	struct post_result res = {
		.http_status = status,
		.error = post_error(c, rc, status),
		.latency_us = clock_mono_us() - c->started_us,
		.answer = c->answer,
		.answer_len =
			c->answer_total < POST_KEEP_ANSWER ? c->answer_total : POST_KEEP_ANSWER,
		.retry_after = c->has_retry_after ? c->retry_after : NULL,
	};
	post_call_unlink(c);
	c->done(&res, c->arg);
	post_call_free(c);
}

/* Hands every finished transfer to its caller. */
static void post_collect(struct post_ctx *ctx)
{
	CURLMsg *msg;
	int left;
	while ((msg = curl_multi_info_read(ctx->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		struct post_call *c = NULL;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&c);
		if (c)
			post_finish(c, msg->data.result);
	}
}

static bool post_headers(struct post_call *c, const struct post_request *req)
{
	/* libcurl would otherwise ask big bodies for "100 Continue" and wait for it. */
	struct curl_slist *l = curl_slist_append(NULL, "Expect:");
	for (int i = 0; l && i < req->nheaders; i++) {
		struct curl_slist *n = curl_slist_append(l, req->headers[i]);
		if (n == NULL) {
			curl_slist_free_all(l);
			l = NULL;
		}
		l = n;
	}
	c->headers = l;
	return l != NULL;
}

/* Every option that makes an outbound request safe (see post.h) is set here, for each request. */
static bool post_setup(struct post_call *c, const struct post_request *req)
{
	CURL *e = c->easy;
	bool ok = curl_easy_setopt(e, CURLOPT_URL, req->url) == CURLE_OK &&
		  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
		  curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") == CURLE_OK;
	if (!ok)
		return false;
	curl_easy_setopt(e, CURLOPT_PRIVATE, c);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_PROXY, ""); /* ignore http_proxy & co. */
	curl_easy_setopt(e, CURLOPT_POST, 1L);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->headers);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)req->timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)req->connect_timeout_ms);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, post_write_fn);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, post_header_fn);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, c);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, post_open_fn);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, c);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (c->ctx->ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, c->ctx->ca_file);
	return true;
}

bool post_start(struct post_ctx *ctx, const struct post_request *req, post_done_cb done, void *arg)
{
	struct post_call *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return false;
	c->ctx = ctx;
	c->done = done;
	c->arg = arg;
	c->easy = post_easy_get(ctx);
	if (c->easy == NULL || !post_headers(c, req) || !post_setup(c, req) ||
	    curl_multi_add_handle(ctx->multi, c->easy) != CURLM_OK) {
		if (c->easy)
			post_easy_release(ctx, c->easy);
		curl_slist_free_all(c->headers);
		free(c);
		return false;
	}
	c->started_us = clock_mono_us();
	c->next = ctx->calls;
	if (ctx->calls)
		ctx->calls->prev = c;
	ctx->calls = c;
	ctx->inflight++;
	return true;
}
