/* SPDX-License-Identifier: Apache-2.0 */
/* reply: JSON answers in the shapes docs/api-webhooks.md and docs/api-admin.md fix, and small
 * helpers shared by the webhook and admin routes. */
#ifndef HG_HTTPUTIL_H
#define HG_HTTPUTIL_H

#include <cjson/cJSON.h>

#include "http/server.h"

/* Serializes body (not freed here) and answers with application/json. */
void http_reply_json(struct http_request *req, int status, const cJSON *body);
/* Adds Retry-After: 1 and answers 503 unavailable. */
void http_reply_unavailable(struct http_request *req, const char *message);

#endif
