/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of http/server.c's request parsing, through its real I/O: a server on the test's
 * event_base accepts on a loopback socket, and the test writes requests as a client would
 * (whole, several at once, or a byte at a time), then reads what comes back. Covered: the request
 * line, headers, Content-Length strictness, chunked bodies refused, absolute-form targets, the Host
 * rules, the limits (8 KiB head, 64 headers, body size, head deadline, connections) and pipelining
 * (README "Webhook endpoints": HTTP limits and HTTP/1.1 rules). */
#include "suites.h"
#include "evloop.h"

#include "http/server.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cjson/cJSON.h>
#include <event2/event.h>

#define MAX_SEEN 8
#define MAX_RESPONSES 8
#define TEST_MAX_BODY 1024

/* What the handler saw of one request (the request itself is freed once answered). */
struct seen_request {
	enum http_method method;
	char method_text[16];
	char target[256];
	char path[256];
	char query[256];
	bool has_query;
	char host[256];
	bool has_host;
	int nheaders;
	char body[TEST_MAX_BODY + 1];
	size_t body_len;
	bool body_too_large;
	bool body_skipped;
};

struct response {
	int status;
	char head[2048]; /* status line and headers */
	char body[1024];
	size_t body_len;
};

static struct {
	struct event_base *base;
	struct http_server *srv;
	int lfd;
	int cfd; /* the client */
	struct event *client_ev;
	char got[65536]; /* what the client received */
	size_t got_len;
	bool closed; /* the server closed (or reset) the connection */
	struct seen_request seen[MAX_SEEN];
	int nseen;
	bool hold; /* the handler keeps its requests instead of answering */
	struct http_request *held[MAX_SEEN];
	int nheld;
	bool allow_body; /* the body check's answer */
	int body_checks;
} h;

static const struct http_limits default_limits = {
	.max_body = TEST_MAX_BODY,
	.head_timeout_ms = 5000,
	.idle_timeout_ms = 5000,
	.body_timeout_ms = 5000,
	.max_connections = 8,
	.access_log = false,
};

/* ---- the harness ------------------------------------------------------------------------ */

static void copy_text(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

static void record(const struct http_request *req)
{
	ck_assert_int_lt(h.nseen, MAX_SEEN);
	struct seen_request *s = &h.seen[h.nseen++];
	s->method = req->method;
	copy_text(s->method_text, sizeof(s->method_text), req->method_text);
	copy_text(s->target, sizeof(s->target), req->target);
	copy_text(s->path, sizeof(s->path), req->path);
	copy_text(s->query, sizeof(s->query), req->query);
	s->has_query = req->query != NULL;
	copy_text(s->host, sizeof(s->host), req->host);
	s->has_host = req->host != NULL;
	s->nheaders = req->nheaders;
	ck_assert_uint_le(req->body_len, TEST_MAX_BODY);
	memcpy(s->body, req->body, req->body_len);
	s->body[req->body_len] = '\0';
	s->body_len = req->body_len;
	s->body_too_large = req->body_too_large;
	s->body_skipped = req->body_skipped;
}

/* Answers 200 with the request's number (1, 2, ...) as the body, unless told to hold it. */
static void handler(struct http_request *req, void *arg)
{
	char n[16];
	(void)arg;
	record(req);
	if (h.hold) {
		h.held[h.nheld++] = req;
		return;
	}
	snprintf(n, sizeof(n), "%d", h.nseen);
	http_respond(req, 200, "text/plain", n, strlen(n));
}

static bool body_check(const struct http_request *req, void *arg)
{
	(void)req;
	(void)arg;
	h.body_checks++;
	return h.allow_body;
}

static void client_read_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	(void)arg;
	ssize_t n = read(fd, h.got + h.got_len, sizeof(h.got) - h.got_len - 1);
	if (n > 0) {
		h.got_len += (size_t)n;
		h.got[h.got_len] = '\0';
	} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
		h.closed = true;
		event_del(h.client_ev);
	}
}

/* A new client connection on the server's port, non-blocking. */
static int connect_client(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	ck_assert_int_eq(getsockname(h.lfd, (struct sockaddr *)&sin, &len), 0);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, len), 0);
	ck_assert_int_eq(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	return fd;
}

