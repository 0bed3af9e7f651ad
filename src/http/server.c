/* SPDX-License-Identifier: Apache-2.0 */
/* http: see http.h.
 *
 * A connection is a small state machine: HEAD (collecting the request head), BODY (collecting
 * Content-Length bytes), HANDLING (the handler owns the request; input is left in the buffer,
 * so pipelined requests wait), CLOSING (the last answer is being written). One coarse timer per
 * server enforces the deadlines, rather than a timer per connection. */
#include "http/server.h"
#include "core/log.h"
#include "core/redact.h"
#include "lib/clock.h"
#include "http/syntax.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/listener.h>

#include <cjson/cJSON.h>

#define HTTP_SWEEP_MS 200
#define HTTP_WRITE_TIMEOUT_US 10000000
#define HTTP_LINGER_US 2000000
#define HTTP_MAX_RESPONSE_HEADERS 16
/* A client that pipelines requests but does not read the answers is not served further while
 * this much of them waits in our buffer (the kernel's buffers hold more). Without the limit it
 * could make a worker buffer answers without end. */
#define HTTP_MAX_UNREAD_OUT (64 * 1024)

/* CONN_DRAIN: between two requests, waiting for the client to read the answers we have
 * buffered (see HTTP_MAX_UNREAD_OUT); reading is paused meanwhile. */
enum conn_state { CONN_HEAD, CONN_BODY, CONN_HANDLING, CONN_DRAIN, CONN_CLOSING };

struct http_conn {
	TAILQ_ENTRY(http_conn) next;
	struct http_server *srv;
	struct bufferevent *bev; /* NULL once the peer is gone */
	enum conn_state state;
	int64_t deadline_us; /* 0 = none */
	bool got_bytes;	     /* some of the current head has arrived */
	bool keep_alive;
	struct http_request *req;
	size_t body_need;
	char client_addr[64];
	bool tls;
	/* After answering a request whose body we did not read: half-close and swallow what the
	 * client still sends, so that closing with unread data (which makes the kernel send a
	 * reset) cannot destroy the answer before the client has read it. */
	bool linger;
};
TAILQ_HEAD(http_conn_list, http_conn);

struct http_server {
	struct event_base *base;
	struct evconnlistener *listener;
	SSL_CTX *ssl_ctx;
	struct http_limits limits;
	http_handler handler;
	http_body_check body_check;
	void *arg;
	struct http_conn_list conns;
	int nconns;
	int inflight;
	bool stopping;
	struct event *sweep;
};

/* What the request owns besides its public part: the head text it points into, what parsing it
 * allocated, the body and the answer's extra headers. */
struct request_impl {
	struct http_request pub;
	char *text;
	struct http_head head;
	unsigned char *body;
	char *resp_headers[HTTP_MAX_RESPONSE_HEADERS];
	int nresp;
	/* The handler's fields of the access log line. */
	struct {
		const char *key;
		char value[64];
	} log_fields[HTTP_MAX_LOG_FIELDS];
	int nlog_fields;
};

static void conn_process(struct http_conn *c);

/* Every status of RFC 9110 §15 (and 429, 431 of RFC 6585), so that no answer goes out
 * without its reason phrase; an unregistered one gets none, which RFC 9112 allows. */
const char *http_status_reason(int status)
{
	static const struct {
		int status;
		const char *reason;
	} reasons[] = {
		{ 100, "Continue" },
		{ 101, "Switching Protocols" },
		{ 200, "OK" },
		{ 201, "Created" },
		{ 202, "Accepted" },
		{ 203, "Non-Authoritative Information" },
		{ 204, "No Content" },
		{ 205, "Reset Content" },
		{ 206, "Partial Content" },
		{ 300, "Multiple Choices" },
		{ 301, "Moved Permanently" },
		{ 302, "Found" },
		{ 303, "See Other" },
		{ 304, "Not Modified" },
		{ 305, "Use Proxy" },
		{ 307, "Temporary Redirect" },
		{ 308, "Permanent Redirect" },
		{ 400, "Bad Request" },
		{ 401, "Unauthorized" },
		{ 402, "Payment Required" },
		{ 403, "Forbidden" },
		{ 404, "Not Found" },
		{ 405, "Method Not Allowed" },
		{ 406, "Not Acceptable" },
		{ 407, "Proxy Authentication Required" },
		{ 408, "Request Timeout" },
		{ 409, "Conflict" },
		{ 410, "Gone" },
		{ 411, "Length Required" },
		{ 412, "Precondition Failed" },
		{ 413, "Content Too Large" },
		{ 414, "URI Too Long" },
		{ 415, "Unsupported Media Type" },
		{ 416, "Range Not Satisfiable" },
		{ 417, "Expectation Failed" },
		{ 421, "Misdirected Request" },
		{ 422, "Unprocessable Content" },
		{ 423, "Locked" },
		{ 426, "Upgrade Required" },
		{ 428, "Precondition Required" },
		{ 429, "Too Many Requests" },
		{ 431, "Request Header Fields Too Large" },
		{ 500, "Internal Server Error" },
		{ 501, "Not Implemented" },
		{ 502, "Bad Gateway" },
		{ 503, "Service Unavailable" },
		{ 504, "Gateway Timeout" },
		{ 505, "HTTP Version Not Supported" },
	};
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].status == status)
			return reasons[i].reason;
	return "";
}

