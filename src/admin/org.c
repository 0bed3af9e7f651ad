/* SPDX-License-Identifier: Apache-2.0 */
/* admin_org: see admin/org.h. Administrators are users with users.is_admin (hookgatectl user
 * grant-admin); the session look-up reads it at every request, so a revoke counts at once.
 * Nothing here reads a secret: the organisation list is metadata only. */
#include "admin/org.h"
#include "admin/tokens.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ORG_TOKENS_MAX 500
#define ORG_QUERY_MAX 130
#define ORG_UNUSED_DAYS_MAX 36500

// clang-format off
/* $1 search text (in the token's name or public id, or the owner's login), $2 owner login,
 * $3 token status, $4 days without a counted call (a token never used counts from its
 * creation); each NULL when not asked for. One row more than shown tells "truncated". */
static const char org_tokens_sql[] =
	"SELECT " TOKEN_COLS("t.", "c.") ", " LAST_USED_COLS ", o.login, o.display_name,"
	" CASE WHEN o.account_disabled_at IS NOT NULL THEN 'disabled' ELSE 'active' END"
	" FROM hookgate.webhook_tokens t JOIN hookgate.users o ON o.id = t.user_id"
	TOKEN_COUNTS_JOIN("t.") LAST_USED_JOIN("t.")
	" WHERE t.deleted_at IS NULL"
	" AND ($1::text IS NULL OR strpos(lower(t.name), lower($1)) > 0"
	"      OR strpos(t.public_id, $1) > 0 OR strpos(o.login, lower($1)) > 0)"
	" AND ($2::text IS NULL OR o.login = lower($2))"
	" AND ($3::text IS NULL OR t.status = $3)"
	" AND ($4::integer IS NULL OR coalesce(c.last_invoked_at, t.created_at)"
	"      < now() - make_interval(days => $4::integer))"
	" ORDER BY o.login, t.created_at, t.id LIMIT 501";

/* $1 the user whose events are shown (NULL: everyone's, for an administrator), $2 and $3 the
 * cursor, $4 the page size plus one. Index audit_log_by_user or audit_log_page (008_org.sql). */
static const char audit_sql[] =
	"SELECT " ADMIN_SQL_TIME("a.at") ", u.login, a.actor, a.action, host(a.client_addr),"
	" a.details::text,"
	" to_char(a.at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') || '|' || a.id"
	" FROM hookgate.audit_log a LEFT JOIN hookgate.users u ON u.id = a.user_id"
	" WHERE ($1::bigint IS NULL OR a.user_id = $1::bigint)"
	" AND (a.at, a.id) < (coalesce($2::timestamptz, 'infinity'),"
	"                     coalesce($3::bigint, 9223372036854775807))"
	" ORDER BY a.at DESC, a.id DESC LIMIT $4::integer";
// clang-format on

static bool org_admin_only(struct admin_ctx *ctx)
{
	if (ctx->auth.is_admin)
		return true;
	admin_reply_error(ctx, 403, "admin_required", "only an administrator may see this");
	return false;
}

/* ---- the organisation's tokens ---------------------------------------------------------- */

static cJSON *org_token_json(const PGresult *res, int row)
{
	cJSON *token = admin_token_last_used(admin_token_json(res, row), res, row, TOKEN_NCOLS);
	cJSON *owner = cJSON_CreateObject();

	cJSON_AddStringToObject(owner, "login", PQgetvalue(res, row, TOKEN_NCOLS + 3));
	cJSON_AddStringToObject(owner, "display_name", PQgetvalue(res, row, TOKEN_NCOLS + 4));
	cJSON_AddStringToObject(owner, "status", PQgetvalue(res, row, TOKEN_NCOLS + 5));
	if (token)
		cJSON_AddItemToObject(token, "owner", owner);
	else
		cJSON_Delete(owner);
	return token;
}

static void org_tokens_done(PGresult *res, void *arg)
{
	struct admin_ctx *ctx = arg;
	cJSON *body, *tokens;
	int n;

	if (!admin_result(ctx, res, 0))
		return;
	n = PQntuples(res);
	body = cJSON_CreateObject();
	tokens = cJSON_AddArrayToObject(body, "tokens");
	for (int i = 0; i < n && i < ORG_TOKENS_MAX; i++)
		cJSON_AddItemToArray(tokens, org_token_json(res, i));
	cJSON_AddBoolToObject(body, "truncated", n > ORG_TOKENS_MAX);
	admin_reply(ctx, 200, body);
}

