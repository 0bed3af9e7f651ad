/* SPDX-License-Identifier: Apache-2.0 */
/* admin_tokens: see admin_tokens.h.
 *
 * Every statement names both the public id and the session's user id, so another user's token
 * is simply not found (404), and every change carries its audit row in the same statement
 * (a data-modifying CTE): the change and its record commit together or not at all. */
#include "admin/tokens.h"
#include "admin/reads.h"
#include "admin/token_life.h"
#include "core/log.h"
#include "core/schema.h"
#include "lib/text.h"
#include "core/token.h"
#include "lib/encoding.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#define USAGE_LIMIT_DEFAULT 50
#define USAGE_LIMIT_MAX 200
#define CURSOR_TEXT_MAX ADMIN_CURSOR_TEXT_MAX
#define CURSOR_B64_MAX 96

#define AUDIT_INSERT "INSERT INTO hookgate.audit_log (user_id, actor, action, client_addr, details)"

/* Organisation oversight (docs/api-admin.md, "Administrators"): the session's user ($uid) may
 * act on the token row t when it is theirs or when they are an administrator, read from users
 * at each statement so that a grant or revoke counts at once. Audit rows of an administrator's
 * change to another user's token name them in "by". */
#define TOKEN_SCOPE(t, uid)                                                                        \
	"(" t "user_id = " uid " OR EXISTS (SELECT 1 FROM hookgate.users adm WHERE adm.id = " uid  \
	" AND adm.is_admin AND adm.account_disabled_at IS NULL))"
#define AUDIT_BY(owner, uid)                                                                       \
	"CASE WHEN " owner " <> " uid " THEN jsonb_build_object('by', (SELECT login"               \
	" FROM hookgate.users WHERE id = " uid ")) ELSE '{}'::jsonb END"

// clang-format off
static const char list_sql[] =
	"SELECT " TOKEN_COLS("t.", "c.") ", " LAST_USED_COLS
	" FROM hookgate.webhook_tokens t" TOKEN_COUNTS_JOIN("t.") LAST_USED_JOIN("t.")
	" WHERE t.user_id = $1::bigint AND t.deleted_at IS NULL ORDER BY t.created_at, t.id";

/* The five-token trigger refuses the INSERT with SQLSTATE HG001. */
static const char create_sql[] =
	"WITH t AS (INSERT INTO hookgate.webhook_tokens"
	"   (public_id, user_id, name, token_hash, secret_enc, expires_at)"
	"   VALUES ($1, $2::bigint, $3, $4::bytea, $5::bytea,"
	"   hookgate.token_expiry($7::timestamptz, $8::interval)) RETURNING *),"
	" a AS (" AUDIT_INSERT " SELECT user_id, '" ADMIN_ACTOR "', 'token.create',"
	"   $6::inet, jsonb_build_object('token', public_id, 'name', name) FROM t)"
	" SELECT " TOKEN_COLS("", "") " FROM t";

/* o locks the row and keeps its old values for the audit rows of what really changed. */
static const char update_sql[] =
	"WITH o AS (SELECT id, name, status FROM hookgate.webhook_tokens w"
	"   WHERE public_id = $1 AND deleted_at IS NULL AND (w.user_id = $2::bigint"
	"   OR ($3::text IS NULL AND " TOKEN_SCOPE("w.", "$2::bigint") ")) FOR UPDATE),"
	" t AS (UPDATE hookgate.webhook_tokens w SET name = coalesce($3, w.name),"
	"   status = coalesce($4, w.status) FROM o WHERE w.id = o.id"
	"   RETURNING w.*, o.name AS old_name, o.status AS old_status),"
	" a AS (" AUDIT_INSERT " SELECT t.user_id, '" ADMIN_ACTOR "', x.action, $5::inet,"
	"   x.details || " AUDIT_BY("t.user_id", "$2::bigint")
	"   FROM t, LATERAL (VALUES"
	"   ('token.rename', t.old_name IS DISTINCT FROM t.name, jsonb_build_object("
	"     'token', t.public_id, 'old_name', t.old_name, 'name', t.name)),"
	"   (CASE WHEN t.status = 'active' THEN 'token.enable' ELSE 'token.disable' END,"
	"     t.old_status IS DISTINCT FROM t.status, jsonb_build_object("
	"     'token', t.public_id, 'old_status', t.old_status, 'status', t.status))"
	"   ) AS x(action, changed, details) WHERE x.changed)"
	" SELECT " TOKEN_COLS("t.", "c.") " FROM t" TOKEN_COUNTS_JOIN("t.");