static void request_free(struct request_impl *r)
{
	if (r == NULL)
		return;
	for (int i = 0; i < r->nresp; i++)
		free(r->resp_headers[i]);
	free(r->text);
	http_head_free(&r->head);
	free(r->body);
	free(r);
}

static void conn_free(struct http_conn *c)
{
	struct http_server *srv = c->srv;
	TAILQ_REMOVE(&srv->conns, c, next);
	srv->nconns--;
	if (c->bev)
		bufferevent_free(c->bev);
	if (c->state != CONN_HANDLING)
		request_free((struct request_impl *)c->req);
	free(c);
}

/* The peer went away or broke the protocol below HTTP. A request the handler still owns keeps
 * the connection struct alive until http_respond. */
static void conn_drop(struct http_conn *c)
{
	if (c->state == CONN_HANDLING) {
		if (c->bev)
			bufferevent_free(c->bev);
		c->bev = NULL;
		return;
	}
	conn_free(c);
}

static void http_date(char *buf, size_t len)
{
	static time_t cached_sec;
	static char cached[40];
	time_t now = time(NULL);
	if (now != cached_sec) {
		struct tm tm;
		gmtime_r(&now, &tm);
		strftime(cached, sizeof(cached), "%a, %d %b %Y %H:%M:%S GMT", &tm);
		cached_sec = now;
	}
	snprintf(buf, len, "%s", cached);
}

/* A response head being written: on the stack, or straight into the output buffer once it
 * outgrows that (a long extra header; then it is not written directly, see conn_write). */
struct head_buf {
	struct evbuffer *out;
	size_t len;
	bool spilled;
	char stack[2048];
};

static void head_put(struct head_buf *h, const char *piece)
{
	size_t n = strlen(piece);
	if (!h->spilled && h->len + n > sizeof(h->stack)) {
		evbuffer_add(h->out, h->stack, h->len);
		h->spilled = true;
	}
	if (h->spilled) {
		evbuffer_add(h->out, piece, n);
		return;
	}
	memcpy(h->stack + h->len, piece, n);
	h->len += n;
}

static void head_format(struct head_buf *h, const struct http_conn *c, int status,
			const char *content_type, char *const *extra, int nextra, size_t len)
{
	char date[40], num[32];

	h->out = bufferevent_get_output(c->bev);
	h->len = 0;
	h->spilled = false;
	http_date(date, sizeof(date));
	snprintf(num, sizeof(num), "HTTP/1.1 %d ", status);
	head_put(h, num);
	head_put(h, http_status_reason(status));
	head_put(h, "\r\nDate: ");
	head_put(h, date);
	head_put(h, "\r\nServer: hookgate\r\n");
	if (content_type) {
		head_put(h, "Content-Type: ");
		head_put(h, content_type);
		head_put(h, "\r\n");
	}
	for (int i = 0; i < nextra; i++) {
		head_put(h, extra[i]);
		head_put(h, "\r\n");
	}
	if (status != 204 && status != 304) {
		snprintf(num, sizeof(num), "Content-Length: %zu\r\n", len);
		head_put(h, num);
	}
	if (!c->keep_alive)
		head_put(h, "Connection: close\r\n");
	head_put(h, "\r\n");
}

/* Plain keep-alive connections with nothing queued write the answer to the socket at once:
 * through the bufferevent it costs two epoll_ctl calls and a loop turn per answer (measured:
 * 6% of a webhook worker's CPU), since its output event is armed when data is queued and
 * disarmed once written. What the socket does not take is queued as usual. Answers that close
 * the connection always go through the bufferevent: its write callback closes them. */
