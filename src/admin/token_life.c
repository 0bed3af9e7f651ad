/* SPDX-License-Identifier: Apache-2.0 */
/* admin_token_life: see admin/token_life.h. The checks of values (a cidr, a target, a time,
 * the maximum lifetime) are PostgreSQL's, in the functions of sql/009_token_lifecycle.sql: their
 * SQLSTATE class 22 (data exception) becomes 400 invalid_request with PostgreSQL's message, which
 * names the value but never a secret. */
#include "admin/token_life.h"
#include "core/config.h"
#include "core/token.h"
#include "proc/worker.h"

#include <openssl/crypto.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GRACE_MAX_MS (7LL * 24 * 3600 * 1000)

static const char rotate_sql[] = "SELECT public_id, generation, " ADMIN_SQL_TIME(
	"previous_until") " FROM hookgate.rotate_token($1, $2::bigint, $3::bytea, $4::bytea, "
			  "$5::interval,"
			  " '" ADMIN_ACTOR "', $6::inet)";

static const char limits_sql[] =
	"SELECT limits::text FROM hookgate.set_token_limits($1, $2::bigint, $3::boolean,"
	" $4::timestamptz, $5::boolean, $6::cidr[], $7::boolean, $8::text[], '" ADMIN_ACTOR "',"
	" $9::inet, $10::interval)";

static void add_json_col(cJSON *obj, const char *name, const PGresult *res, int row, int col)
{
	cJSON *v = PQgetisnull(res, row, col) ? NULL : cJSON_Parse(PQgetvalue(res, row, col));
	cJSON_AddItemToObject(obj, name, v ? v : cJSON_CreateNull());
}

void token_life_json(cJSON *obj, const PGresult *res, int row, int col)
{
	cJSON_AddItemToObject(obj, "expires_at", admin_col_string(res, row, col));
	cJSON_AddBoolToObject(obj, "expired", strcmp(PQgetvalue(res, row, col + 1), "true") == 0);
	cJSON_AddBoolToObject(obj, "expiring_soon",
			      strcmp(PQgetvalue(res, row, col + 2), "true") == 0);
	add_json_col(obj, "networks", res, row, col + 3);
	add_json_col(obj, "targets", res, row, col + 4);
	cJSON_AddItemToObject(obj, "generation", admin_col_number(res, row, col + 5));
	cJSON_AddItemToObject(obj, "previous_until", admin_col_string(res, row, col + 6));
}

const char *token_life_max_param(const struct admin_ctx *ctx, char *buf, size_t len)
{
	int64_t ms = ctx->w->cfg->max_token_lifetime_ms;
	if (ms <= 0)
		return NULL;
	snprintf(buf, len, "%lld milliseconds", (long long)ms);
	return buf;
}

/* A data exception from PostgreSQL's checks: 400 with its message; true when answered. */
static bool data_error(struct admin_ctx *ctx, const PGresult *res)
{
	const char *msg;
	if (res == NULL || strncmp(admin_sqlstate(res), "22", 2) != 0)
		return false;
	msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	admin_reply_error(ctx, 400, "invalid_request", msg ? msg : "invalid value");
	return true;
}

/* ---- rotate ---------------------------------------------------------------------------------- */

static void secret_free(void *data)
{
	if (data)
		OPENSSL_cleanse(data, sizeof(struct token_new));
	free(data);
}

static void rotate_done(PGresult *res, void *arg)
{
	struct admin_ctx *ctx = arg;
	struct token_new *nt = ctx->data;
	cJSON *body, *token;

	if (data_error(ctx, res) || !admin_result_one_token(ctx, res))
		return;
	body = cJSON_CreateObject();
	token = cJSON_AddObjectToObject(body, "token");
	cJSON_AddItemToObject(token, "id", admin_col_string(res, 0, 0));
	cJSON_AddItemToObject(token, "generation", admin_col_number(res, 0, 1));
	cJSON_AddItemToObject(token, "previous_until", admin_col_string(res, 0, 2));
	cJSON_AddStringToObject(token, "secret", nt->secret);
	admin_reply(ctx, 200, body);
}

/* "grace": a duration as in the configuration file, 0 to 7 days; absent = 0. */
static bool grace_member(struct admin_ctx *ctx, const cJSON *body, int64_t *ms)
{
	const cJSON *g = cJSON_GetObjectItemCaseSensitive(body, "grace");

	*ms = 0;
	if (g == NULL)
		return true;
	if (cJSON_IsString(g) && cfg_parse_duration(g->valuestring, ms) && *ms <= GRACE_MAX_MS)
		return true;
	admin_reply_error(ctx, 400, "invalid_request",
			  "grace is a duration from 0 to 7d (\"30m\", \"24h\", \"7d\")");
	return false;
}