/* One optional query parameter into out ("" when absent); false: answered 400. */
static bool org_param(struct admin_ctx *ctx, const char *name, char *out, size_t len)
{
	enum admin_param p = admin_query_param(ctx->req->query, name, out, len);

	if (p == ADMIN_PARAM_ABSENT)
		out[0] = '\0';
	if (p != ADMIN_PARAM_BAD)
		return true;
	admin_reply_error(ctx, 400, "invalid_request", "a bad or repeated query parameter");
	return false;
}

static bool org_filters_valid(struct admin_ctx *ctx, const char *status, const char *days)
{
	char *end = NULL;
	long v = days[0] ? strtol(days, &end, 10) : 0;

	if (status[0] && strcmp(status, "active") != 0 && strcmp(status, "disabled") != 0) {
		admin_reply_error(ctx, 400, "invalid_request", "status is active or disabled");
		return false;
	}
	if (days[0] &&
	    (days[0] < '0' || days[0] > '9' || *end != '\0' || v < 1 || v > ORG_UNUSED_DAYS_MAX)) {
		admin_reply_error(ctx, 400, "invalid_request", "unused_days is a number of days");
		return false;
	}
	return true;
}

void admin_org_tokens(struct admin_ctx *ctx)
{
	char q[ORG_QUERY_MAX], owner[ORG_QUERY_MAX], status[16], days[16];

	if (!org_admin_only(ctx) || !org_param(ctx, "q", q, sizeof(q)) ||
	    !org_param(ctx, "owner", owner, sizeof(owner)) ||
	    !org_param(ctx, "status", status, sizeof(status)) ||
	    !org_param(ctx, "unused_days", days, sizeof(days)) ||
	    !org_filters_valid(ctx, status, days))
		return;
	const char *params[] = { q[0] ? q : NULL, owner[0] ? owner : NULL,
				 status[0] ? status : NULL, days[0] ? days : NULL };
	admin_query(ctx, org_tokens_sql, 4, params, org_tokens_done);
}

/* ---- the audit log ------------------------------------------------------------------------- */

static cJSON *audit_json(const PGresult *res, int row)
{
	static const struct admin_member members[] = {
		{ "at", 0, false },	{ "login", 1, false },	     { "actor", 2, false },
		{ "action", 3, false }, { "client_addr", 4, false },
	};
	cJSON *obj = admin_row_object(res, row, members, sizeof(members) / sizeof(members[0]));
	cJSON *details = cJSON_Parse(PQgetvalue(res, row, 5));

	if (obj && details)
		cJSON_AddItemToObject(obj, "details", details);
	else
		cJSON_Delete(details);
	return obj;
}

static void audit_done(PGresult *res, void *arg)
{
	struct admin_ctx *ctx = arg;
	int limit = *(int *)ctx->data, n;
	cJSON *body, *rows;

	if (admin_page_cursor_refused(ctx, res) || !admin_result(ctx, res, 0))
		return;
	n = PQntuples(res);
	body = cJSON_CreateObject();
	rows = cJSON_AddArrayToObject(body, "events");
	for (int i = 0; i < n && i < limit; i++)
		cJSON_AddItemToArray(rows, audit_json(res, i));
	admin_page_next(body, n > limit ? PQgetvalue(res, limit - 1, 6) : "");
	admin_reply(ctx, 200, body);
}

void admin_org_audit(struct admin_ctx *ctx)
{
	char at[ADMIN_CURSOR_TEXT_MAX], seq[ADMIN_CURSOR_TEXT_MAX], limit[16];
	int *lim = malloc(sizeof(*lim));

	if (lim == NULL) {
		admin_reply_error(ctx, 500, "internal", "out of memory");
		return;
	}
	ctx->data = lim;
	if (!admin_page_params(ctx, lim, at, seq))
		return;
	snprintf(limit, sizeof(limit), "%d", *lim + 1);
	const char *params[] = { ctx->auth.is_admin ? NULL : ctx->auth.user_id, at[0] ? at : NULL,
				 seq[0] ? seq : NULL, limit };
	admin_query(ctx, audit_sql, 4, params, audit_done);
}
