/* SPDX-License-Identifier: Apache-2.0 */
/* admin_session: who is calling the admin API. The hookgate_session cookie is looked up in
 * PostgreSQL (hookgate.session_get), then the request is held to docs/api-admin.md: a 2FA session
 * for the dashboard API, X-CSRF-Token on every non-GET/HEAD request, no cross-site requests. */
#ifndef HG_ADMIN_SESSION_H
#define HG_ADMIN_SESSION_H

#include <stdbool.h>

#include "admin/util.h"
#include "admin/credential.h"

enum admin_need {
	ADMIN_NEED_FULL,   /* the token API, GET session: 401 2fa_required for a pre-2FA one */
	ADMIN_NEED_PRE2FA, /* the second login step: only a pre-2FA session may submit a code */
	ADMIN_NEED_ANY,	   /* logout */
};

/* For non-GET/HEAD requests: refuses Sec-Fetch-Site: cross-site and an Origin other than this
 * listener's own (scheme + Host). On refusal answers 403 csrf_failed, frees ctx, false. */
bool admin_session_origin_ok(struct admin_ctx *ctx);

/* Reads the cookie, looks the session up and checks need and the CSRF token (for a full
 * session on a non-GET request); then runs next(ctx) with ctx->auth filled. Every refusal is
 * answered here (401 unauthenticated / 2fa_required / session_expired, 403 csrf_failed). */
void admin_session_require(struct admin_ctx *ctx, enum admin_need need, admin_handler next);

/* A fresh random id (for a session or a CSRF token) with its stored hash as bytea text. */
bool admin_session_new_id(char id[SESSION_ID_TEXT_MAX],
			  char hash_text[BYTEA_TEXT_MAX(CRYPTO_HASH_LEN)]);
/* Set-Cookie for id (Secure under TLS), or the cookie that clears it. */
void admin_session_set_cookie(struct admin_ctx *ctx, const char *id, long max_age_s);
void admin_session_clear_cookie(struct admin_ctx *ctx);

#endif