void admin_tokens_rotate(struct admin_ctx *ctx)
{
	cJSON *body = admin_body_object(ctx);
	struct token_new *nt = NULL;
	char grace[40];
	int64_t ms;

	if (body == NULL || !grace_member(ctx, body, &ms)) {
		cJSON_Delete(body);
		return;
	}
	cJSON_Delete(body);
	nt = calloc(1, sizeof(*nt));
	if (nt == NULL || !token_new_secret(&ctx->w->keys, ctx->token_id, nt)) {
		secret_free(nt);
		admin_reply_error(ctx, 500, "internal", "cannot generate a token");
		return;
	}
	ctx->data = nt;
	ctx->data_free = secret_free;
	snprintf(grace, sizeof(grace), "%lld milliseconds", (long long)ms);
	const char *params[] = {
		ctx->token_id, ctx->auth.user_id,     nt->stored.hash_text, nt->stored.sealed_text,
		grace,	       admin_client_inet(ctx)
	};
	admin_query(ctx, rotate_sql, 6, params, rotate_done);
}

/* ---- expiry and limits ----------------------------------------------------------------------- */

struct limits_params {
	char *networks; /* PostgreSQL array text, or NULL */
	char *targets;
};

static void limits_params_free(void *data)
{
	struct limits_params *lp = data;
	if (lp) {
		free(lp->networks);
		free(lp->targets);
	}
	free(lp);
}

/* A member that is absent (unchanged: *set false), null (none) or a non-empty array of up to 16
 * short strings without the characters that would need quoting in an array literal (the values
 * themselves are checked by PostgreSQL). False when answered 400. */
static bool list_member(struct admin_ctx *ctx, const cJSON *body, const char *name, bool *set,
			char **out)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(body, name), *e;
	size_t used = 1;
	int n = 0;

	*set = arr != NULL;
	*out = NULL;
	if (arr == NULL || cJSON_IsNull(arr))
		return true;
	if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) < 1 || cJSON_GetArraySize(arr) > 16)
		goto bad;
	if ((*out = calloc(1, 16 * 100 + 3)) == NULL)
		goto bad;
	(*out)[0] = '{';
	cJSON_ArrayForEach(e, arr)
	{
		if (!cJSON_IsString(e) || strlen(e->valuestring) == 0 ||
		    strlen(e->valuestring) > 96 || strpbrk(e->valuestring, "{},\"\\ '") != NULL)
			goto bad;
		used += (size_t)sprintf(*out + used, "%s%s", n++ ? "," : "", e->valuestring);
	}
	strcpy(*out + used, "}");
	return true;
bad:
	free(*out);
	*out = NULL;
	admin_reply_error(ctx, 400, "invalid_request",
			  "networks and targets are null or a list of 1 to 16 strings");
	return false;
}

static void limits_done(PGresult *res, void *arg)
{
	struct admin_ctx *ctx = arg;
	cJSON *body, *token;

	if (data_error(ctx, res) || !admin_result_one_token(ctx, res))
		return;
	token = cJSON_Parse(PQgetvalue(res, 0, 0));
	body = cJSON_CreateObject();
	cJSON_AddItemToObject(body, "token", token ? token : cJSON_CreateNull());
	admin_reply(ctx, 200, body);
}

void admin_tokens_limits(struct admin_ctx *ctx)
{
	cJSON *body = admin_body_object(ctx);
	struct limits_params *lp = calloc(1, sizeof(*lp));
	bool set_nets = false, set_targets = false, set_exp = false;
	const cJSON *exp = body ? cJSON_GetObjectItemCaseSensitive(body, "expires_at") : NULL;
	char max[40];

	ctx->data = lp;
	ctx->data_free = limits_params_free;
	if (body == NULL || lp == NULL ||
	    !list_member(ctx, body, "networks", &set_nets, &lp->networks) ||
	    !list_member(ctx, body, "targets", &set_targets, &lp->targets)) {
		if (body && lp == NULL)
			admin_reply_error(ctx, 500, "internal", "out of memory");
		cJSON_Delete(body);
		return;
	}
	set_exp = exp != NULL;
	if (exp && !cJSON_IsNull(exp) && !cJSON_IsString(exp)) {
		admin_reply_error(ctx, 400, "invalid_request",
				  "expires_at is null or a time (\"2027-01-31T00:00:00Z\")");
	} else if (!set_exp && !set_nets && !set_targets) {
		admin_reply_error(ctx, 400, "invalid_request",
				  "send expires_at, networks and/or targets");
	} else {
		const char *params[] = {
			ctx->token_id,
			ctx->auth.user_id,
			set_exp ? "true" : "false",
			cJSON_IsString(exp) ? exp->valuestring : NULL,
			set_nets ? "true" : "false",
			lp->networks,
			set_targets ? "true" : "false",
			lp->targets,
			admin_client_inet(ctx),
			token_life_max_param(ctx, max, sizeof(max)),
		};
		admin_query(ctx, limits_sql, 10, params, limits_done);
	}
	cJSON_Delete(body);
}
