/* SPDX-License-Identifier: Apache-2.0 */
/* http: the HTTP/1.1 server every worker runs, on libevent bufferevents (plain or TLS).
 * It owns connections, request-head parsing and its limits (8 KiB head, a deadline for the
 * whole head, body size, connection cap, strict Content-Length), keep-alive and answers.
 * Every protocol error is answered with the JSON error body of docs/api-webhooks.md before
 * closing. */
#ifndef HG_HTTP_H
#define HG_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#define HTTP_MAX_HEAD 8192
#define HTTP_MAX_HEADERS 64

enum http_method {
	HTTP_METHOD_OTHER,
	HTTP_METHOD_GET,
	HTTP_METHOD_HEAD,
	HTTP_METHOD_POST,
	HTTP_METHOD_PUT,
	HTTP_METHOD_PATCH,
	HTTP_METHOD_DELETE,
	HTTP_METHOD_OPTIONS,
};

struct http_header {
	const char *name;  /* as received; compare case-insensitively */
	const char *value; /* leading/trailing blanks removed */
};

struct http_conn;
struct http_server;

/* One request. Everything it points to stays valid until http_respond(); the handler may
 * answer later (after a database round trip) — if the client has gone meanwhile, http_respond
 * just frees it. */
struct http_request {
	struct http_conn *conn;
	enum http_method method;
	const char *method_text;
	const char *target; /* raw request-target, e.g. "/api/v2/bots/x/incoming?zapikey=…" */
	const char *path;   /* target up to '?', not decoded; of an absolute-form target
			     * ("http://host/path?query") its path, "/" when empty */
	const char *query;  /* after '?', not decoded; NULL when absent */
	/* The authority the request names: an absolute-form target's, else the Host header's
	 * (well formed, and sent exactly once in HTTP/1.1); NULL in HTTP/1.0 without Host. */
	const char *host;
	struct http_header headers[HTTP_MAX_HEADERS];
	int nheaders;
	const unsigned char *body; /* NUL-terminated for convenience; body_len excludes the NUL */
	size_t body_len;
	char client_addr[64]; /* "203.0.113.7" or "2001:db8::1" */
	int64_t started_us;   /* monotonic, when the head was complete */
	bool tls;
	/* The declared body is over max_body: it was not read, body is empty, the connection closes
	 * after the answer. The handler still runs (so a webhook call can be authenticated and
	 * counted) and must answer 413. */
	bool body_too_large;
	/* The client announced the body with "Expect: 100-continue" and the body check said the
	 * answer cannot depend on it: it was not read (no 100 was sent), body is empty, the
	 * connection closes after the answer. */
	bool body_skipped;
	void *user; /* free for the handler */
};

typedef void (*http_handler)(struct http_request *req, void *arg);
/* Asked, with the handler's arg, about a request that announced its body with "Expect:
 * 100-continue" (HTTP/1.1, not over max_body): whether its answer may depend on the body. True
 * sends "100 Continue" and reads the body as usual; false hands the request to the handler at
 * once with body_skipped set, and the handler answers from the head alone (a refusal). */
typedef bool (*http_body_check)(const struct http_request *req, void *arg);

struct http_limits {
	size_t max_body;     /* larger bodies: 413 payload_too_large */
	int head_timeout_ms; /* whole request head, from its first byte (or from accept) */
	int idle_timeout_ms; /* keep-alive idle time between requests */
	int body_timeout_ms; /* the body, once the head is in */
	int max_connections; /* per worker; further connections are closed at once */
	bool access_log;     /* one log line per answer: never the query (it holds tokens) */
};

/* ssl_ctx NULL = plain HTTP. The server accepts on listen_fd (owned by the caller). */
struct http_server *http_server_new(struct event_base *base, int listen_fd, SSL_CTX *ssl_ctx,
				    const struct http_limits *limits, http_handler handler,
				    void *arg);
/* Without one, every such request is sent "100 Continue". */
void http_server_set_body_check(struct http_server *srv, http_body_check check);
/* Stop accepting (the listening fd is left open for the caller); open connections finish
 * their current request and are closed instead of kept alive. */
void http_server_stop_accepting(struct http_server *srv);
/* Requests handed to the handler and not yet answered. */
int http_server_inflight(const struct http_server *srv);
int http_server_connections(const struct http_server *srv);
void http_server_free(struct http_server *srv);

/* What http_parse_head learns from a request head besides req's fields, and what it owns. */
struct http_head {
	bool http10;	 /* an HTTP/1.0 request */
	bool keep_alive; /* the client's wish: HTTP/1.1 unless "close", HTTP/1.0 if "keep-alive" */
	size_t content_length; /* 0 without the header */
	char *path;	       /* owned: req->path when it is not the whole target */
	char *authority;       /* owned: an absolute-form target's, which req->host points to */
	/* Why the head is refused: the status (400, 411, or 503 when out of memory) and the code
	 * and message of its JSON body (static text). */
	int status;
	const char *code;
	const char *message;
};

/* Parses a whole request head: text holds len bytes ending in the empty line ("\r\n\r\n")
 * and a NUL after them; it is split in place. Fills req's method, target, path, query, host
 * and headers, which point into text and head, and head's framing (one well-formed
 * Content-Length or none, no Transfer-Encoding, a valid target and Host). False when the head
 * is refused, with head->status, code and message set. No I/O: the server's connections run
 * every head through it, and tests/fuzz feeds it arbitrary bytes. Free head with
 * http_head_free, whatever the result. */
bool http_parse_head(char *text, size_t len, struct http_request *req, struct http_head *head);
void http_head_free(struct http_head *head);

/* Case-insensitive; NULL when absent. count (may be NULL) receives how many times it occurs. */
const char *http_header(const struct http_request *req, const char *name, int *count);

/* Headers to send with the answer (copied). */
bool http_add_header(struct http_request *req, const char *name, const char *value);
/* A field of req's access log line (log.h), e.g. "token" and a public id: key a constant, value
 * copied (up to 63 bytes). At most HTTP_MAX_LOG_FIELDS; false past them. */
#define HTTP_MAX_LOG_FIELDS 4
bool http_log_field(struct http_request *req, const char *key, const char *value);
/* Sends the answer (Content-Length, Date, Connection handled here) and releases req. */
void http_respond(struct http_request *req, int status, const char *content_type, const void *body,
		  size_t len);
/* The reason phrase of a status ("Moved Permanently"), "" for an unregistered one. */
const char *http_status_reason(int status);
/* {"code":…,"message":…} with application/json. */
void http_respond_error(struct http_request *req, int status, const char *code,
			const char *message);

#endif
