/* SPDX-License-Identifier: Apache-2.0 */
/* webhook_auth: which token a webhook call presents (docs/api-webhooks.md, "Authentication"):
 * the zapikey query parameter or an "Authorization: Bearer" header, and the refusal of a call
 * that names two different ones. Pure, like webhook/request.h: nothing is copied or logged. */
#ifndef HG_WEBHOOK_AUTH_H
#define HG_WEBHOOK_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "webhook/request.h"

struct webhook_auth {
	/* A token was presented (possibly malformed: the caller checks its format). False:
	 * 401 token_missing. */
	bool present;
	bool from_header;
	const char *token; /* into the query or the header value; NUL-terminated there */
	size_t len;
	const char *reason; /* why the call is 400 invalid_request; static, never a token */
};

/* q: the parsed query; authorization: the Authorization header's value (NULL when absent),
 * count how often it was sent. A header of another scheme than Bearer is ignored. False means
 * 400 invalid_request (out->reason): the header sent twice, or a Bearer token that differs
 * from the zapikey. */
bool webhook_auth_resolve(const struct webhook_query *q, const char *authorization, int count,
			  struct webhook_auth *out);

#endif