static void open_client(void)
{
	h.cfd = connect_client();
	h.got_len = 0;
	h.got[0] = '\0';
	h.closed = false;
	h.client_ev = event_new(h.base, h.cfd, EV_READ | EV_PERSIST, client_read_cb, NULL);
	ck_assert_ptr_nonnull(h.client_ev);
	event_add(h.client_ev, NULL);
}

static void close_client(void)
{
	if (h.client_ev)
		event_free(h.client_ev);
	if (h.cfd >= 0)
		close(h.cfd);
	h.client_ev = NULL;
	h.cfd = -1;
}

static void start_server(const struct http_limits *limits, http_handler handle)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	h.lfd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(h.lfd, 0);
	ck_assert_int_eq(bind(h.lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(h.lfd, 16), 0);
	ck_assert_int_eq(fcntl(h.lfd, F_SETFL, O_NONBLOCK), 0);
	h.srv = http_server_new(h.base, h.lfd, NULL, limits, handle, NULL);
	ck_assert_ptr_nonnull(h.srv);
	http_server_set_body_check(h.srv, body_check);
	open_client();
}

static void stop_server(void)
{
	close_client();
	for (int i = 0; i < h.nheld; i++)
		http_respond(h.held[i], 200, NULL, NULL, 0);
	h.nheld = 0;
	http_server_free(h.srv);
	close(h.lfd);
	h.srv = NULL;
}

static void setup(void)
{
	memset(&h, 0, sizeof(h));
	h.cfd = -1;
	h.allow_body = true;
	h.base = event_base_new();
	ck_assert_ptr_nonnull(h.base);
	start_server(&default_limits, handler);
}

static void teardown(void)
{
	stop_server();
	event_base_free(h.base);
}

struct wait_goal {
	bool (*cond)(int);
	int n;
};

static bool goal_met(const void *arg)
{
	const struct wait_goal *g = arg;
	return g->cond(g->n);
}

/* Runs the loop until cond(n) holds or ms pass; whether it holds. */
static bool run_until(bool (*cond)(int), int n, int ms)
{
	struct wait_goal g = { cond, n };
	return evloop_run_until(h.base, goal_met, &g, ms);
}

static void run_for(int ms)
{
	evloop_run_for(h.base, ms);
}

static void send_bytes(const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(h.cfd, data, len);
		if (n < 0 && errno == EAGAIN) {
			event_base_loop(h.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
			continue;
		}
		ck_assert_int_gt(n, 0);
		data += n;
		len -= (size_t)n;
	}
}

static void send_text(const char *text)
{
	send_bytes(text, strlen(text));
}

/* Parses one response at *at of what the client received; false while it is incomplete. */
static bool parse_response(size_t *at, struct response *r)
{
	const char *start = h.got + *at;
	const char *end = strstr(start, "\r\n\r\n");
	if (end == NULL)
		return false;
	size_t hlen = (size_t)(end - start) + 4;
	ck_assert_uint_lt(hlen, sizeof(r->head));
	memcpy(r->head, start, hlen);
	r->head[hlen] = '\0';
	ck_assert_int_eq(sscanf(r->head, "HTTP/1.1 %d ", &r->status), 1);
	const char *cl = strstr(r->head, "\r\nContent-Length: ");
	r->body_len = cl ? strtoul(cl + 18, NULL, 10) : 0;
	if (*at + hlen + r->body_len > h.got_len)
		return false;
	ck_assert_uint_lt(r->body_len, sizeof(r->body));
	memcpy(r->body, start + hlen, r->body_len);
	r->body[r->body_len] = '\0';
	*at += hlen + r->body_len;
	return true;
}

/* The complete responses received so far, in order. */
static int responses(struct response *out, int max)
{
	size_t at = 0;
	int n = 0;
	while (n < max && parse_response(&at, &out[n]))
		n++;
	return n;
}

static bool got_responses(int n)
{
	struct response r[MAX_RESPONSES];
	return responses(r, MAX_RESPONSES) >= n;
}

static bool got_close(int n)
{
	(void)n;
	return h.closed;
}

static bool handled(int n)
{
	return h.nseen >= n;
}

