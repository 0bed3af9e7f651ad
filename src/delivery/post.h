/* SPDX-License-Identifier: Apache-2.0 */
/* post: the delivery worker's HTTP client — libcurl's multi-socket API driven by the worker's
 * event_base (one event per socket, one timer), so POSTs to many destinations run side by side
 * without a thread. It owns the safety rules of every outbound request: POST only, http and
 * https only, no redirect followed, no proxy from the environment, TLS verified, time-outs, the
 * connected address checked against the network policy (so DNS rebinding is caught), and the
 * answer read capped at POST_MAX_ANSWER bytes after decompression, of which the first
 * POST_KEEP_ANSWER are kept. */
#ifndef HG_DELIVERY_POST_H
#define HG_DELIVERY_POST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <event2/event.h>

#define POST_MAX_ANSWER (64 * 1024)
#define POST_KEEP_ANSWER 1024

struct post_ctx;

/* Whether the connection to address sa may be opened (netpolicy_allows). */
typedef bool (*post_address_cb)(const struct sockaddr *sa, void *arg);

struct post_request {
	const char *url;
	const char *const *headers; /* "name: value" lines */
	int nheaders;
	const void *body; /* must stay valid until the done callback */
	size_t body_len;
	int64_t timeout_ms;
	int64_t connect_timeout_ms;
};

/* What became of a request; valid during the done callback only. */
struct post_result {
	long http_status;   /* 0: no HTTP answer */
	const char *error;  /* NULL when a whole answer came; else 'timeout', 'connect', 'dns',
			     * 'refused_address', 'tls', 'too_large', 'redirect' (a 3xx), or
			     * libcurl's own text */
	int64_t latency_us; /* from post_start to the end */
	const char
		*answer; /* the first POST_KEEP_ANSWER bytes of the answer (not NUL-terminated) */
	size_t answer_len;
	const char *retry_after; /* the Retry-After header's value, or NULL */
};

typedef void (*post_done_cb)(const struct post_result *res, void *arg);

/* ca_file: the CA bundle for https, NULL for the system's. max_connects: idle connections kept
 * for reuse. allow decides every address before a socket is opened. */
struct post_ctx *post_ctx_new(struct event_base *base, const char *ca_file, long max_connects,
			      post_address_cb allow, void *allow_arg);
/* Frees the context; requests still in flight are dropped without their callback. */
void post_ctx_free(struct post_ctx *ctx);

/* Starts a POST; done runs once, always later from the loop (never before this returns).
 * False (and no callback) when libcurl refuses the request. */
bool post_start(struct post_ctx *ctx, const struct post_request *req, post_done_cb done, void *arg);
/* Requests in flight. */
int post_inflight(const struct post_ctx *ctx);
/* Handles of finished requests kept for the next ones (at most max_connects). */
int post_idle_handles(const struct post_ctx *ctx);

#endif
