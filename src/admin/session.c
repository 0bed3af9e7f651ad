/* SPDX-License-Identifier: Apache-2.0 */
/* admin_session: see admin/session.h. */
#include "admin/session.h"
#include "core/log.h"
#include "lib/encoding.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

enum session_col {
	COL_USER,
	COL_LOGIN,
	COL_DISPLAY,
	COL_STAGE,
	COL_CSRF,
	COL_EXPIRES,
	COL_EXPIRED,
	COL_ADMIN
};

static bool is_safe_method(const struct http_request *req)
{
	return req->method == HTTP_METHOD_GET || req->method == HTTP_METHOD_HEAD;
}

/* A browser sends Origin on every cross-origin request and on same-origin POSTs; its value is
 * "scheme://host[:port]" exactly as the Host header (or an absolute-form target) names this
 * listener. curl and other non-browser clients send neither header, which is fine: CSRF is a
 * browser attack. */
bool admin_session_origin_ok(struct admin_ctx *ctx)
{
	const struct http_request *req = ctx->req;
	const char *site = http_header(req, "Sec-Fetch-Site", NULL);
	const char *origin = http_header(req, "Origin", NULL);
	const char *host = req->host;
	char own[512];

	if (is_safe_method(req))
		return true;
	if (site && strcasecmp(site, "cross-site") == 0) {
		admin_reply_error(ctx, 403, "csrf_failed", "cross-site requests are refused");
		return false;
	}
	if (origin == NULL)
		return true;
	snprintf(own, sizeof(own), "%s://%s", req->tls ? "https" : "http", host ? host : "");
	if (host == NULL || *host == '\0' || strcasecmp(origin, own) != 0) {
		admin_reply_error(ctx, 403, "csrf_failed", "the request comes from another origin");
		return false;
	}
	return true;
}

static bool copy_col(const PGresult *res, int col, char *out, size_t outlen)
{
	const char *v = PQgetvalue(res, 0, col);

	if (strlen(v) >= outlen)
		return false;
	memcpy(out, v, strlen(v) + 1);
	return true;
}

static bool session_fill(struct admin_ctx *ctx, const PGresult *res)
{
	struct admin_auth *a = &ctx->auth;
	size_t len = 0;

	a->full = strcmp(PQgetvalue(res, 0, COL_STAGE), SESSION_STAGE_FULL) == 0;
	a->has_csrf = !PQgetisnull(res, 0, COL_CSRF) &&
		      admin_col_bytea(res, 0, COL_CSRF, a->csrf_hash, sizeof(a->csrf_hash), &len) &&
		      len == CRYPTO_HASH_LEN;
	a->is_admin = strcmp(PQgetvalue(res, 0, COL_ADMIN), "t") == 0;
	return copy_col(res, COL_USER, a->user_id, sizeof(a->user_id)) &&
	       copy_col(res, COL_LOGIN, a->login, sizeof(a->login)) &&
	       copy_col(res, COL_DISPLAY, a->display_name, sizeof(a->display_name)) &&
	       copy_col(res, COL_EXPIRES, a->expires_at, sizeof(a->expires_at));
}

/* The X-CSRF-Token header against the session's stored hash, in constant time. */
static bool csrf_ok(const struct admin_ctx *ctx)
{
	int count;
	const char *token = http_header(ctx->req, "X-CSRF-Token", &count);
	unsigned char hash[CRYPTO_HASH_LEN];

	if (count != 1 || !ctx->auth.has_csrf || !session_id_hash(token, hash))
		return false;
	return crypto_equal(hash, ctx->auth.csrf_hash, sizeof(hash));
}

/* The pre-2FA steps (POST /login/totp and /login/recovery) cannot carry a CSRF token: it is
 * only handed out by them. They are covered by SameSite=Strict, the Origin check, and by
 * needing a code; logout of a pre-2FA session has no token to check either. */