static void conn_write(struct http_conn *c, int status, const char *content_type,
		       char *const *extra, int nextra, const void *body, size_t len, bool head_only)
{
	struct head_buf h;
	size_t blen = len && !head_only && status != 204 && status != 304 ? len : 0;
	bool direct = c->keep_alive && !c->tls &&
		      evbuffer_get_length(bufferevent_get_output(c->bev)) == 0;
	size_t done = 0;

	head_format(&h, c, status, content_type, extra, nextra, len);
	if (direct && !h.spilled) {
		struct iovec iov[2] = { { h.stack, h.len }, { (void *)(uintptr_t)body, blen } };
		ssize_t n = writev(bufferevent_getfd(c->bev), iov, blen ? 2 : 1);
		/* An error is left to the bufferevent, which meets it on its own write. */
		done = n > 0 ? (size_t)n : 0;
	}
	if (!h.spilled && done < h.len)
		evbuffer_add(h.out, h.stack + done, h.len - done);
	if (blen && done < h.len + blen) {
		size_t skip = done > h.len ? done - h.len : 0;
		evbuffer_add(h.out, (const char *)body + skip, blen - skip);
	}
}

static void json_error_body(const char *code, const char *message, char *buf, size_t len)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "code", code);
	cJSON_AddStringToObject(o, "message", message);
	if (o == NULL || !cJSON_PrintPreallocated(o, buf, (int)len, 0))
		snprintf(buf, len, "{\"code\":\"%s\",\"message\":\"\"}", code);
	cJSON_Delete(o);
}

/* Protocol errors found before any handler ran: answer and close. */
static void conn_reject(struct http_conn *c, int status, const char *code, const char *message)
{
	char body[512];
	json_error_body(code, message, body, sizeof(body));
	c->keep_alive = false;
	conn_write(c, status, "application/json", NULL, 0, body, strlen(body), false);
	c->state = CONN_CLOSING;
	c->deadline_us = clock_mono_us() + HTTP_WRITE_TIMEOUT_US;
	bufferevent_disable(c->bev, EV_READ);
}

static enum http_method method_parse(const char *m)
{
	static const struct {
		const char *name;
		enum http_method method;
	} methods[] = {
		{ "GET", HTTP_METHOD_GET },	    { "HEAD", HTTP_METHOD_HEAD },
		{ "POST", HTTP_METHOD_POST },	    { "PUT", HTTP_METHOD_PUT },
		{ "PATCH", HTTP_METHOD_PATCH },	    { "DELETE", HTTP_METHOD_DELETE },
		{ "OPTIONS", HTTP_METHOD_OPTIONS },
	};
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(m, methods[i].name) == 0)
			return methods[i].method;
	return HTTP_METHOD_OTHER;
}

/* "METHOD SP target SP HTTP/1.x"; splits the line in place. */
static bool parse_request_line(char *line, struct http_request *req, bool *http10)
{
	char *sp1 = strchr(line, ' ');
	char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	if (!sp1 || !sp2 || sp1 == line || sp2 == sp1 + 1 || strchr(sp2 + 1, ' '))
		return false;
	*sp1 = *sp2 = '\0';
	for (char *p = line; *p; p++)
		if (!http_tchar((unsigned char)*p))
			return false;
	const char *version = sp2 + 1;
	if (strcmp(version, "HTTP/1.1") != 0 && strcmp(version, "HTTP/1.0") != 0)
		return false;
	*http10 = version[7] == '0';
	char *target = sp1 + 1;
	for (char *p = target; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p == 0x7f)
			return false;
	req->method_text = line;
	req->method = method_parse(line);
	req->target = target;
	return true;
}

static char *trim(char *s, char *end)
{
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	return s;
}

static bool parse_header_line(char *line, struct http_request *req)
{
	char *colon = strchr(line, ':');
	if (colon == NULL || colon == line || req->nheaders == HTTP_MAX_HEADERS)
		return false;
	for (char *p = line; p < colon; p++)
		if (!http_tchar((unsigned char)*p))
			return false;
	*colon = '\0';
	char *value = colon + 1;
	for (char *p = value; *p; p++)
		if (((unsigned char)*p < 0x20 && *p != '\t') || (unsigned char)*p == 0x7f)
			return false;
	req->headers[req->nheaders].name = line;
	req->headers[req->nheaders].value = trim(value, value + strlen(value));
	req->nheaders++;
	return true;
}

const char *http_header(const struct http_request *req, const char *name, int *count)
{
	const char *found = NULL;
	int n = 0;
	for (int i = 0; i < req->nheaders; i++) {
		if (strcasecmp(req->headers[i].name, name) == 0) {
			if (found == NULL)
				found = req->headers[i].value;
			n++;
		}
	}
	if (count)
		*count = n;
	return found;
}