/* Soft: the row (and so the usage history's meaning) stays; the secret forms go. The
 * webhook workers hear of it through the NOTIFY trigger of sql/002_ingest.sql. */
static const char delete_sql[] =
	"WITH t AS (UPDATE hookgate.webhook_tokens SET deleted_at = now(),"
	"   token_hash = NULL, secret_enc = NULL"
	"   WHERE public_id = $1 AND deleted_at IS NULL AND " TOKEN_SCOPE("", "$2::bigint")
	"   RETURNING user_id, public_id, name),"
	" a AS (" AUDIT_INSERT " SELECT user_id, '" ADMIN_ACTOR "', 'token.delete',"
	"   $3::inet, jsonb_build_object('token', public_id, 'name', name) || "
	AUDIT_BY("user_id", "$2::bigint") " FROM t)"
	" SELECT public_id FROM t";

static const char secret_sql[] =
	"WITH t AS (SELECT user_id, public_id, secret_enc FROM hookgate.webhook_tokens"
	"   WHERE public_id = $1 AND user_id = $2::bigint AND deleted_at IS NULL),"
	" a AS (" AUDIT_INSERT " SELECT user_id, '" ADMIN_ACTOR "', 'token.copy',"
	"   $3::inet, jsonb_build_object('token', public_id) FROM t)"
	" SELECT public_id, secret_enc FROM t";

/* One page of usage: the query of hookgate.usage_page (sql/003_admin.sql), inlined because
 * that function clamps its limit to 200 and this asks for one row more to learn whether a
 * next page exists. It reads the index token_usage_page (token_id, at DESC, seq DESC) and
 * stops after $5 rows; no token row: 0 rows (404); a token without usage: one NULL row. */
static const char usage_sql[] =
	"SELECT t.id, to_char(u.at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
	" u.module, u.target, u.http_status, host(u.client_addr), u.user_agent,"
	" round(u.latency_us / 1000.0, 3),"
	" to_char(u.at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') || '|' || u.seq,"
	" u.message_id::text, hookgate.admin_message_delivery(u.message_id), u.node"
	" FROM hookgate.webhook_tokens t LEFT JOIN LATERAL ("
	"   SELECT * FROM hookgate.token_usage x WHERE x.token_id = t.id"
	"   AND (x.at, x.seq) < (coalesce($3::timestamptz, 'infinity'),"
	"                        coalesce($4::bigint, 9223372036854775807))"
	"   ORDER BY x.at DESC, x.seq DESC LIMIT $5::integer) u ON true"
	" WHERE t.public_id = $1 AND t.deleted_at IS NULL AND " TOKEN_SCOPE("t.", "$2::bigint")
	" ORDER BY u.at DESC, u.seq DESC";
// clang-format on

/* A token as README "Admin API" shows it, from the columns of TOKEN_COLS. */
cJSON *admin_token_json(const PGresult *res, int row)
{
	static const struct admin_member members[] = {
		{ "id", 0, false },
		{ "name", 1, false },
		{ "invocations", 2, true },
		{ "last_invoked_at", 3, false },
		{ "status", 4, false },
		{ "created_at", 5, false },
		/* Why and when it was disabled (sql/010_token_revoke.sql); null when active. */
		{ "disabled_reason", 6, false },
		{ "disabled_at", 7, false },
	};

	cJSON *obj = admin_row_object(res, row, members, sizeof(members) / sizeof(members[0]));

	if (obj)
		token_life_json(obj, res, row, TOKEN_BASE_NCOLS);
	return obj;
}

cJSON *admin_token_last_used(cJSON *token, const PGresult *res, int row, int col)
{
	static const char *const names[] = { "last_used_at", "last_client_addr",
					     "last_user_agent" };

	for (int k = 0; token && k < 3; k++) {
		if (PQgetisnull(res, row, col + k))
			cJSON_AddNullToObject(token, names[k]);
		else
			cJSON_AddStringToObject(token, names[k], PQgetvalue(res, row, col + k));
	}
	return token;
}

bool admin_open_secret(const struct admin_ctx *ctx, const char *aad_prefix, const char *row_id,
		       const PGresult *res, int row, int col, char *out, size_t want_len)
{
	unsigned char sealed[TOKEN_SEALED_MAX];
	size_t sealed_len = 0, plain_len = 0;
	char aad[160]; /* "whsec:extension_marketplace:" and a 64-character name */
	bool ok;

	snprintf(aad, sizeof(aad), "%s:%s", aad_prefix, row_id);
	ok = admin_col_bytea(res, row, col, sealed, sizeof(sealed), &sealed_len) &&
	     sealed_len <= want_len + 64 &&
	     crypto_open(&ctx->w->keys, aad, sealed, sealed_len, (unsigned char *)out,
			 want_len + 64, &plain_len) &&
	     plain_len == want_len;
	if (!ok) {
		log_error("admin: cannot open the sealed %s of %s (wrong secret key file?)",
			  aad_prefix, row_id);
		return false;
	}
	out[want_len] = '\0';
	return true;
}

