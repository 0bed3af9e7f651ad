/* SPDX-License-Identifier: Apache-2.0 */
/* admin_worker: see admin/worker.h. The route table of docs/api-admin.md, the session each route
 * needs, and the worker's own state: the password-check threads and the login budget. Expired
 * sessions are deleted by the housekeeping process. */
#include "admin/worker.h"
#include "admin/attempts.h"
#include "admin/endpoints.h"
#include "admin/login.h"
#include "admin/modules.h"
#include "admin/ping.h"
#include "admin/pwcheck.h"
#include "admin/reads.h"
#include "admin/session.h"
#include "admin/tokens.h"
#include "admin/org.h"
#include "admin/token_life.h"
#include "admin/util.h"
#include "admin/web.h"
#include "http/reply.h"
#include "core/log.h"
#include "proc/ratelimit.h"
#include "proc/worker.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define PWCHECK_THREADS 2
#define PWCHECK_MAX_PENDING 32
/* Of those, one client address (an IPv6 one by its /64) may hold this many: past it, 429. So a
 * queue that one address floods still has room for 28 checks of others. */
#define PWCHECK_MAX_PER_ADDRESS 4
/* Client addresses whose login budget (security.login_rate/login_burst) is remembered: a
 * table of twice as many 32-byte slots (256 KiB). An address idle long enough to have its full
 * burst back may lose its slot to another: forgetting it changes nothing. */
#define LOGIN_ADDRESSES 4096

enum route_auth { ROUTE_NO_SESSION, ROUTE_PRE2FA, ROUTE_FULL, ROUTE_ANY };

/* A pattern is a path whose "*" segments (at most ADMIN_SEGMENTS) go to admin_ctx.seg; when
 * token_segment, the first is a token's public id (admin_ctx.token_id). json_body: the handler
 * reads a JSON object from the body. */
struct admin_route {
	const char *pattern;
	enum http_method method;
	enum route_auth auth;
	admin_handler handler;
	bool json_body;
	bool token_segment;
};

#define BOT_SLOT "/admin/api/bots/*/endpoints/*"
#define EXT_SLOT "/admin/api/extensions/*/endpoints/*"

static const struct admin_route routes[] = {
	{ "/admin/api/login", HTTP_METHOD_POST, ROUTE_NO_SESSION, admin_login_password, true,
	  false },
	{ "/admin/api/login/totp", HTTP_METHOD_POST, ROUTE_PRE2FA, admin_login_totp, true, false },
	{ "/admin/api/login/recovery", HTTP_METHOD_POST, ROUTE_PRE2FA, admin_login_recovery, true,
	  false },
	{ "/admin/api/session", HTTP_METHOD_GET, ROUTE_FULL, admin_login_session, false, false },
	{ "/admin/api/logout", HTTP_METHOD_POST, ROUTE_ANY, admin_login_logout, false, false },
	{ "/admin/api/tokens", HTTP_METHOD_GET, ROUTE_FULL, admin_tokens_list, false, false },
	{ "/admin/api/tokens", HTTP_METHOD_POST, ROUTE_FULL, admin_tokens_create, true, false },
	{ "/admin/api/tokens/*", HTTP_METHOD_PATCH, ROUTE_FULL, admin_tokens_update, true, true },
	{ "/admin/api/tokens/*", HTTP_METHOD_DELETE, ROUTE_FULL, admin_tokens_delete, false, true },
	{ "/admin/api/tokens/*/rotate", HTTP_METHOD_POST, ROUTE_FULL, admin_tokens_rotate, true,
	  true },
	{ "/admin/api/tokens/*/limits", HTTP_METHOD_PUT, ROUTE_FULL, admin_tokens_limits, true,
	  true },
	{ "/admin/api/tokens/*/secret", HTTP_METHOD_GET, ROUTE_FULL, admin_tokens_secret, false,
	  true },
	{ "/admin/api/tokens/*/usage", HTTP_METHOD_GET, ROUTE_FULL, admin_tokens_usage, false,
	  true },
	{ "/admin/api/tokens/*/webhook-url", HTTP_METHOD_GET, ROUTE_FULL, admin_modules_webhook_url,
	  false, true },
	{ "/admin/api/tokens/*/messages/*/attempts", HTTP_METHOD_GET, ROUTE_FULL,
	  admin_attempts_message, false, true },
	{ "/admin/api/modules", HTTP_METHOD_GET, ROUTE_FULL, admin_modules_list, false, false },
	{ "/admin/api/org/tokens", HTTP_METHOD_GET, ROUTE_FULL, admin_org_tokens, false, false },
	{ "/admin/api/audit", HTTP_METHOD_GET, ROUTE_FULL, admin_org_audit, false, false },
	{ "/admin/api/endpoints", HTTP_METHOD_GET, ROUTE_FULL, admin_endpoints_list, false, false },
	{ "/admin/api/bots/*/endpoints", HTTP_METHOD_GET, ROUTE_FULL, admin_endpoints_bot_get,
	  false, false },
	{ "/admin/api/bots/*/endpoints", HTTP_METHOD_PUT, ROUTE_FULL, admin_endpoints_bot_put, true,
	  false },
	{ EXT_SLOT, HTTP_METHOD_GET, ROUTE_FULL, admin_endpoints_slot_get, false, false },
	{ EXT_SLOT, HTTP_METHOD_PUT, ROUTE_FULL, admin_endpoints_slot_put, true, false },
	{ BOT_SLOT "/rotate-secret", HTTP_METHOD_POST, ROUTE_FULL, admin_endpoints_rotate, false,
	  false },
	{ EXT_SLOT "/rotate-secret", HTTP_METHOD_POST, ROUTE_FULL, admin_endpoints_rotate, false,
	  false },
	{ BOT_SLOT "/test", HTTP_METHOD_POST, ROUTE_FULL, admin_ping_send, false, false },
	{ EXT_SLOT "/test", HTTP_METHOD_POST, ROUTE_FULL, admin_ping_send, false, false },
	{ BOT_SLOT "/attempts", HTTP_METHOD_GET, ROUTE_FULL, admin_attempts_list, false, false },
	{ EXT_SLOT "/attempts", HTTP_METHOD_GET, ROUTE_FULL, admin_attempts_list, false, false },
	{ BOT_SLOT "/replay", HTTP_METHOD_POST, ROUTE_FULL, admin_attempts_replay, true, false },
	{ EXT_SLOT "/replay", HTTP_METHOD_POST, ROUTE_FULL, admin_attempts_replay, true, false },
};
#define NROUTES (sizeof(routes) / sizeof(routes[0]))