/* Splits the head into lines and parses them; NUL bytes and bare CR are refused because
 * they are how request smuggling and header injection start. */
static bool parse_head(char *head, size_t len, struct http_request *req, bool *http10)
{
	if (memchr(head, '\0', len))
		return false;
	char *line = head, *end = head + len;
	bool first = true;
	while (line < end) {
		char *eol = memchr(line, '\n', (size_t)(end - line));
		if (eol == NULL || eol == line || eol[-1] != '\r')
			return false;
		eol[-1] = '\0';
		if (eol - 1 == line)
			break; /* the empty line */
		if (memchr(line, '\r', (size_t)(eol - 1 - line)) || *line == ' ' || *line == '\t')
			return false; /* bare CR, obsolete line folding */
		if (first ? !parse_request_line(line, req, http10) : !parse_header_line(line, req))
			return false;
		first = false;
		line = eol + 1;
	}
	return !first;
}

static bool parse_content_length(const char *v, size_t *out)
{
	size_t n = 0;
	if (*v == '\0')
		return false;
	for (; *v; v++) {
		if (*v < '0' || *v > '9' || n > (SIZE_MAX - 9) / 10)
			return false;
		n = n * 10 + (size_t)(*v - '0');
	}
	*out = n;
	return true;
}

static bool header_has_token(const char *value, const char *token)
{
	size_t tl = strlen(token);
	for (const char *p = value; p && *p;) {
		while (*p == ' ' || *p == ',' || *p == '\t')
			p++;
		if (strncasecmp(p, token, tl) == 0 &&
		    (p[tl] == '\0' || p[tl] == ',' || p[tl] == ' '))
			return true;
		p = strchr(p, ',');
	}
	return false;
}

/* RFC 3986 host [":" port], the value of Host and an absolute-form target's authority: an
 * IP literal in brackets or a reg-name (which may be empty), and digits after a colon. No
 * userinfo ("user@host"), which RFC 9110 §4.2.4 says to treat as an error. */
static bool authority_valid(const char *a)
{
	const char *p = a;
	if (*p == '[') {
		for (p++; *p != ']'; p++)
			if (*p == '\0' ||
			    !(isalnum((unsigned char)*p) || strchr("-._~!$&'()*+,;=:", *p)))
				return false;
		if (p == a + 1)
			return false;
		p++;
	} else {
		for (; *p && *p != ':'; p++) {
			if (*p == '%' && isxdigit((unsigned char)p[1]) &&
			    isxdigit((unsigned char)p[2]))
				p += 2;
			else if (!isalnum((unsigned char)*p) && !strchr("-._~!$&'()*+,;=", *p))
				return false;
		}
	}
	if (*p == ':')
		for (p++; isdigit((unsigned char)*p); p++)
			;
	return *p == '\0';
}

/* The request-target (RFC 9112 §3.2): the origin form "/path?query", or the absolute form
 * "http://authority/path?query", whose path and query serve as the origin form's (an empty path
 * is "/") and whose authority stands for Host. Other forms are refused. Returns 0, or the
 * status to refuse the request with. */
static int target_split(struct http_request *req, struct http_head *h)
{
	const char *t = req->target, *origin = t;
	if (*t != '/') {
		size_t skip = 0;
		if (strncasecmp(t, "http://", 7) == 0)
			skip = 7;
		else if (strncasecmp(t, "https://", 8) == 0)
			skip = 8;
		size_t alen = skip ? strcspn(t + skip, "/?#") : 0;
		if (alen == 0 || t[skip + alen] == '#')
			return 400;
		if ((h->authority = strndup(t + skip, alen)) == NULL)
			return 503;
		if (!authority_valid(h->authority))
			return 400;
		origin = t + skip + alen;
	}
	const char *q = strchr(origin, '?');
	size_t plen = q ? (size_t)(q - origin) : strlen(origin);
	if (origin == t && q == NULL) {
		req->path = t;
	} else {
		h->path = plen ? strndup(origin, plen) : strdup("/");
		if (h->path == NULL)
			return 503;
		req->path = h->path;
	}
	req->query = q ? q + 1 : NULL;
	return 0;
}

