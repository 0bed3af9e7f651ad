/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of delivery/post.c against a real HTTP server: an evhttp server on loopback, on the
 * same event_base as the client, answers each path its own way (2xx, 500, 410, a big answer, no
 * answer, a redirect, 503 with Retry-After). */
#include "suites.h"
#include "evloop.h"

#include "delivery/post.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fixture {
	struct event_base *base;
	struct evhttp *http;
	int port;
	struct post_ctx *post;
	bool refuse_all;
	int served;		/* requests the server saw */
	char seen_body[64];	/* of the last one */
	char seen_sig[64];	/* its webhook-signature header */
	int done;		/* callbacks run */
	struct post_result res; /* the last one's, with copies of its strings: */
	char answer[POST_KEEP_ANSWER];
	char error[64];
	char retry_after[64];
};

static struct fixture fx;

static void reply(struct evhttp_request *req, int status, const char *body, size_t len)
{
	struct evbuffer *out = evbuffer_new();
	evbuffer_add(out, body, len);
	evhttp_send_reply(req, status, "X", out);
	evbuffer_free(out);
}

static void serve(struct evhttp_request *req, void *arg)
{
	(void)arg;
	const char *path = evhttp_request_get_uri(req);
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t n = evbuffer_copyout(in, fx.seen_body, sizeof(fx.seen_body) - 1);
	fx.seen_body[n] = '\0';
	const char *sig =
		evhttp_find_header(evhttp_request_get_input_headers(req), "webhook-signature");
	snprintf(fx.seen_sig, sizeof(fx.seen_sig), "%s", sig ? sig : "");
	fx.served++;
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	if (strcmp(path, "/ok") == 0) {
		reply(req, 204, "", 0);
	} else if (strcmp(path, "/fail") == 0) {
		reply(req, 500, "boom", 4);
	} else if (strcmp(path, "/gone") == 0) {
		reply(req, 410, "gone away", 9);
	} else if (strcmp(path, "/big") == 0 || strcmp(path, "/long") == 0) {
		size_t len = path[1] == 'b' ? POST_MAX_ANSWER + 1 : 3000;
		char *body = malloc(len);
		for (size_t i = 0; i < len; i++)
			body[i] = (char)('a' + i % 26);
		reply(req, 200, body, len);
		free(body);
	} else if (strcmp(path, "/redirect") == 0) {
		evhttp_add_header(h, "Location", "/ok");
		reply(req, 302, "", 0);
	} else if (strcmp(path, "/busy") == 0) {
		evhttp_add_header(h, "Retry-After", "7");
		reply(req, 503, "", 0);
	} /* "/slow": never answered */
}

static bool allow(const struct sockaddr *sa, void *arg)
{
	(void)arg;
	return sa->sa_family == AF_INET && !fx.refuse_all;
}

static void setup(void)
{
	memset(&fx, 0, sizeof(fx));
	fx.base = event_base_new();
	fx.http = evhttp_new(fx.base);
	ck_assert_ptr_nonnull(fx.http);
	evhttp_set_gencb(fx.http, serve, NULL);
	struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(fx.http, "127.0.0.1", 0);
	ck_assert_ptr_nonnull(bs);
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	ck_assert_int_eq(getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&sin, &len),
			 0);
	fx.port = ntohs(sin.sin_port);
	fx.post = post_ctx_new(fx.base, NULL, 4, allow, NULL);
	ck_assert_ptr_nonnull(fx.post);
}

static void teardown(void)
{
	post_ctx_free(fx.post);
	evhttp_free(fx.http);
	event_base_free(fx.base);
}

static void done_cb(const struct post_result *res, void *arg)
{
	(void)arg;
	fx.res = *res;
	memcpy(fx.answer, res->answer, res->answer_len);
	snprintf(fx.error, sizeof(fx.error), "%s", res->error ? res->error : "");
	snprintf(fx.retry_after, sizeof(fx.retry_after), "%s",
		 res->retry_after ? res->retry_after : "");
	fx.done++;
}

/* POSTs "hello" to path with a 1 s time-out and waits for the callback. */
static void post_to(const char *path)
{
	char url[128];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", fx.port, path);
	static const char *const headers[] = { "content-type: text/plain",
					       "webhook-signature: v1,abc" };
	struct post_request req = {
		.url = url,
		.headers = headers,
		.nheaders = 2,
		.body = "hello",
		.body_len = 5,
		.timeout_ms = 1000,
		.connect_timeout_ms = 1000,
	};
	fx.done = 0;
	ck_assert(post_start(fx.post, &req, done_cb, NULL));
	ck_assert_int_eq(fx.done, 0); /* never called back before post_start returns */
	ck_assert_int_eq(post_inflight(fx.post), 1);
	ck_assert(evloop_run_until_count(fx.base, &fx.done, 1, 5000));
	ck_assert_int_eq(post_inflight(fx.post), 0);
}

