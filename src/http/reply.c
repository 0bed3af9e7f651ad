/* SPDX-License-Identifier: Apache-2.0 */
/* reply: see reply.h. */
#include "http/reply.h"

#include <string.h>

void http_reply_json(struct http_request *req, int status, const cJSON *body)
{
	char *text = cJSON_PrintUnformatted(body);
	if (text == NULL) {
		http_respond_error(req, 500, "internal", "out of memory");
		return;
	}
	http_respond(req, status, "application/json", text, strlen(text));
	cJSON_free(text);
}

void http_reply_unavailable(struct http_request *req, const char *message)
{
	http_add_header(req, "Retry-After", "1");
	http_respond_error(req, 503, "unavailable", message);
}