static bool has_header(const struct response *r, const char *line)
{
	char want[256];
	snprintf(want, sizeof(want), "\r\n%s\r\n", line);
	return strstr(r->head, want) != NULL;
}

/* Sends one request and waits for the one answer and the close that must follow. */
static struct response exchange_closing_len(const char *request, size_t len)
{
	struct response r[MAX_RESPONSES];
	int before = responses(r, MAX_RESPONSES);
	send_bytes(request, len);
	ck_assert(run_until(got_close, 0, 3000));
	ck_assert_int_eq(responses(r, MAX_RESPONSES), before + 1);
	ck_assert(has_header(&r[before], "Connection: close"));
	return r[before];
}

static struct response exchange_closing(const char *request)
{
	return exchange_closing_len(request, strlen(request));
}

/* Sends one request on a kept-alive connection and returns its answer. */
static struct response exchange(const char *request)
{
	struct response r[MAX_RESPONSES];
	int before = responses(r, MAX_RESPONSES);
	send_text(request);
	ck_assert_msg(run_until(got_responses, before + 1, 3000), "no answer to %s", request);
	ck_assert_int_eq(responses(r, MAX_RESPONSES), before + 1);
	ck_assert(!has_header(&r[before], "Connection: close"));
	return r[before];
}

static void assert_error_body(const struct response *r, const char *code, const char *message)
{
	cJSON *o = cJSON_Parse(r->body);
	ck_assert_msg(o != NULL, "not JSON: %s", r->body);
	const char *got_code = cJSON_GetStringValue(cJSON_GetObjectItem(o, "code"));
	const char *got_message = cJSON_GetStringValue(cJSON_GetObjectItem(o, "message"));
	ck_assert_ptr_nonnull(got_code);
	ck_assert_ptr_nonnull(got_message);
	ck_assert_str_eq(got_code, code);
	if (message)
		ck_assert_str_eq(got_message, message);
	cJSON_Delete(o);
}

/* The request (on a fresh connection) is refused before any handler runs, and the connection
 * closed. */
static void assert_refused_len(const char *request, size_t len, int status, const char *code,
			       const char *message)
{
	close_client();
	open_client();
	h.nseen = 0;
	struct response r = exchange_closing_len(request, len);
	ck_assert_msg(r.status == status, "%d, not %d, for %s", r.status, status, request);
	assert_error_body(&r, code, message);
	ck_assert_msg(h.nseen == 0, "handler ran for %s", request);
}

static void assert_refused(const char *request, int status, const char *code, const char *message)
{
	assert_refused_len(request, strlen(request), status, code, message);
}

static void assert_malformed(const char *request)
{
	assert_refused(request, 400, "invalid_request", "malformed request head");
}

/* The request (on a fresh connection) reaches the handler; what it saw. */
static const struct seen_request *accepted(const char *request)
{
	close_client();
	open_client();
	h.nseen = 0;
	struct response r = exchange(request);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(h.nseen, 1);
	return &h.seen[0];
}

/* ---- the request line and headers ------------------------------------------------------- */

START_TEST(test_request_line)
{
	const struct seen_request *s = accepted("GET /a/b?x=1&y HTTP/1.1\r\nHost: h\r\n\r\n");
	ck_assert_int_eq(s->method, HTTP_METHOD_GET);
	ck_assert_str_eq(s->method_text, "GET");
	ck_assert_str_eq(s->target, "/a/b?x=1&y");
	ck_assert_str_eq(s->path, "/a/b");
	ck_assert(s->has_query);
	ck_assert_str_eq(s->query, "x=1&y");
	ck_assert_str_eq(s->host, "h");
	ck_assert_int_eq(s->nheaders, 1);

	s = accepted("POST /p HTTP/1.1\r\nHost: h\r\n\r\n");
	ck_assert_int_eq(s->method, HTTP_METHOD_POST);
	ck_assert(!s->has_query);
	ck_assert_str_eq(s->path, "/p");
	s = accepted("DELETE /p? HTTP/1.1\r\nHost: h\r\n\r\n");
	ck_assert_int_eq(s->method, HTTP_METHOD_DELETE);
	ck_assert(s->has_query);
	ck_assert_str_eq(s->query, "");
	/* Methods are case-sensitive: an unknown one reaches the handler (which answers 405). */
	s = accepted("get / HTTP/1.1\r\nHost: h\r\n\r\n");
	ck_assert_int_eq(s->method, HTTP_METHOD_OTHER);
	ck_assert_str_eq(s->method_text, "get");
	s = accepted("BREW / HTTP/1.1\r\nHost: h\r\n\r\n");
	ck_assert_int_eq(s->method, HTTP_METHOD_OTHER);
}
END_TEST

