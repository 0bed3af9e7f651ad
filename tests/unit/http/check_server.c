/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of http/server.c's pure parts: every status hookgate answers with has its reason
 * phrase, and http_parse_head reads a request head as README "HTTP/1.1 rules" says. */
#include "suites.h"

#include "http/server.h"

#include <stdlib.h>
#include <string.h>

/* Every status the code answers with: http.c's own refusals, the webhook and admin handlers'
 * (grep http_respond, admin_reply, call_fix and call_refuse) and those hookgate.ingest_batch()
 * decides (sql/). */
START_TEST(test_reasons)
{
	static const struct {
		int status;
		const char *reason;
	} emitted[] = {
		{ 100, "Continue" },
		{ 200, "OK" },
		{ 201, "Created" },
		{ 204, "No Content" },
		{ 301, "Moved Permanently" },
		{ 304, "Not Modified" },
		{ 400, "Bad Request" },
		{ 401, "Unauthorized" },
		{ 403, "Forbidden" },
		{ 404, "Not Found" },
		{ 405, "Method Not Allowed" },
		{ 408, "Request Timeout" },
		{ 409, "Conflict" },
		{ 411, "Length Required" },
		{ 413, "Content Too Large" },
		{ 415, "Unsupported Media Type" },
		{ 423, "Locked" },
		{ 429, "Too Many Requests" },
		{ 431, "Request Header Fields Too Large" },
		{ 500, "Internal Server Error" },
		{ 503, "Service Unavailable" },
	};
	for (size_t i = 0; i < sizeof(emitted) / sizeof(emitted[0]); i++)
		ck_assert_str_eq(http_status_reason(emitted[i].status), emitted[i].reason);
	/* the rest of RFC 9110 too; an unregistered status has none (RFC 9112 allows that) */
	for (int status = 100; status < 600; status++) {
		bool registered =
			(status >= 100 && status <= 101) || (status >= 200 && status <= 206) ||
			(status >= 300 && status <= 308 && status != 306) ||
			(status >= 400 && status <= 417) || status == 421 || status == 422 ||
			status == 423 || status == 426 || status == 428 || status == 429 ||
			status == 431 || (status >= 500 && status <= 505);
		ck_assert_msg((strlen(http_status_reason(status)) > 0) == registered, "status %d",
			      status);
	}
	ck_assert_str_eq(http_status_reason(0), "");
	ck_assert_str_eq(http_status_reason(999), "");
}
END_TEST

/* One head through http_parse_head, on a copy it may split; the copy lives until the next call
 * (req points into it). */
static char *head_text;
static struct http_request head_req;
static struct http_head head_info;

static bool parse(const char *text)
{
	free(head_text);
	http_head_free(&head_info);
	memset(&head_req, 0, sizeof(head_req));
	head_text = strdup(text);
	ck_assert_ptr_nonnull(head_text);
	return http_parse_head(head_text, strlen(text), &head_req, &head_info);
}

static void parse_done(void)
{
	free(head_text);
	head_text = NULL;
	http_head_free(&head_info);
}

static void assert_refused(const char *text, int status, const char *message)
{
	ck_assert_msg(!parse(text), "accepted: %s", text);
	ck_assert_int_eq(head_info.status, status);
	ck_assert_str_eq(head_info.message, message);
}

START_TEST(test_parse_origin_form)
{
	ck_assert(parse("POST /api/v2/bots/b/incoming?zapikey=x HTTP/1.1\r\nHost: h:80\r\n"
			"Content-Length: 12\r\nX-A:  padded \t\r\n\r\n"));
	ck_assert_int_eq(head_req.method, HTTP_METHOD_POST);
	ck_assert_str_eq(head_req.path, "/api/v2/bots/b/incoming");
	ck_assert_str_eq(head_req.query, "zapikey=x");
	ck_assert_str_eq(head_req.host, "h:80");
	ck_assert_str_eq(http_header(&head_req, "x-a", NULL), "padded");
	ck_assert_uint_eq(head_info.content_length, 12);
	ck_assert(head_info.keep_alive && !head_info.http10);
	parse_done();
}
END_TEST

START_TEST(test_parse_absolute_form)
{
	ck_assert(parse("GET http://example.org:8080?a=1 HTTP/1.1\r\nHost: other\r\n\r\n"));
	ck_assert_str_eq(head_req.path, "/");
	ck_assert_str_eq(head_req.query, "a=1");
	ck_assert_str_eq(head_req.host, "example.org:8080");
	assert_refused("GET http://user@host/ HTTP/1.1\r\nHost: h\r\n\r\n", 400,
		       "the request target must be a path or an http(s) URL");
	assert_refused("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", 400,
		       "the request target must be a path or an http(s) URL");
	parse_done();
}
END_TEST

START_TEST(test_parse_host_and_version)
{
	ck_assert(parse("GET / HTTP/1.0\r\n\r\n"));
	ck_assert(head_info.http10 && !head_info.keep_alive);
	ck_assert_ptr_null(head_req.host);
	ck_assert(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"));
	ck_assert(head_info.keep_alive);
	ck_assert(parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"));
	ck_assert(!head_info.keep_alive);
	assert_refused("GET / HTTP/1.1\r\n\r\n", 400, "no Host header");
	assert_refused("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400,
		       "more than one Host header");
	assert_refused("GET / HTTP/1.1\r\nHost: u@h\r\n\r\n", 400, "malformed Host header");
	assert_refused("GET / HTTP/2.0\r\nHost: h\r\n\r\n", 400, "malformed request head");
	parse_done();
}
END_TEST

/* Bytes that start request smuggling or header injection, and framing two parties could
 * read differently. */
START_TEST(test_parse_refusals)
{
	const char *malformed[] = {
		"GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n", /* bare CR */
		"GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n",
		"GET / HTTP/1.1\nHost: h\r\n\r\n", /* bare LF */
		"GET  / HTTP/1.1\r\nHost: h\r\n\r\n",
		"G(T / HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET / HTTP/1.1\r\nBad Name: h\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: h\r\n: empty name\r\n\r\n",
		"\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++)
		assert_refused(malformed[i], 400, "malformed request head");
	char nul[] = "GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n";
	parse_done();
	ck_assert(!http_parse_head(nul, sizeof(nul) - 1, &head_req, &head_info));
	assert_refused("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", 411,
		       "chunked bodies are not accepted; send Content-Length");
	assert_refused("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
		       "Content-Length: 3\r\n\r\n",
		       400, "Transfer-Encoding together with Content-Length");
	assert_refused(
		"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n", 400,
		"duplicate Content-Length");
	assert_refused("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +3\r\n\r\n", 400,
		       "malformed Content-Length");
	assert_refused(
		"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999999\r\n\r\n",
		400, "malformed Content-Length");
	parse_done();
}
END_TEST

Suite *make_suite_http(void)
{
	Suite *s = suite_create("http");
	TCase *tc = tcase_create("status");
	tcase_add_test(tc, test_reasons);
	suite_add_tcase(s, tc);
	tc = tcase_create("parse_head");
	tcase_add_test(tc, test_parse_origin_form);
	tcase_add_test(tc, test_parse_absolute_form);
	tcase_add_test(tc, test_parse_host_and_version);
	tcase_add_test(tc, test_parse_refusals);
	suite_add_tcase(s, tc);
	return s;
}