/* Host (RFC 9112 §3.2): exactly one, well formed, in HTTP/1.1; at most one in HTTP/1.0. */
static const char *host_problem(const struct http_request *req, bool http10)
{
	int n;
	const char *host = http_header(req, "Host", &n);
	if (n > 1)
		return "more than one Host header";
	if (n == 0 && !http10)
		return "no Host header";
	if (host && !authority_valid(host))
		return "malformed Host header";
	return NULL;
}

static bool head_refuse(struct http_head *h, int status, const char *code, const char *message)
{
	h->status = status;
	h->code = code;
	h->message = message;
	return false;
}

/* Framing (RFC 9112 §6): exactly one well-formed Content-Length, or none; Transfer-Encoding
 * is refused, so that no two parties can disagree on where the body ends. */
static bool head_framing(const struct http_request *req, struct http_head *h)
{
	int ncl, nte;
	const char *cl = http_header(req, "Content-Length", &ncl);
	const char *conn_hdr = http_header(req, "Connection", NULL);

	http_header(req, "Transfer-Encoding", &nte);
	if (nte > 0)
		return head_refuse(h, ncl ? 400 : 411, ncl ? "invalid_request" : "length_required",
				   ncl ? "Transfer-Encoding together with Content-Length"
				       : "chunked bodies are not accepted; send Content-Length");
	if (ncl > 1 || (cl && !parse_content_length(cl, &h->content_length)))
		return head_refuse(h, 400, "invalid_request",
				   ncl > 1 ? "duplicate Content-Length"
					   : "malformed Content-Length");
	if (cl == NULL)
		h->content_length = 0;
	h->keep_alive = h->http10 ? header_has_token(conn_hdr, "keep-alive")
				  : !header_has_token(conn_hdr, "close");
	return true;
}

bool http_parse_head(char *text, size_t len, struct http_request *req, struct http_head *head)
{
	memset(head, 0, sizeof(*head));
	if (!parse_head(text, len, req, &head->http10))
		return head_refuse(head, 400, "invalid_request", "malformed request head");
	int status = target_split(req, head);
	if (status != 0)
		return head_refuse(head, status, status == 400 ? "invalid_request" : "unavailable",
				   status == 400
					   ? "the request target must be a path or an http(s) URL"
					   : "out of memory");
	const char *problem = host_problem(req, head->http10);
	if (problem)
		return head_refuse(head, 400, "invalid_request", problem);
	req->host = head->authority ? head->authority : http_header(req, "Host", NULL);
	return head_framing(req, head);
}

void http_head_free(struct http_head *head)
{
	free(head->path);
	free(head->authority);
	head->path = head->authority = NULL;
}

static void conn_dispatch(struct http_conn *c)
{
	struct http_server *srv = c->srv;
	c->state = CONN_HANDLING;
	c->deadline_us = 0;
	if (c->req->started_us == 0)
		c->req->started_us = clock_mono_us();
	srv->inflight++;
	srv->handler(c->req, srv->arg);
}

/* A parsed head: a body over the limit is not read (the handler still sees the request,
 * flagged), nor one the body check says the answer cannot depend on. */
static void conn_framing(struct http_conn *c, const struct http_head *head)
{
	struct http_request *req = c->req;
	bool http10 = head->http10;

	c->body_need = head->content_length;
	c->keep_alive = head->keep_alive;
	if (c->srv->stopping)
		c->keep_alive = false;
	if (c->body_need > c->srv->limits.max_body) {
		req->body_too_large = true;
		c->keep_alive = false;
		c->body_need = 0;
		conn_dispatch(c);
		return;
	}
	/* The client waits for "100 Continue" before it sends the body (HTTP/1.0 has no such
	 * thing: RFC 9110 §10.1.1). A request refused from its head alone is answered at once
	 * instead, and its body never read. */
	const char *expect = http_header(req, "Expect", NULL);
	if (expect && !http10 && c->body_need > 0 && strcasecmp(expect, "100-continue") == 0) {
		if (c->srv->body_check && !c->srv->body_check(req, c->srv->arg)) {
			req->body_skipped = true;
			c->keep_alive = false;
			c->body_need = 0;
			conn_dispatch(c);
			return;
		}
		evbuffer_add(bufferevent_get_output(c->bev), "HTTP/1.1 100 Continue\r\n\r\n", 25);
	}
	c->state = CONN_BODY;
	c->deadline_us = clock_mono_us() + (int64_t)c->srv->limits.body_timeout_ms * 1000;
	conn_process(c);
}