START_TEST(test_post_2xx)
{
	post_to("/ok");
	ck_assert_int_eq(fx.res.http_status, 204);
	ck_assert_str_eq(fx.error, "");
	ck_assert_str_eq(fx.seen_body, "hello");
	ck_assert_str_eq(fx.seen_sig, "v1,abc");
	ck_assert_int_gt(fx.res.latency_us, 0);
	post_to("/ok"); /* the connection is reused, a second request works the same */
	ck_assert_int_eq(fx.res.http_status, 204);
	ck_assert_int_eq(fx.served, 2);
}
END_TEST

START_TEST(test_post_500)
{
	post_to("/fail");
	ck_assert_int_eq(fx.res.http_status, 500);
	ck_assert_str_eq(fx.error, "");
	ck_assert_uint_eq(fx.res.answer_len, 4);
	ck_assert(memcmp(fx.answer, "boom", 4) == 0);
}
END_TEST

START_TEST(test_post_410_body)
{
	post_to("/gone");
	ck_assert_int_eq(fx.res.http_status, 410);
	ck_assert_uint_eq(fx.res.answer_len, 9);
	ck_assert(memcmp(fx.answer, "gone away", 9) == 0);
}
END_TEST

START_TEST(test_post_answer_kept_and_capped)
{
	post_to("/long"); /* under the cap: a whole answer, its first 1 KiB kept */
	ck_assert_int_eq(fx.res.http_status, 200);
	ck_assert_str_eq(fx.error, "");
	ck_assert_uint_eq(fx.res.answer_len, POST_KEEP_ANSWER);
	ck_assert(memcmp(fx.answer, "abcdef", 6) == 0);
	post_to("/big"); /* one byte over 64 KiB */
	ck_assert_str_eq(fx.error, "too_large");
}
END_TEST

START_TEST(test_post_timeout)
{
	int64_t t0 = evloop_now_us();
	post_to("/slow");
	ck_assert_str_eq(fx.error, "timeout");
	ck_assert_int_eq(fx.res.http_status, 0);
	ck_assert_int_lt(evloop_now_us() - t0, 3000000);
}
END_TEST

START_TEST(test_post_redirect_not_followed)
{
	post_to("/redirect");
	ck_assert_int_eq(fx.res.http_status, 302);
	ck_assert_str_eq(fx.error, "redirect");
	ck_assert_int_eq(fx.served, 1); /* /ok was never asked for */
}
END_TEST

START_TEST(test_post_retry_after)
{
	post_to("/busy");
	ck_assert_int_eq(fx.res.http_status, 503);
	ck_assert_str_eq(fx.retry_after, "7");
}
END_TEST

/* A finished request's handle serves the next one, which keeps nothing of the first: not its
 * Retry-After, not its answer, not its status. */
START_TEST(test_post_handle_reused)
{
	ck_assert_int_eq(post_idle_handles(fx.post), 0);
	post_to("/busy");
	ck_assert_int_eq(post_idle_handles(fx.post), 1);
	post_to("/ok");
	ck_assert_int_eq(post_idle_handles(fx.post), 1);
	ck_assert_int_eq(fx.res.http_status, 204);
	ck_assert_str_eq(fx.retry_after, "");
	ck_assert_int_eq(fx.res.answer_len, 0);
	ck_assert_str_eq(fx.seen_body, "hello");
}
END_TEST

START_TEST(test_post_refused_address)
{
	fx.refuse_all = true;
	post_to("/ok");
	ck_assert_str_eq(fx.error, "refused_address");
	ck_assert_int_eq(fx.res.http_status, 0);
	ck_assert_int_eq(fx.served, 0);
}
END_TEST

START_TEST(test_post_connect_refused)
{
	/* a port nobody listens on: the server's, once closed */
	evhttp_free(fx.http);
	fx.http = evhttp_new(fx.base);
	post_to("/ok");
	ck_assert_str_eq(fx.error, "connect");
}
END_TEST

Suite *make_suite_delivery_post(void)
{
	Suite *s = suite_create("delivery_post");
	TCase *tc = tcase_create("post");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_post_2xx);
	tcase_add_test(tc, test_post_500);
	tcase_add_test(tc, test_post_410_body);
	tcase_add_test(tc, test_post_answer_kept_and_capped);
	tcase_add_test(tc, test_post_timeout);
	tcase_add_test(tc, test_post_redirect_not_followed);
	tcase_add_test(tc, test_post_retry_after);
	tcase_add_test(tc, test_post_handle_reused);
	tcase_add_test(tc, test_post_refused_address);
	tcase_add_test(tc, test_post_connect_refused);
	suite_add_tcase(s, tc);
	return s;
}
