/* SPDX-License-Identifier: Apache-2.0 */
/* admin_attempts: see admin/attempts.h. The pages are built by sql/005_admin_delivery.sql; the
 * cursor of the next page travels base64url-encoded, as the usage history's does. */
#include "admin/attempts.h"
#include "admin/endpoints.h"
#include "admin/reads.h"
#include "lib/encoding.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ATTEMPTS_LIMIT_DEFAULT 50
#define ATTEMPTS_LIMIT_MAX 200
#define CURSOR_TEXT_MAX 80
#define CURSOR_B64_MAX 112

// clang-format off
static const char list_sql[] =
	"SELECT hookgate.admin_destination_attempts($1::bigint, $2, $3, $4::integer, $5)";
static const char replay_sql[] =
	"SELECT hookgate.admin_destination_replay($1::bigint, $2::inet, $3, $4,"
	" $5::timestamptz, $6::timestamptz)";
static const char message_sql[] =
	"SELECT hookgate.admin_message_attempts($1::bigint, $2, $3::bigint)";
// clang-format on

/* ---- a destination's attempts -----------------------------------------------------------------
 */

/* "next" of the page as the API gives it: the database's cursor text, base64url. */
static void cursor_encode(cJSON *body)
{
	cJSON *next = cJSON_GetObjectItemCaseSensitive(body, "next");
	char b64[CURSOR_B64_MAX];

	if (!cJSON_IsString(next))
		return;
	if (base64url_encode((const unsigned char *)next->valuestring, strlen(next->valuestring),
			     b64, sizeof(b64)) > 0)
		cJSON_ReplaceItemInObjectCaseSensitive(body, "next", cJSON_CreateString(b64));
	else
		cJSON_ReplaceItemInObjectCaseSensitive(body, "next", cJSON_CreateNull());
}

static void list_done(PGresult *res, void *arg)
{
	struct admin_ctx *ctx = arg;
	cJSON *body;

	if (!admin_endpoint_result(ctx, res) || (body = admin_endpoint_json(ctx, res, 0)) == NULL)
		return;
	cursor_encode(body);
	admin_reply(ctx, 200, body);
}

/* limit (1..200, default 50) and the before cursor's text; false answered 400. */
static bool list_params(struct admin_ctx *ctx, char limit[8], char text[CURSOR_TEXT_MAX],
			bool *has_before)
{
	char before[CURSOR_B64_MAX];
	enum admin_param lp = admin_query_param(ctx->req->query, "limit", limit, 8);
	enum admin_param bp = admin_query_param(ctx->req->query, "before", before, sizeof(before));
	char *end = NULL;
	long v = ATTEMPTS_LIMIT_DEFAULT;
	size_t n = 0;

	if (lp == ADMIN_PARAM_OK)
		v = limit[0] >= '0' && limit[0] <= '9' ? strtol(limit, &end, 10) : -1;
	if (lp == ADMIN_PARAM_BAD || v < 1 || v > ATTEMPTS_LIMIT_MAX || (end && *end)) {
		admin_reply_error(ctx, 400, "invalid_request", "limit is a number from 1 to 200");
		return false;
	}
	snprintf(limit, 8, "%ld", v);
	*has_before = bp != ADMIN_PARAM_ABSENT;
	if (*has_before && bp == ADMIN_PARAM_OK)
		n = base64url_decode(before, strlen(before), (unsigned char *)text,
				     CURSOR_TEXT_MAX - 1);
	if (*has_before &&
	    (bp == ADMIN_PARAM_BAD || n == (size_t)-1 || n == 0 || memchr(text, '\0', n) != NULL)) {
		admin_reply_error(ctx, 400, "invalid_request",
				  "before is not a cursor of this API");
		return false;
	}
	text[n] = '\0';
	return true;
}

void admin_attempts_list(struct admin_ctx *ctx)
{
	const char *module = admin_endpoint_module(ctx);
	char limit[8], text[CURSOR_TEXT_MAX];
	bool has_before = false;

	if (module == NULL || !list_params(ctx, limit, text, &has_before))
		return;
	const char *params[] = { ctx->auth.user_id, module, ctx->seg[0], limit,
				 has_before ? text : NULL };
	admin_read(ctx, list_sql, 5, params, list_done);
}

/* ---- replay --------------------------------------------------------------------------------- */

static void replay_done(PGresult *res, void *arg)
{
	struct admin_ctx *ctx = arg;
	cJSON *body;

	if (!admin_endpoint_result(ctx, res))
		return;
	body = cJSON_CreateObject();
	cJSON_AddItemToObject(body, "queued", admin_col_number(res, 0, 0));
	admin_reply(ctx, 200, body);
}

void admin_attempts_replay(struct admin_ctx *ctx)
{
	const char *module = admin_endpoint_module(ctx);
	cJSON *body = module ? admin_body_object(ctx) : NULL;
	bool bad = false;
	const char *since = body ? admin_json_string(body, "since", &bad) : NULL;
	const char *until = body ? admin_json_string(body, "until", &bad) : NULL;

	if (body && (bad || since == NULL || until == NULL)) {
		admin_reply_error(
			ctx, 400, "invalid_request",
			"send {\"since\", \"until\"}: ISO 8601 times at most 14 days apart");
	} else if (body) {
		const char *params[] = {
			ctx->auth.user_id, admin_client_inet(ctx), module, ctx->seg[0], since, until
		};
		admin_query(ctx, replay_sql, 6, params, replay_done);
	}
	cJSON_Delete(body);
}

/* ---- one message's attempts ----------------------------------------------------------------- */

static void message_done(PGresult *res, void *arg)
{
	struct admin_ctx *ctx = arg;
	cJSON *body;

	if (admin_endpoint_result(ctx, res) && (body = admin_endpoint_json(ctx, res, 0)) != NULL)
		admin_reply(ctx, 200, body);
}

void admin_attempts_message(struct admin_ctx *ctx)
{
	const char *id = ctx->seg[1];
	size_t digits = strspn(id, "0123456789");

	if (digits == 0 || digits > 18 || id[digits] != '\0') {
		admin_reply_error(ctx, 404, "not_found", "no such message");
		return;
	}
	const char *params[] = { ctx->auth.user_id, ctx->token_id, id };
	admin_read(ctx, message_sql, 3, params, message_done);
}