/* ---- list ------------------------------------------------------------------------------------ */

static void list_done(PGresult *res, void *arg)
{
	struct admin_ctx *ctx = arg;
	cJSON *body, *tokens;

	if (!admin_result(ctx, res, 0))
		return;
	body = cJSON_CreateObject();
	cJSON_AddNumberToObject(body, "limit", HG_TOKEN_LIMIT);
	tokens = cJSON_AddArrayToObject(body, "tokens");
	for (int i = 0; i < PQntuples(res); i++)
		cJSON_AddItemToArray(tokens, admin_token_last_used(admin_token_json(res, i), res, i,
								   TOKEN_NCOLS));
	admin_reply(ctx, 200, body);
}

void admin_tokens_list(struct admin_ctx *ctx)
{
	const char *params[] = { ctx->auth.user_id };

	admin_read(ctx, list_sql, 1, params, list_done);
}

/* ---- create ---------------------------------------------------------------------------------- */

/* Reads a token name member: NULL (answered 400 invalid_name) when wrong; absent = "". */
static const char *name_member(struct admin_ctx *ctx, const cJSON *body, bool required)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(body, "name");

	if (item == NULL && !required)
		return "";
	if (!cJSON_IsString(item) || !text_valid(item->valuestring, ADMIN_TOKEN_NAME_MAX_CHARS)) {
		admin_reply_error(ctx, 400, "invalid_name",
				  "a token name has 1 to 64 characters and no control characters");
		return NULL;
	}
	return item->valuestring;
}

static void new_token_free(void *data)
{
	if (data)
		OPENSSL_cleanse(data, sizeof(struct token_new));
	free(data);
}

static void create_done(PGresult *res, void *arg)
{
	struct admin_ctx *ctx = arg;
	struct token_new *nt = ctx->data;
	cJSON *body, *token;

	if (res && strcmp(admin_sqlstate(res), HG_SQLSTATE_TOKEN_LIMIT) == 0) {
		admin_reply_error(ctx, 409, "token_limit",
				  "you already have 5 webhook tokens: delete one first");
		return;
	}
	/* An expires_at refused by hookgate.token_expiry (sql/009_token_lifecycle.sql). */
	if (res && strncmp(admin_sqlstate(res), "22", 2) == 0) {
		const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
		admin_reply_error(ctx, 400, "invalid_request", msg ? msg : "bad expires_at");
		return;
	}
	if (!admin_result(ctx, res, 1))
		return;
	body = cJSON_CreateObject();
	token = admin_token_json(res, 0);
	cJSON_AddStringToObject(token, "secret", nt->secret);
	cJSON_AddItemToObject(body, "token", token);
	admin_reply(ctx, 201, body);
}

void admin_tokens_create(struct admin_ctx *ctx)
{
	cJSON *body = admin_body_object(ctx);
	const char *name = body ? name_member(ctx, body, true) : NULL;
	struct token_new *nt = name ? calloc(1, sizeof(*nt)) : NULL;

	if (name && (nt == NULL || !token_new_make(&ctx->w->keys, nt))) {
		new_token_free(nt);
		admin_reply_error(ctx, 500, "internal", "cannot generate a token");
		nt = NULL;
	}
	/* expires_at: optional, a time PostgreSQL reads (docs/api-admin.md, "Token lifecycle"). */
	const cJSON *exp = body ? cJSON_GetObjectItemCaseSensitive(body, "expires_at") : NULL;
	if (nt && exp && !cJSON_IsNull(exp) && !cJSON_IsString(exp)) {
		new_token_free(nt);
		admin_reply_error(ctx, 400, "invalid_request", "expires_at is null or a time");
		nt = NULL;
	}
	if (nt) {
		char max[40];
		const char *params[] = { nt->public_id,
					 ctx->auth.user_id,
					 name,
					 nt->stored.hash_text,
					 nt->stored.sealed_text,
					 admin_client_inet(ctx),
					 cJSON_IsString(exp) ? exp->valuestring : NULL,
					 token_life_max_param(ctx, max, sizeof(max)) };
		ctx->data = nt;
		ctx->data_free = new_token_free;
		admin_query(ctx, create_sql, 8, params, create_done);
	}
	cJSON_Delete(body);
}

