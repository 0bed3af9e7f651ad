/* SPDX-License-Identifier: Apache-2.0 */
/* webhook_request: the pure checks of a webhook call (docs/api-webhooks.md) — routing, the
 * query string, content types, bodies and Idempotency-Key. No I/O and no allocation beyond cJSON's
 * own parse tree, so everything here is safe on hostile input and testable without a server. */
#ifndef HG_WEBHOOK_REQUEST_H
#define HG_WEBHOOK_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include "core/module.h"

#define WEBHOOK_QUERY_VALUE_MAX 128 /* longer zapikey/appkey values are kept as "" (malformed) */
#define WEBHOOK_TEXT_MAX 10000	    /* code points of a message's "text" */
#define WEBHOOK_SLIDES_MAX 10
#define WEBHOOK_BUTTONS_MAX 5
#define WEBHOOK_IDEM_KEY_MAX 128

struct webhook_route {
	enum module_kind module;
	/* A path of one of the four shapes whose name is not a valid channel/bot name or app id
	 * (or carries a token or appkey, see redact.h): the caller answers 404 not_found once the
	 * token is authenticated. */
	bool name_valid;
	/* Malformed %xx or %00 anywhere in the path: 400 invalid_request. */
	bool bad_encoding;
	/* The lowercased channel/bot name or the app id (case kept); "" unless name_valid. */
	char target[MODULE_NAME_MAX + 1];
};

/* path is the raw path (up to '?', not decoded). True when it has one of the four
 * docs/api-webhooks.md shapes, exactly (no trailing slash, no extra segment), even if the name is
 * invalid. False for any other path (404 after authentication) and whenever out->bad_encoding is
 * set, which the caller checks first. */
bool webhook_route_parse(const char *path, struct webhook_route *out);

/* For a call that announced its body (Expect: 100-continue): false when the answer cannot
 * depend on the body, because the head alone has it refused — not POST, a path or query that
 * does not parse, no token or a malformed one (in the query or the Authorization header, NULL
 * when absent; a repeated one is the caller's to refuse), no such endpoint or a bad name, a
 * content type the endpoint does not take (content_type: the header, NULL when absent or
 * repeated). The worker then answers without reading the body. */
bool webhook_body_needed(bool post, const char *path, const char *query, const char *authorization,
			 const char *content_type);

enum webhook_query_result {
	WEBHOOK_QUERY_OK,
	WEBHOOK_QUERY_INVALID_REQUEST, /* 400 invalid_request; out->reason says why */
};

struct webhook_query {
	/* Present with an empty value (or one over WEBHOOK_QUERY_VALUE_MAX bytes, kept as "") is
	 * a malformed token: 401 token_invalid, not token_missing. */
	bool has_zapikey;
	char zapikey[WEBHOOK_QUERY_VALUE_MAX + 1];
	size_t zapikey_len;
	bool has_appkey;
	char appkey[WEBHOOK_QUERY_VALUE_MAX + 1];
	size_t appkey_len;
	const char *reason; /* static text for the error message; never contains a key */
};

/* query is the raw text after '?' (NULL when absent). Names and values are percent-decoded
 * ('+' is a space); unknown parameters are ignored but must be well encoded too. */
enum webhook_query_result webhook_query_parse(const char *query, struct webhook_query *out);

enum webhook_body_kind {
	WEBHOOK_BODY_JSON,
	WEBHOOK_BODY_FORM,
	WEBHOOK_BODY_TEXT,
	WEBHOOK_BODY_OTHER, /* also a missing header and any charset other than UTF-8 */
};

/* The Content-Type header (NULL when absent), media type case-insensitive. */
enum webhook_body_kind webhook_content_type(const char *header);
/* Whether the endpoint takes that kind of body; if not, the answer is 415. */
bool webhook_body_kind_accepted(enum module_kind module, enum webhook_body_kind kind);

/* The checks below return 0 when the body is acceptable, otherwise the HTTP status with *code
 * set to a static code ("invalid_json", "invalid_message", "unsupported_media_type") and msg
 * (msglen > 0) to a human message naming the rule that failed. */

/* A message endpoint's body: a JSON object with the fields of docs/api-webhooks.md. */
int webhook_check_message(const char *body, size_t len, const char **code, char *msg,
			  size_t msglen);
/* Any endpoint's body: content kind first (415), then UTF-8 and JSON or message rules. */
int webhook_check_body(enum module_kind module, enum webhook_body_kind kind, const char *body,
		       size_t len, const char **code, char *msg, size_t msglen);

/* 1–128 printable ASCII characters (0x20–0x7E), not starting or ending with a space, and no
 * token or appkey in them (the key is stored). */
bool webhook_idempotency_key_valid(const char *key);

#endif