static bool session_allowed(struct admin_ctx *ctx)
{
	const struct admin_auth *a = &ctx->auth;

	if (ctx->need == ADMIN_NEED_FULL && !a->full) {
		admin_reply_error(ctx, 401, "2fa_required", "enter the code of your authenticator");
		return false;
	}
	if (ctx->need == ADMIN_NEED_PRE2FA && a->full) {
		admin_reply_error(ctx, 401, "unauthenticated",
				  "no login in progress: POST /admin/api/login first");
		return false;
	}
	if (a->full && !is_safe_method(ctx->req) && !csrf_ok(ctx)) {
		admin_reply_error(ctx, 403, "csrf_failed", "missing or wrong X-CSRF-Token header");
		return false;
	}
	return true;
}

static void session_found(PGresult *res, void *arg)
{
	struct admin_ctx *ctx = arg;

	if (!admin_result(ctx, res, 0))
		return;
	if (PQntuples(res) != 1) {
		admin_reply_error(ctx, 401, "unauthenticated", "not signed in");
		return;
	}
	if (strcmp(PQgetvalue(res, 0, COL_EXPIRED), "t") == 0) {
		admin_session_clear_cookie(ctx);
		admin_reply_error(ctx, 401, "session_expired",
				  "the session has expired: sign in again");
		return;
	}
	if (!session_fill(ctx, res)) {
		log_error("admin: a session row does not fit its buffers");
		admin_reply_error(ctx, 500, "internal", "the session cannot be read");
		return;
	}
	if (session_allowed(ctx))
		ctx->next(ctx);
}

void admin_session_require(struct admin_ctx *ctx, enum admin_need need, admin_handler next)
{
	const char *cookie = http_header(ctx->req, "Cookie", NULL);
	char id[SESSION_ID_TEXT_MAX + 1];
	unsigned char hash[CRYPTO_HASH_LEN];
	const char *params[] = { ctx->auth.id_hash_text };

	if (!admin_session_origin_ok(ctx))
		return;
	/* One byte more than an id holds, so an overlong value is refused, not truncated. */
	if (cookie == NULL || !session_cookie_find(cookie, id, sizeof(id)) ||
	    !session_id_hash(id, hash)) {
		admin_reply_error(ctx, 401, "unauthenticated", "not signed in");
		return;
	}
	OPENSSL_cleanse(id, sizeof(id));
	hex_encode_bytea(hash, sizeof(hash), ctx->auth.id_hash_text);
	ctx->need = (int)need;
	ctx->next = next;
	/* A disabled user's sessions are deleted with the disable (sql/008_org.sql); the join
	 * also refuses one that a hand-made UPDATE left behind. */
	admin_query(ctx,
		    "SELECT s.user_id, s.login, s.display_name, s.stage, s.csrf_hash,"
		    " " ADMIN_SQL_TIME("s.expires_at") ", s.expired, u.is_admin"
						       " FROM hookgate.session_get($1) s JOIN "
						       "hookgate.users u ON u.id = s.user_id"
						       " WHERE u.account_disabled_at IS NULL",
		    1, params, session_found);
}

bool admin_session_new_id(char id[SESSION_ID_TEXT_MAX],
			  char hash_text[BYTEA_TEXT_MAX(CRYPTO_HASH_LEN)])
{
	unsigned char hash[CRYPTO_HASH_LEN];

	if (!session_id_generate(id) || !session_id_hash(id, hash))
		return false;
	hex_encode_bytea(hash, sizeof(hash), hash_text);
	return true;
}

void admin_session_set_cookie(struct admin_ctx *ctx, const char *id, long max_age_s)
{
	char cookie[SESSION_COOKIE_MAX];

	if (max_age_s > 0x7fffffffL)
		max_age_s = 0x7fffffffL;
	if (session_cookie(id, (int)max_age_s, ctx->req->tls, cookie, sizeof(cookie)))
		admin_add_header(ctx, "Set-Cookie", cookie);
}

void admin_session_clear_cookie(struct admin_ctx *ctx)
{
	char cookie[SESSION_COOKIE_MAX];

	if (session_cookie_clear(ctx->req->tls, cookie, sizeof(cookie)))
		admin_add_header(ctx, "Set-Cookie", cookie);
}