/* ---- update: rename, enable, disable ------------------------------------------------------- */

static void one_token_done(PGresult *res, void *arg)
{
	struct admin_ctx *ctx = arg;
	cJSON *body;

	if (!admin_result_one_token(ctx, res))
		return;
	body = cJSON_CreateObject();
	cJSON_AddItemToObject(body, "token", admin_token_json(res, 0));
	admin_reply(ctx, 200, body);
}

/* Reads "status": NULL when absent; answers 400 and sets *bad when wrong. */
static const char *status_member(struct admin_ctx *ctx, const cJSON *body, bool *bad)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(body, "status");

	if (item == NULL)
		return NULL;
	if (cJSON_IsString(item) && (strcmp(item->valuestring, "active") == 0 ||
				     strcmp(item->valuestring, "disabled") == 0))
		return item->valuestring;
	*bad = true;
	admin_reply_error(ctx, 400, "invalid_request", "status is \"active\" or \"disabled\"");
	return NULL;
}

void admin_tokens_update(struct admin_ctx *ctx)
{
	cJSON *body = admin_body_object(ctx);
	bool bad = false;
	const char *name = body ? name_member(ctx, body, false) : NULL;
	const char *status = name ? status_member(ctx, body, &bad) : NULL;

	if (name && !bad && *name == '\0' && status == NULL) {
		admin_reply_error(ctx, 400, "invalid_request",
				  "send {\"name\"} and/or {\"status\"}");
	} else if (name && !bad) {
		const char *params[] = { ctx->token_id, ctx->auth.user_id, *name ? name : NULL,
					 status, admin_client_inet(ctx) };
		admin_query(ctx, update_sql, 5, params, one_token_done);
	}
	cJSON_Delete(body);
}

/* ---- delete ---------------------------------------------------------------------------------- */

static void delete_done(PGresult *res, void *arg)
{
	struct admin_ctx *ctx = arg;

	if (admin_result_one_token(ctx, res))
		admin_reply_empty(ctx, 204);
}

void admin_tokens_delete(struct admin_ctx *ctx)
{
	const char *params[] = { ctx->token_id, ctx->auth.user_id, admin_client_inet(ctx) };

	admin_query(ctx, delete_sql, 3, params, delete_done);
}

/* ---- secret copy ----------------------------------------------------------------------------- */

static void secret_done(PGresult *res, void *arg)
{
	struct admin_ctx *ctx = arg;
	char secret[TOKEN_LEN + 64];
	cJSON *body;

	if (!admin_result_one_token(ctx, res))
		return;
	if (!admin_open_secret(ctx, "token", ctx->token_id, res, 0, 1, secret, TOKEN_LEN)) {
		admin_reply_error(ctx, 500, "internal", "cannot decrypt the token");
		return;
	}
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "secret", secret);
	OPENSSL_cleanse(secret, sizeof(secret));
	admin_reply(ctx, 200, body);
}

void admin_tokens_secret(struct admin_ctx *ctx)
{
	const char *params[] = { ctx->token_id, ctx->auth.user_id, admin_client_inet(ctx) };

	admin_query(ctx, secret_sql, 3, params, secret_done);
}

/* ---- usage history --------------------------------------------------------------------------- */

struct usage_state {
	int limit;
};

/* "YYYY-MM-DDTHH:MM:SS.uuuuuuZ|seq", the text hookgate.usage_page's cursor column holds. */
static bool cursor_text_valid(const char *c)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.ddddddZ|";
	size_t n = strlen(shape), digits;

	for (size_t i = 0; i < n; i++) {
		if (shape[i] == 'd' ? (c[i] < '0' || c[i] > '9') : c[i] != shape[i])
			return false;
	}
	digits = strspn(c + n, "0123456789");
	return digits >= 1 && digits <= 18 && c[n + digits] == '\0';
}

/* The text of a cursor from its base64url form; false when it is not one of ours. */
static bool cursor_decode(const char *b64, char text[CURSOR_TEXT_MAX])
{
	size_t n = base64url_decode(b64, strlen(b64), (unsigned char *)text, CURSOR_TEXT_MAX - 1);

	if (n == (size_t)-1 || memchr(text, '\0', n) != NULL)
		return false;
	text[n] = '\0';
	return cursor_text_valid(text);
}