/* Matches path against pattern; the "*" segments (non-empty, no '/') go to seg. */
static bool route_match(const char *pattern, const char *path, char seg[][ADMIN_SEGMENT_MAX])
{
	int n = 0;

	while (*pattern && *path) {
		if (*pattern == '*') {
			size_t len = strcspn(path, "/");
			if (len == 0 || n == ADMIN_SEGMENTS)
				return false;
			/* Too long to be an id or a name: "!" is not one either. */
			snprintf(seg[n++], ADMIN_SEGMENT_MAX, "%.*s",
				 len < ADMIN_SEGMENT_MAX ? (int)len : 1,
				 len < ADMIN_SEGMENT_MAX ? path : "!");
			path += len;
			pattern++;
			continue;
		}
		if (*pattern++ != *path++)
			return false;
	}
	return *pattern == '\0' && *path == '\0';
}

static const char *method_name(enum http_method m)
{
	switch (m) {
	case HTTP_METHOD_GET:
		return "GET, HEAD";
	case HTTP_METHOD_POST:
		return "POST";
	case HTTP_METHOD_PATCH:
		return "PATCH";
	case HTTP_METHOD_PUT:
		return "PUT";
	case HTTP_METHOD_DELETE:
		return "DELETE";
	default:
		return "";
	}
}

/* Token ids are checked after the session, so that nobody learns anything before signing in;
 * a malformed one cannot name a token: 404. */
static void route_checked(struct admin_ctx *ctx)
{
	if (ctx->token_id[0] && !token_public_id_valid(ctx->token_id)) {
		admin_reply_error(ctx, 404, "not_found", "no such token");
		return;
	}
	ctx->handler(ctx);
}

static void route_run(struct worker *w, struct http_request *req, const struct admin_route *r,
		      char seg[][ADMIN_SEGMENT_MAX])
{
	static const enum admin_need needs[] = {
		[ROUTE_PRE2FA] = ADMIN_NEED_PRE2FA,
		[ROUTE_FULL] = ADMIN_NEED_FULL,
		[ROUTE_ANY] = ADMIN_NEED_ANY,
	};
	struct admin_ctx *ctx = admin_ctx_new(w, req);

	if (ctx == NULL) {
		http_respond_error(req, 500, "internal", "out of memory");
		return;
	}
	memcpy(ctx->seg, seg, sizeof(ctx->seg));
	if (r->token_segment)
		snprintf(ctx->token_id, sizeof(ctx->token_id), "%.*s", TOKEN_PUBLIC_ID_LEN,
			 strlen(seg[0]) <= TOKEN_PUBLIC_ID_LEN ? seg[0] : "!");
	ctx->handler = r->handler;
	if (r->auth == ROUTE_NO_SESSION)
		r->handler(ctx);
	else
		admin_session_require(ctx, needs[r->auth], route_checked);
}

/* The API route for the request, its "*" segments in seg; NULL when there is none, with the
 * methods the path does take in allow ("" when none). */