START_TEST(test_request_line_malformed)
{
	assert_malformed("GET /\r\nHost: h\r\n\r\n");
	assert_malformed("GET  / HTTP/1.1\r\nHost: h\r\n\r\n");
	assert_malformed(" GET / HTTP/1.1\r\nHost: h\r\n\r\n");
	assert_malformed("GET / HTTP/1.1 x\r\nHost: h\r\n\r\n");
	assert_malformed("GET / HTTP/2.0\r\nHost: h\r\n\r\n");
	assert_malformed("GET / http/1.1\r\nHost: h\r\n\r\n");
	assert_malformed("G(T / HTTP/1.1\r\nHost: h\r\n\r\n");
	assert_malformed("GET /a\x01z HTTP/1.1\r\nHost: h\r\n\r\n");
	assert_malformed("GET /a\x7fz HTTP/1.1\r\nHost: h\r\n\r\n");
	assert_malformed("GET /a\tz HTTP/1.1\r\nHost: h\r\n\r\n");
	/* The head ends at the first empty line: one that is nothing but that is no request. */
	assert_malformed("\r\n\r\n");
}
END_TEST

/* Headers as http_header() returns them: case-insensitive names, trimmed values, counts. */
static void header_handler(struct http_request *req, void *arg)
{
	int n;
	(void)arg;
	ck_assert_str_eq(http_header(req, "x-trim", &n), "padded value");
	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(http_header(req, "X-EMPTY", NULL), "");
	ck_assert_str_eq(http_header(req, "X-Tab", NULL), "a\tb");
	ck_assert_str_eq(http_header(req, "X-Twice", &n), "first");
	ck_assert_int_eq(n, 2);
	ck_assert_ptr_null(http_header(req, "X-None", &n));
	ck_assert_int_eq(n, 0);
	record(req);
	http_respond(req, 200, NULL, NULL, 0);
}

START_TEST(test_header_values)
{
	stop_server();
	start_server(&default_limits, header_handler);
	accepted("GET / HTTP/1.1\r\nHost: h\r\nX-Trim: \t  padded value \t \r\nX-Empty:\r\n"
		 "X-Tab: a\tb\r\nx-twice: first\r\nX-TWICE: second\r\n\r\n");
}
END_TEST

START_TEST(test_headers_malformed)
{
	assert_malformed("GET / HTTP/1.1\r\nHost: h\r\nNo colon\r\n\r\n");
	assert_malformed("GET / HTTP/1.1\r\nHost: h\r\n: no name\r\n\r\n");
	assert_malformed("GET / HTTP/1.1\r\nHost : h\r\n\r\n");
	assert_malformed("GET / HTTP/1.1\r\nHost: h\r\nX(y): z\r\n\r\n");
	assert_malformed("GET / HTTP/1.1\r\nHost: h\r\nX: a\x01z\r\n\r\n");
	assert_malformed("GET / HTTP/1.1\r\nHost: h\r\nX: a\x7fz\r\n\r\n");
	/* obsolete line folding, bare LF, bare CR: how smuggling starts */
	assert_malformed("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n");
	assert_malformed("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n\tb\r\n\r\n");
	assert_malformed("GET / HTTP/1.1\nHost: h\r\n\r\n");
	assert_malformed("GET / HTTP/1.1\r\nHost: h\nX: a\r\n\r\n");
	assert_malformed("GET / HTTP/1.1\r\nHost: h\rX: a\r\n\r\n");
	static const char nul[] = "GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n";
	assert_refused_len(nul, sizeof(nul) - 1, 400, "invalid_request", "malformed request head");
}
END_TEST

/* ---- framing ---------------------------------------------------------------------------- */