static void conn_head(struct http_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct evbuffer_ptr end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
	size_t avail = evbuffer_get_length(in);

	if (avail > 0 && !c->got_bytes) {
		c->got_bytes = true;
		c->deadline_us = clock_mono_us() + (int64_t)c->srv->limits.head_timeout_ms * 1000;
	}
	if (end.pos < 0) {
		if (avail > HTTP_MAX_HEAD)
			conn_reject(c, 431, "invalid_request", "request head over 8 KiB");
		return;
	}
	size_t len = (size_t)end.pos + 4;
	if (len > HTTP_MAX_HEAD) {
		conn_reject(c, 431, "invalid_request", "request head over 8 KiB");
		return;
	}
	struct request_impl *r = calloc(1, sizeof(*r));
	char *text = r ? malloc(len + 1) : NULL;
	if (text == NULL) {
		free(r);
		conn_reject(c, 503, "unavailable", "out of memory");
		return;
	}
	evbuffer_remove(in, text, len);
	text[len] = '\0';
	r->text = text;
	r->pub.conn = c;
	r->pub.tls = c->tls;
	r->pub.body = (const unsigned char *)"";
	memcpy(r->pub.client_addr, c->client_addr, sizeof(r->pub.client_addr));
	c->req = &r->pub;
	if (!http_parse_head(text, len, &r->pub, &r->head)) {
		conn_reject(c, r->head.status, r->head.code, r->head.message);
		return;
	}
	conn_framing(c, &r->head);
}

static void conn_body(struct http_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct request_impl *r = (struct request_impl *)c->req;

	if (evbuffer_get_length(in) < c->body_need)
		return;
	r->body = malloc(c->body_need + 1);
	if (r->body == NULL) {
		conn_reject(c, 503, "unavailable", "out of memory");
		return;
	}
	evbuffer_remove(in, r->body, c->body_need);
	r->body[c->body_need] = '\0';
	r->pub.body = r->body;
	r->pub.body_len = c->body_need;
	conn_dispatch(c);
}

static void conn_process(struct http_conn *c)
{
	if (c->bev == NULL)
		return;
	if (c->state == CONN_HEAD)
		conn_head(c);
	else if (c->state == CONN_BODY)
		conn_body(c);
}

static void conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct http_conn *c = arg;
	if (c->state == CONN_CLOSING) {
		struct evbuffer *in = bufferevent_get_input(bev);
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	conn_process(c);
}

static void conn_next_request(struct http_conn *c);

static void conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct http_conn *c = arg;
	if (c->state == CONN_DRAIN) {
		/* Everything read by the client: serve what it pipelined. */
		bufferevent_enable(bev, EV_READ);
		conn_next_request(c);
		return;
	}
	if (c->state != CONN_CLOSING)
		return;
	if (!c->linger) {
		conn_free(c);
		return;
	}
	/* Answer written: wait (bounded by the CLOSING deadline) for the client to close. */
	shutdown(bufferevent_getfd(bev), SHUT_WR);
	bufferevent_enable(bev, EV_READ);
	c->deadline_us = clock_mono_us() + HTTP_LINGER_US;
}

static void conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
		conn_drop(arg);
}

