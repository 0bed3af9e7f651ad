/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes http_parse_head (src/http/server.c), which every request head reaching a listener goes
 * through, and checks what the handlers rely on when it accepts one. */
#include "fuzz.h"

#include "http/server.h"

#include <ctype.h>
#include <stdbool.h>
#include <strings.h>

/* As the server hands it over: the bytes up to the first empty line, at most 8 KiB, and a NUL
 * after them. An input without an empty line gets one at its end. */
static char *head_of(const uint8_t *data, size_t size, size_t *len)
{
	char *text = malloc(size + 5);
	FUZZ_CHECK(text != NULL);
	if (size)
		memcpy(text, data, size);
	memcpy(text + size, "\r\n\r\n", 5);
	*len = (size_t)((char *)memmem(text, size + 4, "\r\n\r\n", 4) - text) + 4;
	text[*len] = '\0';
	return text;
}

static bool within(const char *p, const char *start, size_t len)
{
	return p >= start && p <= start + len;
}

static bool clean_value(const char *v)
{
	size_t n = strlen(v);
	if (n && (v[0] == ' ' || v[0] == '\t' || v[n - 1] == ' ' || v[n - 1] == '\t'))
		return false;
	for (; *v; v++)
		if (((unsigned char)*v < 0x20 && *v != '\t') || *v == 0x7f)
			return false;
	return true;
}

static void check_accepted(const struct http_request *req, const struct http_head *h,
			   const char *text, size_t len)
{
	FUZZ_CHECK(req->method_text && *req->method_text && within(req->method_text, text, len));
	for (const char *p = req->target; *p; p++)
		FUZZ_CHECK((unsigned char)*p > 0x20 && *p != 0x7f);
	FUZZ_CHECK(req->path && req->path[0] == '/');
	FUZZ_CHECK(req->path == h->path || within(req->path, text, len));
	FUZZ_CHECK(req->query == NULL || within(req->query, text, len));
	FUZZ_CHECK(h->http10 || req->host != NULL);
	FUZZ_CHECK(req->host == NULL || req->host == h->authority || within(req->host, text, len));
	FUZZ_CHECK(req->nheaders >= 0 && req->nheaders <= HTTP_MAX_HEADERS);
	for (int i = 0; i < req->nheaders; i++) {
		FUZZ_CHECK(*req->headers[i].name && !strchr(req->headers[i].name, ':'));
		FUZZ_CHECK(clean_value(req->headers[i].value));
	}
	int n;
	const char *cl = http_header(req, "Content-Length", &n);
	FUZZ_CHECK(n <= 1 && http_header(req, "Transfer-Encoding", NULL) == NULL);
	FUZZ_CHECK(cl ? strtoull(cl, NULL, 10) == h->content_length : h->content_length == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t len;
	struct http_request req;
	struct http_head h;

	if (size > HTTP_MAX_HEAD)
		return 0; /* the server answers 431 without parsing */
	char *text = head_of(data, size, &len);
	memset(&req, 0, sizeof(req));
	if (http_parse_head(text, len, &req, &h)) {
		check_accepted(&req, &h, text, len);
	} else {
		FUZZ_CHECK(h.status == 400 || h.status == 411 || h.status == 503);
		FUZZ_CHECK(h.code && h.message && *h.message);
	}
	http_head_free(&h);
	free(text);
	return 0;
}