START_TEST(test_content_length)
{
	const struct seen_request *s =
		accepted("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello");
	ck_assert_uint_eq(s->body_len, 5);
	ck_assert_str_eq(s->body, "hello");
	s = accepted("POST / HTTP/1.1\r\nHost: h\r\ncontent-length: 0\r\n\r\n");
	ck_assert_uint_eq(s->body_len, 0);
	/* No Content-Length: no body; what follows is the next request. */
	s = accepted("POST / HTTP/1.1\r\nHost: h\r\n\r\n");
	ck_assert_uint_eq(s->body_len, 0);
	s = accepted("POST / HTTP/1.1\r\nHost: h\r\nContent-Length:  3 \r\n\r\nabc");
	ck_assert_str_eq(s->body, "abc");
}
END_TEST

START_TEST(test_content_length_strict)
{
	const char *bad[] = { "+5",  "-1",  "5,5",
			      "5 5", "0x5", "5a",
			      "",    "1e3", "184467440737095516160" };
	char req[256];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(req, sizeof(req),
			 "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: %s\r\n\r\n", bad[i]);
		assert_refused(req, 400, "invalid_request", "malformed Content-Length");
	}
	assert_refused("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 1\r\n"
		       "\r\nx",
		       400, "invalid_request", "duplicate Content-Length");
}
END_TEST

START_TEST(test_chunked_refused)
{
	assert_refused("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
		       "5\r\nhello\r\n0\r\n\r\n",
		       411, "length_required",
		       "chunked bodies are not accepted; send Content-Length");
	assert_refused("POST / HTTP/1.1\r\nHost: h\r\ntransfer-encoding: identity\r\n\r\n", 411,
		       "length_required", NULL);
	assert_refused("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n"
		       "Transfer-Encoding: chunked\r\n\r\nhello",
		       400, "invalid_request", "Transfer-Encoding together with Content-Length");
}
END_TEST

START_TEST(test_absolute_form)
{
	const struct seen_request *s =
		accepted("POST http://example.com:8080/api/v2/x?zapikey=t HTTP/1.1\r\n"
			 "Host: other\r\n\r\n");
	ck_assert_str_eq(s->path, "/api/v2/x");
	ck_assert_str_eq(s->query, "zapikey=t");
	ck_assert_str_eq(s->host, "example.com:8080"); /* the target's authority wins */
	s = accepted("GET HTTPS://example.com HTTP/1.1\r\nHost: h\r\n\r\n");
	ck_assert_str_eq(s->path, "/");
	ck_assert(!s->has_query);
	ck_assert_str_eq(s->host, "example.com");
	s = accepted("GET http://[::1]?q HTTP/1.1\r\nHost: h\r\n\r\n");
	ck_assert_str_eq(s->path, "/");
	ck_assert_str_eq(s->query, "q");
	ck_assert_str_eq(s->host, "[::1]");
	/* HTTP/1.0 without Host: the authority stands for it */
	s = accepted("GET http://a.example/p HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
	ck_assert_str_eq(s->host, "a.example");
}
END_TEST

START_TEST(test_other_target_forms)
{
	const char *bad[] = { "*",
			      "ftp://example.com/",
			      "http:///path",
			      "http://",
			      "http://user@host/p",
			      "http://host#frag",
			      "http://host:80x/",
			      "example.com:443",
			      "api/v2" };
	char req[256];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: h\r\n\r\n", bad[i]);
		assert_refused(req, 400, "invalid_request",
			       "the request target must be a path or an http(s) URL");
	}
}
END_TEST

START_TEST(test_host_rules)
{
	const char *good[] = { "example.com", "example.com:8080",
			       "[::1]:80",    "127.0.0.1",
			       "a%41",	      "" };
	char req[256];
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", good[i]);
		ck_assert_str_eq(accepted(req)->host, good[i]);
	}
	assert_refused("GET / HTTP/1.1\r\nX: y\r\n\r\n", 400, "invalid_request", "no Host header");
	assert_refused("GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", 400, "invalid_request",
		       "more than one Host header");
	const char *bad[] = { "user@host", "a b", "host:80x", "[::1", "[]", "a/b", "a%4" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", bad[i]);
		assert_refused(req, 400, "invalid_request", "malformed Host header");
	}
	/* HTTP/1.0 may leave Host out, but not repeat it. */
	close_client();
	open_client();
	h.nseen = 0;
	struct response r = exchange_closing("GET / HTTP/1.0\r\n\r\n");
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(h.nseen, 1);
	ck_assert(!h.seen[0].has_host);
	assert_refused("GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n", 400, "invalid_request",
		       "more than one Host header");
}
END_TEST