static void conn_next_request(struct http_conn *c)
{
	c->req = NULL;
	c->got_bytes = false;
	c->body_need = 0;
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) > HTTP_MAX_UNREAD_OUT) {
		/* conn_write_cb resumes once the output is written; the sweep drops a client
		 * that reads nothing for HTTP_WRITE_TIMEOUT_US. */
		c->state = CONN_DRAIN;
		c->deadline_us = clock_mono_us() + HTTP_WRITE_TIMEOUT_US;
		bufferevent_disable(c->bev, EV_READ);
		return;
	}
	c->state = CONN_HEAD;
	c->deadline_us = clock_mono_us() + (int64_t)c->srv->limits.idle_timeout_ms * 1000;
	/* A pipelined request may already be buffered; parse it from the loop, not from inside
	 * the handler's call stack. */
	if (evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
		bufferevent_trigger(c->bev, EV_READ,
				    BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
}

bool http_log_field(struct http_request *req, const char *key, const char *value)
{
	struct request_impl *r = (struct request_impl *)req;

	if (r->nlog_fields == HTTP_MAX_LOG_FIELDS)
		return false;
	r->log_fields[r->nlog_fields].key = key;
	snprintf(r->log_fields[r->nlog_fields].value, sizeof(r->log_fields[0].value), "%s", value);
	r->nlog_fields++;
	return true;
}

/* The path, never the query string: zapikey and appkey travel there. Quotes in the user agent
 * are escaped so that a line cannot be forged. A token or appkey a client wrote into the path
 * or a header is replaced by redact_copy here, before the cut to length could leave most of
 * one behind, and by log_msg in the whole line. In JSON every part is a field of its own; a
 * text line says the request's in words and adds the handler's fields (token=… batch=…). */
static void access_log(const struct request_impl *r, int status, size_t len)
{
	const struct http_request *req = &r->pub;
	char ua[160], path[201], st[8], bytes[24], ms_text[24];
	const char *agent = http_header(req, "User-Agent", NULL);
	const char *p = agent ? agent : "-";
	size_t n = 0;
	for (; *p && n + 2 < sizeof(ua); p++) {
		if (*p == '"' || *p == '\\')
			ua[n++] = '\\';
		ua[n++] = *p;
	}
	ua[n] = '\0';
	redact_secrets(ua, *p != '\0');
	redact_copy(path, sizeof(path), req->path);
	double ms = req->started_us ? (double)(clock_mono_us() - req->started_us) / 1000.0 : 0.0;
	snprintf(st, sizeof(st), "%d", status);
	snprintf(bytes, sizeof(bytes), "%zu", len);
	snprintf(ms_text, sizeof(ms_text), "%.1f", ms);
	struct log_field f[7 + HTTP_MAX_LOG_FIELDS] = {
		{ "client", req->client_addr, false },
		{ "method", req->method_text, false },
		{ "path", path, false },
		{ "status", st, false },
		{ "bytes", bytes, false },
		{ "ms", ms_text, false },
		{ "agent", agent ? agent : "-", false },
	};
	for (int i = 0; i < r->nlog_fields; i++)
		f[7 + i] = (struct log_field){ r->log_fields[i].key, r->log_fields[i].value, true };
	log_fields(LOG_LEVEL_INFO, f, 7 + (size_t)r->nlog_fields,
		   "access: %s \"%s %s\" %d %zu %sms \"%s\"", req->client_addr, req->method_text,
		   path, status, len, ms_text, ua);
}

bool http_add_header(struct http_request *req, const char *name, const char *value)
{
	struct request_impl *r = (struct request_impl *)req;
	if (r->nresp == HTTP_MAX_RESPONSE_HEADERS || strpbrk(name, "\r\n:") ||
	    strpbrk(value, "\r\n"))
		return false;
	size_t len = strlen(name) + strlen(value) + 3;
	char *h = malloc(len);
	if (h == NULL)
		return false;
	snprintf(h, len, "%s: %s", name, value);
	r->resp_headers[r->nresp++] = h;
	return true;
}

void http_respond(struct http_request *req, int status, const char *content_type, const void *body,
		  size_t len)
{
	struct request_impl *r = (struct request_impl *)req;
	struct http_conn *c = req->conn;
	struct http_server *srv = c->srv;

	srv->inflight--;
	if (c->bev == NULL) { /* the client left while we worked */
		request_free(r);
		c->req = NULL;
		c->state = CONN_CLOSING;
		conn_free(c);
		return;
	}
	if (srv->stopping)
		c->keep_alive = false;
	if (srv->limits.access_log)
		access_log(r, status, len);
	conn_write(c, status, content_type, r->resp_headers, r->nresp, body, len,
		   req->method == HTTP_METHOD_HEAD);
	bool body_unread = req->body_too_large || req->body_skipped;
	request_free(r);
	if (c->keep_alive) {
		conn_next_request(c);
	} else {
		c->req = NULL;
		c->state = CONN_CLOSING;
		c->linger = body_unread && !c->tls;
		c->deadline_us = clock_mono_us() + HTTP_WRITE_TIMEOUT_US;
		if (!c->linger)
			bufferevent_disable(c->bev, EV_READ);
	}
}

void http_respond_error(struct http_request *req, int status, const char *code, const char *message)
{
	char body[1024];
	json_error_body(code, message, body, sizeof(body));
	http_respond(req, status, "application/json", body, strlen(body));
}

static void format_addr(const struct sockaddr *sa, char *out, size_t len)
{
	if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out,
			  (socklen_t)len);
	else if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out,
			  (socklen_t)len);
	else
		snprintf(out, len, "local");
}

static struct bufferevent *conn_bufferevent(struct http_server *srv, evutil_socket_t fd)
{
	int opts = BEV_OPT_CLOSE_ON_FREE;
	if (srv->ssl_ctx == NULL)
		return bufferevent_socket_new(srv->base, fd, opts);
	SSL *ssl = SSL_new(srv->ssl_ctx);
	if (ssl == NULL)
		return NULL;
	struct bufferevent *bev =
		bufferevent_openssl_socket_new(srv->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING, opts);
	if (bev == NULL)
		SSL_free(ssl);
	return bev;
}

