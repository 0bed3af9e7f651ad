/* httputil: JSON answers in the shapes SPEC §3/§5 fix ({"code","message"} errors) and small
 * request helpers shared by the webhook and admin routes. */
#ifndef HG_HTTPUTIL_H
#define HG_HTTPUTIL_H

#include <cjson/cJSON.h>

#include "worker.h"

/* Serializes body (not freed here) and answers with application/json. */
void http_reply_json(struct worker *w, struct evhttp_request *req, int status, const cJSON *body);
void http_reply_error(struct worker *w, struct evhttp_request *req, int status, const char *code,
		      const char *message);
/* Adds Retry-After: seconds and answers 503 unavailable. */
void http_reply_unavailable(struct worker *w, struct evhttp_request *req, const char *message);
/* The request path without the query string, or NULL when the URI cannot be parsed. */
const char *http_request_path(struct evhttp_request *req, char *buf, size_t buflen);

#endif
