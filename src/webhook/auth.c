/* SPDX-License-Identifier: Apache-2.0 */
/* webhook_auth: see webhook/auth.h. A token in a header keeps it out of URLs, which proxies,
 * browsers and access logs record (CWE-598); the query form stays for Cliq compatibility. */
#include "webhook/auth.h"

#include <string.h>
#include <strings.h>

#define BEARER "Bearer"
#define BEARER_LEN (sizeof(BEARER) - 1)

/* The credentials of "Bearer <token>" (the scheme is case-insensitive, RFC 9110 11.1), or NULL
 * for another scheme. "Bearer" alone presents an empty, i.e. malformed, token. */
static const char *bearer_credentials(const char *value)
{
	if (strncasecmp(value, BEARER, BEARER_LEN) != 0)
		return NULL;
	const char *p = value + BEARER_LEN;
	if (*p != '\0' && *p != ' ' && *p != '\t')
		return NULL; /* "Bearerx": another scheme */
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

bool webhook_auth_resolve(const struct webhook_query *q, const char *authorization, int count,
			  struct webhook_auth *out)
{
	memset(out, 0, sizeof(*out));
	/* Two headers are ambiguous, as two zapikeys are: a proxy and the gateway could disagree
	 * on which one counts. */
	if (count > 1) {
		out->reason = "Authorization given more than once";
		return false;
	}
	const char *bearer = authorization ? bearer_credentials(authorization) : NULL;
	if (bearer != NULL && q->has_zapikey) {
		size_t n = strlen(bearer);
		if (n != q->zapikey_len || memcmp(bearer, q->zapikey, n) != 0) {
			out->reason = "zapikey and Authorization: Bearer name different tokens";
			return false;
		}
	}
	if (bearer != NULL) {
		out->present = out->from_header = true;
		out->token = bearer;
		out->len = strlen(bearer);
	} else if (q->has_zapikey) {
		out->present = true;
		out->token = q->zapikey;
		out->len = q->zapikey_len;
	}
	return true;
}