static void accept_cb(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
		      int salen, void *arg)
{
	struct http_server *srv = arg;
	(void)lev;
	(void)salen;
	struct http_conn *c = calloc(1, sizeof(*c));
	struct bufferevent *bev = c ? conn_bufferevent(srv, fd) : NULL;
	if (bev == NULL) {
		free(c);
		evutil_closesocket(fd);
		return;
	}
	c->srv = srv;
	c->bev = bev;
	c->tls = srv->ssl_ctx != NULL;
	c->state = CONN_HEAD;
	/* A new connection must deliver its first request head in time, idle or not. */
	c->deadline_us = clock_mono_us() + (int64_t)srv->limits.head_timeout_ms * 1000;
	format_addr(sa, c->client_addr, sizeof(c->client_addr));
	TAILQ_INSERT_TAIL(&srv->conns, c, next);
	srv->nconns++;
	bufferevent_setcb(bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
	/* While a handler works, input only accumulates: stop reading once a whole request could
	 * be buffered, so a client streaming a huge body cannot grow our memory. */
	bufferevent_setwatermark(bev, EV_READ, 0, HTTP_MAX_HEAD + srv->limits.max_body + 1);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	if (srv->nconns > srv->limits.max_connections)
		conn_reject(c, 503, "unavailable", "too many connections");
}

/* Deadlines: a head that drips in, a body that stalls, an idle keep-alive connection, an
 * answer the peer does not read. */
static void sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_server *srv = arg;
	int64_t now = clock_mono_us();
	struct http_conn *c = TAILQ_FIRST(&srv->conns), *next;
	(void)fd;
	(void)what;
	for (; c; c = next) {
		next = TAILQ_NEXT(c, next);
		if (c->bev == NULL || c->deadline_us == 0 || now < c->deadline_us)
			continue;
		if (c->state == CONN_CLOSING || c->state == CONN_DRAIN ||
		    (c->state == CONN_HEAD && !c->got_bytes))
			conn_free(c);
		else
			conn_reject(c, 408, "request_timeout",
				    "the request took too long to arrive");
	}
}

struct http_server *http_server_new(struct event_base *base, int listen_fd, SSL_CTX *ssl_ctx,
				    const struct http_limits *limits, http_handler handler,
				    void *arg)
{
	struct http_server *srv = calloc(1, sizeof(*srv));
	if (srv == NULL)
		return NULL;
	srv->base = base;
	srv->ssl_ctx = ssl_ctx;
	srv->limits = *limits;
	srv->handler = handler;
	srv->arg = arg;
	TAILQ_INIT(&srv->conns);
	srv->listener =
		evconnlistener_new(base, accept_cb, srv, LEV_OPT_CLOSE_ON_EXEC, -1, listen_fd);
	srv->sweep = event_new(base, -1, EV_PERSIST, sweep_cb, srv);
	if (srv->listener == NULL || srv->sweep == NULL) {
		http_server_free(srv);
		return NULL;
	}
	struct timeval tv = { 0, HTTP_SWEEP_MS * 1000 };
	event_add(srv->sweep, &tv);
	return srv;
}

void http_server_set_body_check(struct http_server *srv, http_body_check check)
{
	srv->body_check = check;
}

void http_server_stop_accepting(struct http_server *srv)
{
	struct http_conn *c = TAILQ_FIRST(&srv->conns), *next;
	srv->stopping = true;
	if (srv->listener)
		evconnlistener_free(srv->listener);
	srv->listener = NULL;
	/* Idle keep-alive connections have nothing to finish. */
	for (; c; c = next) {
		next = TAILQ_NEXT(c, next);
		if (c->state == CONN_HEAD && !c->got_bytes)
			conn_free(c);
	}
}

int http_server_inflight(const struct http_server *srv)
{
	return srv->inflight;
}

int http_server_connections(const struct http_server *srv)
{
	return srv->nconns;
}

void http_server_free(struct http_server *srv)
{
	struct http_conn *c;
	if (srv == NULL)
		return;
	if (srv->listener)
		evconnlistener_free(srv->listener);
	while ((c = TAILQ_FIRST(&srv->conns)) != NULL) {
		if (c->state == CONN_HANDLING)
			request_free((struct request_impl *)c->req);
		c->req = NULL;
		c->state = CONN_CLOSING;
		conn_free(c);
	}
	if (srv->sweep)
		event_free(srv->sweep);
	free(srv);
}