static const struct admin_route *route_find(const struct http_request *req,
					    char seg[][ADMIN_SEGMENT_MAX], char allow[64])
{
	enum http_method method = req->method == HTTP_METHOD_HEAD ? HTTP_METHOD_GET : req->method;

	allow[0] = '\0';
	for (size_t i = 0; i < NROUTES; i++) {
		memset(seg, 0, ADMIN_SEGMENTS * ADMIN_SEGMENT_MAX);
		if (!route_match(routes[i].pattern, req->path, seg))
			continue;
		if (routes[i].method == method)
			return &routes[i];
		snprintf(allow + strlen(allow), 64 - strlen(allow), "%s%s", allow[0] ? ", " : "",
			 method_name(routes[i].method));
	}
	return NULL;
}

/* Expect: 100-continue: the body is read only when the answer may depend on it, i.e. for a
 * route that reads a JSON body, sent as JSON, with what the route's session check needs (a
 * session cookie; and X-CSRF-Token for the token API). Anything else is refused from the
 * head (404, 405, 401, 403, 415) without reading the body. */
static bool admin_body_check(struct worker *w, const struct http_request *req)
{
	char seg[ADMIN_SEGMENTS][ADMIN_SEGMENT_MAX], allow[64], sid[SESSION_ID_TEXT_MAX + 1];
	const struct admin_route *r = route_find(req, seg, allow);
	const char *cookie = http_header(req, "Cookie", NULL);

	(void)w;
	if (r == NULL || !r->json_body)
		return false;
	if (r->auth != ROUTE_NO_SESSION &&
	    (cookie == NULL || !session_cookie_find(cookie, sid, sizeof(sid))))
		return false;
	if (r->auth == ROUTE_FULL && http_header(req, "X-CSRF-Token", NULL) == NULL)
		return false;
	return admin_body_is_json(req);
}

static void admin_route(struct worker *w, struct http_request *req)
{
	char allow[64], seg[ADMIN_SEGMENTS][ADMIN_SEGMENT_MAX];
	const struct admin_route *r;

	if (req->body_too_large) { /* over server.admin_max_body_size, and not read */
		http_add_header(req, "Cache-Control", "no-store");
		http_respond_error(req, 413, "payload_too_large",
				   "the body is over server.admin_max_body_size");
		return;
	}
	if (strcmp(req->path, "/healthz") == 0 &&
	    (req->method == HTTP_METHOD_GET || req->method == HTTP_METHOD_HEAD)) {
		worker_healthz(w, req);
		return;
	}
	if (admin_web_path(req->path)) {
		admin_web_serve(w, req);
		return;
	}
	if ((r = route_find(req, seg, allow)) != NULL) {
		route_run(w, req, r, seg);
		return;
	}
	http_add_header(req, "Cache-Control", "no-store");
	if (allow[0]) {
		http_add_header(req, "Allow", allow);
		http_respond_error(req, 405, "method_not_allowed", "method not allowed here");
	} else {
		http_respond_error(req, 404, "not_found", "no such endpoint");
	}
}

static bool admin_setup(struct worker *w)
{
	struct admin_role *role = w->role;

	role->pwcheck = admin_pwcheck_new(w->base, PWCHECK_THREADS, PWCHECK_MAX_PENDING,
					  PWCHECK_MAX_PER_ADDRESS);
	if (role->pwcheck == NULL) {
		log_error("cannot start the password-check threads");
		return false;
	}
	role->ping = admin_ping_new(w);
	if (role->ping == NULL) {
		log_error("cannot set up the test events of destinations");
		return false;
	}
	bool failed;
	role->reads = admin_reads_new(w, &failed);
	if (failed) {
		log_error("cannot set up the pool of database.read_conninfo");
		return false;
	}
	role->login_budget = ratelimit_create(LOGIN_ADDRESSES);
	role->refusal_log = ratelimit_create(LOGIN_ADDRESSES);
	if (role->login_budget == NULL || role->refusal_log == NULL) {
		log_error("cannot map the login budget table: %s", strerror(errno));
		return false;
	}
	return true;
}

static bool admin_teardown(struct worker *w)
{
	struct admin_role *role = w->role;

	admin_pwcheck_free(role->pwcheck);
	role->pwcheck = NULL;
	admin_ping_free(role->ping);
	role->ping = NULL;
	admin_reads_free(role->reads);
	role->reads = NULL;
	ratelimit_destroy(role->login_budget);
	role->login_budget = NULL;
	ratelimit_destroy(role->refusal_log);
	role->refusal_log = NULL;
	return true;
}

int admin_worker_main(const struct role_args *args)
{
	struct admin_role role = { 0 };
	struct worker w = {
		.max_body = args->cfg->admin_max_body_size,
		.route = admin_route,
		.body_check = admin_body_check,
		.setup = admin_setup,
		.teardown = admin_teardown,
		.role = &role,
	};
	return worker_run(&w, args);
}