START_TEST(test_keep_alive)
{
	struct response r = exchange("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
	ck_assert_int_eq(r.status, 200);
	r = exchange("GET / HTTP/1.1\r\nHost: h\r\nConnection: foo, Keep-Alive\r\n\r\n");
	ck_assert_int_eq(r.status, 200);
	r = exchange_closing("GET / HTTP/1.1\r\nHost: h\r\nConnection: te, Close\r\n\r\n");
	ck_assert_int_eq(r.status, 200);
	/* HTTP/1.0 closes unless asked to keep the connection */
	close_client();
	open_client();
	r = exchange("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
	ck_assert_int_eq(r.status, 200);
	r = exchange_closing("GET / HTTP/1.0\r\n\r\n");
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(h.nseen, 5);
}
END_TEST

START_TEST(test_expect_continue)
{
	const char *head = "POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n"
			   "Content-Length: 4\r\n\r\n";
	/* The body check allows it: "100 Continue", then the body is read. */
	send_text(head);
	ck_assert(run_until(got_responses, 1, 3000));
	ck_assert_str_eq(h.got, "HTTP/1.1 100 Continue\r\n\r\n");
	ck_assert_int_eq(h.nseen, 0);
	send_text("body");
	ck_assert(run_until(got_responses, 2, 3000));
	ck_assert_uint_eq(h.seen[0].body_len, 4);
	ck_assert(!h.seen[0].body_skipped);
	/* It refuses: the handler answers from the head alone, no 100, and the connection
	 * closes. */
	h.allow_body = false;
	close_client();
	open_client();
	h.nseen = 0;
	struct response r = exchange_closing(head);
	ck_assert_int_eq(r.status, 200);
	ck_assert(h.seen[0].body_skipped);
	ck_assert_uint_eq(h.seen[0].body_len, 0);
	ck_assert_int_eq(h.body_checks, 2);
	/* HTTP/1.0 has no 100 Continue: the body is just read. */
	close_client();
	open_client();
	h.nseen = 0;
	r = exchange_closing("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 2\r\n"
			     "\r\nhi");
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(h.seen[0].body, "hi");
	ck_assert_int_eq(h.body_checks, 2);
}
END_TEST

/* ---- limits ----------------------------------------------------------------------------- */

/* A GET whose head is exactly len bytes (a padding header makes up the length). */
static char *head_of_length(size_t len)
{
	static char buf[HTTP_MAX_HEAD + 64];
	const char *start = "GET / HTTP/1.1\r\nHost: h\r\nX-Pad: ";
	size_t fixed = strlen(start) + 4;
	ck_assert_uint_lt(len, sizeof(buf));
	ck_assert_uint_gt(len, fixed);
	strcpy(buf, start);
	memset(buf + strlen(start), 'p', len - fixed);
	strcpy(buf + len - 4, "\r\n\r\n");
	return buf;
}

START_TEST(test_head_limit)
{
	const char *over = "request head over 8 KiB";
	ck_assert_int_eq(accepted(head_of_length(HTTP_MAX_HEAD))->nheaders, 2);
	assert_refused(head_of_length(HTTP_MAX_HEAD + 1), 431, "invalid_request", over);
	/* A head that has not ended within 8 KiB is refused without waiting for its end. */
	char *partial = head_of_length(HTTP_MAX_HEAD + 40);
	partial[HTTP_MAX_HEAD + 20] = '\0';
	assert_refused(partial, 431, "invalid_request", over);
}
END_TEST

static char *head_with_headers(int nheaders)
{
	static char buf[4096];
	size_t at = (size_t)snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\nHost: h\r\n");
	for (int i = 1; i < nheaders; i++)
		at += (size_t)snprintf(buf + at, sizeof(buf) - at, "X-%d: v\r\n", i);
	snprintf(buf + at, sizeof(buf) - at, "\r\n");
	return buf;
}

START_TEST(test_header_count)
{
	ck_assert_int_eq(accepted(head_with_headers(HTTP_MAX_HEADERS))->nheaders, HTTP_MAX_HEADERS);
	assert_malformed(head_with_headers(HTTP_MAX_HEADERS + 1));
}
END_TEST

START_TEST(test_body_limit)
{
	static char req[TEST_MAX_BODY + 128];
	int at =
		snprintf(req, sizeof(req),
			 "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: %d\r\n\r\n", TEST_MAX_BODY);
	memset(req + at, 'b', TEST_MAX_BODY);
	req[at + TEST_MAX_BODY] = '\0';
	const struct seen_request *s = accepted(req);
	ck_assert_uint_eq(s->body_len, TEST_MAX_BODY);
	ck_assert(!s->body_too_large);
	/* One byte over: the handler still sees the head (flagged, body unread), and the
	 * connection closes after its answer. */
	close_client();
	open_client();
	h.nseen = 0;
	at = snprintf(req, sizeof(req), "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: %d\r\n\r\nb",
		      TEST_MAX_BODY + 1);
	struct response r = exchange_closing_len(req, (size_t)at);
	ck_assert_int_eq(r.status, 200);
	ck_assert(h.seen[0].body_too_large);
	ck_assert_uint_eq(h.seen[0].body_len, 0);
}
END_TEST

START_TEST(test_head_deadline)
{
	struct http_limits l = default_limits;
	l.head_timeout_ms = 300;
	stop_server();
	start_server(&l, handler);
	send_text("GET / HTTP/1.1\r\nHost: h\r\n");
	run_for(150);
	ck_assert(!h.closed);
	send_text("X-Drip: 1\r\n"); /* still within the deadline of the head's first byte */
	ck_assert(run_until(got_close, 0, 3000));
	struct response r[MAX_RESPONSES];
	ck_assert_int_eq(responses(r, MAX_RESPONSES), 1);
	ck_assert_int_eq(r[0].status, 408);
	assert_error_body(&r[0], "request_timeout", "the request took too long to arrive");
	ck_assert_int_eq(h.nseen, 0);
}
END_TEST

START_TEST(test_connection_limit)
{
	struct http_limits l = default_limits;
	l.max_connections = 1;
	stop_server();
	start_server(&l, handler);
	struct response r = exchange("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
	ck_assert_int_eq(r.status, 200);
	/* A second connection is answered 503 and closed, unread. */
	int first = h.cfd;
	struct event *first_ev = h.client_ev;
	h.client_ev = NULL;
	open_client();
	ck_assert(run_until(got_close, 0, 3000));
	struct response rr[MAX_RESPONSES];
	ck_assert_int_eq(responses(rr, MAX_RESPONSES), 1);
	ck_assert_int_eq(rr[0].status, 503);
	assert_error_body(&rr[0], "unavailable", "too many connections");
	ck_assert_int_eq(http_server_connections(h.srv), 1);
	event_free(first_ev);
	close(first);
}
END_TEST

/* ---- pipelining and partial reads ------------------------------------------------------- */

START_TEST(test_pipelined_in_one_read)
{
	struct response r[MAX_RESPONSES];
	send_text("POST /one HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
		  "GET /two?q HTTP/1.1\r\nHost: h\r\n\r\n"
		  "POST /three HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\nz");
	ck_assert(run_until(got_responses, 3, 3000));
	ck_assert_int_eq(responses(r, MAX_RESPONSES), 3);
	ck_assert_int_eq(h.nseen, 3);
	ck_assert_str_eq(h.seen[0].path, "/one");
	ck_assert_str_eq(h.seen[0].body, "abc");
	ck_assert_str_eq(h.seen[1].path, "/two");
	ck_assert_str_eq(h.seen[1].query, "q");
	ck_assert_uint_eq(h.seen[1].body_len, 0);
	ck_assert_str_eq(h.seen[2].path, "/three");
	ck_assert_str_eq(h.seen[2].body, "z");
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(r[i].status, 200);
		ck_assert_int_eq(atoi(r[i].body), i + 1); /* answers in request order */
	}
	ck_assert(!h.closed);
}
END_TEST

/* The second request waits in the buffer while the handler holds the first. */
START_TEST(test_pipelined_behind_slow_answer)
{
	h.hold = true;
	send_text("GET /one HTTP/1.1\r\nHost: h\r\n\r\nGET /two HTTP/1.1\r\nHost: h\r\n\r\n");
	ck_assert(run_until(handled, 1, 3000));
	run_for(50);
	ck_assert_int_eq(h.nseen, 1);
	ck_assert_int_eq(http_server_inflight(h.srv), 1);
	ck_assert_str_eq(h.got, "");
	h.hold = false;
	h.nheld = 0;
	http_respond(h.held[0], 200, "text/plain", "first", 5);
	ck_assert(run_until(got_responses, 2, 3000));
	ck_assert_int_eq(h.nseen, 2);
	ck_assert_str_eq(h.seen[1].path, "/two");
	struct response r[MAX_RESPONSES];
	ck_assert_int_eq(responses(r, MAX_RESPONSES), 2);
	ck_assert_str_eq(r[0].body, "first");
	ck_assert_str_eq(r[1].body, "2");
}
END_TEST

/* One request a byte at a time, the loop running between bytes: it is handled once, whole. */
START_TEST(test_split_over_reads)
{
	const char *first =
		"POST /split?a=b HTTP/1.1\r\nHost: h\r\nContent-Length: 6\r\n\r\nsplit!";
	const char *second = "GET /next HTTP/1.1\r\nHost: h\r\n\r\n";
	char req[256];
	size_t len = (size_t)snprintf(req, sizeof(req), "%s%s", first, second);
	for (size_t i = 0; i < len; i++) {
		int want = i + 1 < strlen(first) ? 0 : i + 1 < len ? 1 : 2;
		send_bytes(req + i, 1);
		if (want > h.nseen)
			run_until(handled, want, 3000);
		else
			run_for(1);
		ck_assert_msg(h.nseen == want, "%d requests after %zu bytes", h.nseen, i + 1);
	}
	ck_assert(run_until(got_responses, 2, 3000));
	ck_assert_str_eq(h.seen[0].path, "/split");
	ck_assert_str_eq(h.seen[0].query, "a=b");
	ck_assert_str_eq(h.seen[0].body, "split!");
	ck_assert_str_eq(h.seen[1].path, "/next");
}
END_TEST

/* A read that ends inside the next request's head, then its rest. */
START_TEST(test_split_across_requests)
{
	send_text("GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHo");
	ck_assert(run_until(got_responses, 1, 3000));
	run_for(20);
	ck_assert_int_eq(h.nseen, 1);
	send_text("st: h\r\n\r");
	run_for(20);
	ck_assert_int_eq(h.nseen, 1);
	send_text("\n");
	ck_assert(run_until(got_responses, 2, 3000));
	ck_assert_str_eq(h.seen[1].path, "/b");
}
END_TEST

Suite *make_suite_http_parse(void)
{
	Suite *s = suite_create("http_parse");
	TCase *tc = tcase_create("head");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_request_line);
	tcase_add_test(tc, test_request_line_malformed);
	tcase_add_test(tc, test_header_values);
	tcase_add_test(tc, test_headers_malformed);
	suite_add_tcase(s, tc);

	tc = tcase_create("framing");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_content_length);
	tcase_add_test(tc, test_content_length_strict);
	tcase_add_test(tc, test_chunked_refused);
	tcase_add_test(tc, test_absolute_form);
	tcase_add_test(tc, test_other_target_forms);
	tcase_add_test(tc, test_host_rules);
	tcase_add_test(tc, test_keep_alive);
	tcase_add_test(tc, test_expect_continue);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_head_limit);
	tcase_add_test(tc, test_header_count);
	tcase_add_test(tc, test_body_limit);
	tcase_add_test(tc, test_head_deadline);
	tcase_add_test(tc, test_connection_limit);
	suite_add_tcase(s, tc);

	tc = tcase_create("pipelining");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_pipelined_in_one_read);
	tcase_add_test(tc, test_pipelined_behind_slow_answer);
	tcase_add_test(tc, test_split_over_reads);
	tcase_add_test(tc, test_split_across_requests);
	suite_add_tcase(s, tc);
	return s;
}