bool admin_page_params(struct admin_ctx *ctx, int *limit_out, char *at, char *seq)
{
	char limit[8], before[CURSOR_B64_MAX], text[CURSOR_TEXT_MAX];
	enum admin_param lp = admin_query_param(ctx->req->query, "limit", limit, sizeof(limit));
	enum admin_param bp = admin_query_param(ctx->req->query, "before", before, sizeof(before));
	char *end = NULL;

	*limit_out = USAGE_LIMIT_DEFAULT;
	if (lp == ADMIN_PARAM_OK) {
		long v = strtol(limit, &end, 10);
		*limit_out = (limit[0] >= '0' && limit[0] <= '9' && *end == '\0' && v >= 1 &&
			      v <= USAGE_LIMIT_MAX)
				     ? (int)v
				     : -1;
	}
	if (lp == ADMIN_PARAM_BAD || *limit_out < 0) {
		admin_reply_error(ctx, 400, "invalid_request", "limit is a number from 1 to 200");
		return false;
	}
	at[0] = seq[0] = '\0';
	if (bp == ADMIN_PARAM_ABSENT)
		return true;
	if (bp == ADMIN_PARAM_BAD || !cursor_decode(before, text)) {
		admin_reply_error(ctx, 400, "invalid_request",
				  "before is not a cursor of this API");
		return false;
	}
	char *bar = strchr(text, '|');
	*bar = '\0';
	strcpy(at, text);
	strcpy(seq, bar + 1);
	return true;
}

/* A usage row from the columns of usage_sql; a stored message's row carries its delivery
 * state (sql/005_admin_delivery.sql, admin_message_delivery). */
static cJSON *usage_json(const PGresult *res, int row)
{
	static const struct admin_member members[] = {
		{ "at", 1, false },	   { "module", 2, false },	{ "target", 3, false },
		{ "status", 4, true },	   { "client_addr", 5, false }, { "user_agent", 6, false },
		{ "latency_ms", 7, true }, { "message_id", 9, false },	{ "node", 11, false },
	};
	cJSON *obj = admin_row_object(res, row, members, sizeof(members) / sizeof(members[0]));
	cJSON *delivery = PQgetisnull(res, row, 10) ? NULL : cJSON_Parse(PQgetvalue(res, row, 10));

	if (obj && delivery)
		cJSON_AddItemToObject(obj, "delivery", delivery);
	else
		cJSON_Delete(delivery);
	return obj;
}

void admin_page_next(cJSON *body, const char *cursor)
{
	char next[CURSOR_B64_MAX];

	if (base64url_encode((const unsigned char *)cursor, strlen(cursor), next, sizeof(next)) > 0)
		cJSON_AddStringToObject(body, "next", next);
	else
		cJSON_AddNullToObject(body, "next");
}

bool admin_page_cursor_refused(struct admin_ctx *ctx, const PGresult *res)
{
	if (res == NULL || strncmp(admin_sqlstate(res), "22", 2) != 0)
		return false;
	admin_reply_error(ctx, 400, "invalid_request", "before is not a cursor of this API");
	return true;
}

static void usage_done(PGresult *res, void *arg)
{
	struct admin_ctx *ctx = arg;
	struct usage_state *st = ctx->data;
	cJSON *body, *rows;
	int n;

	if (admin_page_cursor_refused(ctx, res) || !admin_result(ctx, res, 0))
		return;
	if (PQntuples(res) == 0) {
		admin_reply_error(ctx, 404, "not_found", "no such token");
		return;
	}
	/* One row per usage row (limit + 1 asked for), or one all-NULL row for none. */
	n = PQgetisnull(res, 0, 1) ? 0 : PQntuples(res);
	body = cJSON_CreateObject();
	rows = cJSON_AddArrayToObject(body, "usage");
	for (int i = 0; i < n && i < st->limit; i++)
		cJSON_AddItemToArray(rows, usage_json(res, i));
	admin_page_next(body, n > st->limit ? PQgetvalue(res, st->limit - 1, 8) : "");
	admin_reply(ctx, 200, body);
}

void admin_tokens_usage(struct admin_ctx *ctx)
{
	struct usage_state *st = calloc(1, sizeof(*st));
	char at[CURSOR_TEXT_MAX], seq[CURSOR_TEXT_MAX], limit[16];

	if (st == NULL) {
		admin_reply_error(ctx, 500, "internal", "out of memory");
		return;
	}
	ctx->data = st;
	if (!admin_page_params(ctx, &st->limit, at, seq))
		return;
	snprintf(limit, sizeof(limit), "%d", st->limit + 1);
	const char *params[] = { ctx->token_id, ctx->auth.user_id, at[0] ? at : NULL,
				 seq[0] ? seq : NULL, limit };
	admin_read(ctx, usage_sql, 5, params, usage_done);
}
