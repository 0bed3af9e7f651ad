/* SPDX-License-Identifier: Apache-2.0 */
/* admin_modules: see admin/modules.h. */
#include "admin/modules.h"
#include "admin/reads.h"
#include "admin/tokens.h"
#include "core/module.h"
#include "core/token.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#define URL_MAX 1024
#define CURL_MAX (URL_MAX + 160)

/* ---- GET /admin/api/modules ------------------------------------------------------------------ */

// clang-format off
/* The same rules the webhook endpoints apply (docs/api-webhooks.md): channel membership, bot
 * owner or subscriber, and extensions whose appkeys the user holds, i.e. owns. */
static const char modules_sql[] =
	"SELECT 'channel', c.name, c.title, NULL FROM hookgate.channels c"
	"  JOIN hookgate.channel_members m ON m.channel_id = c.id"
	"  WHERE m.user_id = $1::bigint"
	" UNION ALL SELECT 'bot', b.name, (b.owner_id = $1::bigint)::text, NULL"
	"  FROM hookgate.bots b WHERE b.owner_id = $1::bigint OR EXISTS (SELECT 1"
	"  FROM hookgate.bot_subscribers s WHERE s.bot_id = b.id AND s.user_id = $1::bigint)"
	" UNION ALL SELECT 'extension', e.name, e.sandbox_app_id, e.marketplace_app_id"
	"  FROM hookgate.extensions e WHERE e.owner_id = $1::bigint"
	" ORDER BY 1, 2";
// clang-format on

static cJSON *module_json(const PGresult *res, int row, const char *kind)
{
	cJSON *m = cJSON_CreateObject();

	cJSON_AddItemToObject(m, "name", admin_col_string(res, row, 1));
	if (strcmp(kind, "channel") == 0) {
		cJSON_AddItemToObject(m, "title", admin_col_string(res, row, 2));
	} else if (strcmp(kind, "bot") == 0) {
		cJSON_AddBoolToObject(m, "owned", strcmp(PQgetvalue(res, row, 2), "true") == 0);
	} else {
		cJSON_AddItemToObject(m, "sandbox_app_id", admin_col_string(res, row, 2));
		cJSON_AddItemToObject(m, "marketplace_app_id", admin_col_string(res, row, 3));
	}
	return m;
}

static void modules_done(PGresult *res, void *arg)
{
	struct admin_ctx *ctx = arg;
	cJSON *body, *channels, *bots, *extensions;

	if (!admin_result(ctx, res, 0))
		return;
	body = cJSON_CreateObject();
	channels = cJSON_AddArrayToObject(body, "channels");
	bots = cJSON_AddArrayToObject(body, "bots");
	extensions = cJSON_AddArrayToObject(body, "extensions");
	for (int i = 0; i < PQntuples(res); i++) {
		const char *kind = PQgetvalue(res, i, 0);
		cJSON *list = strcmp(kind, "channel") == 0 ? channels
			      : strcmp(kind, "bot") == 0   ? bots
							   : extensions;
		cJSON_AddItemToArray(list, module_json(res, i, kind));
	}
	admin_reply(ctx, 200, body);
}

void admin_modules_list(struct admin_ctx *ctx)
{
	const char *params[] = { ctx->auth.user_id };

	admin_read(ctx, modules_sql, 1, params, modules_done);
}

/* ---- GET /admin/api/tokens/{id}/webhook-url ------------------------------------------------- */

/* The module parameter's values, with the query parameters each one needs. */
enum url_kind { URL_CHANNEL, URL_BOT, URL_EXTENSION };

struct url_request {
	enum url_kind kind;
	enum module_kind module; /* the endpoint, of kind and detail */
	char name[MODULE_NAME_MAX + 1];
	char detail[16]; /* bot: "incoming"/"message"; extension: "sandbox"/"marketplace" */
};

static const struct {
	const char *module;
	const char *name_param;
	const char *detail_param;
	const char *details[2];
	enum module_kind endpoints[2]; /* of details[0] and details[1] */
} url_kinds[] = {
	[URL_CHANNEL] = { "channel",
			  "channel",
			  NULL,
			  { NULL, NULL },
			  { MODULE_CHANNEL, MODULE_CHANNEL } },
	[URL_BOT] = { "bot",
		      "bot",
		      "endpoint",
		      { "incoming", "message" },
		      { MODULE_BOT_INCOMING, MODULE_BOT_MESSAGE } },
	[URL_EXTENSION] = { "extension",
			    "extension",
			    "env",
			    { "sandbox", "marketplace" },
			    { MODULE_EXTENSION, MODULE_EXTENSION } },
};

/* The detail parameter of kind, if it has one, into out; the endpoint it names into *module. */
static bool url_detail(const char *query, int kind, char *out, size_t outlen,
		       enum module_kind *module)
{
	*module = url_kinds[kind].endpoints[0];
	if (url_kinds[kind].detail_param == NULL)
		return true;
	if (admin_query_param(query, url_kinds[kind].detail_param, out, outlen) != ADMIN_PARAM_OK)
		return false;
	for (int i = 0; i < 2; i++) {
		if (strcmp(out, url_kinds[kind].details[i]) == 0) {
			*module = url_kinds[kind].endpoints[i];
			return true;
		}
	}
	return false;
}

/* Reads module=…&channel|bot|extension=NAME[&endpoint|env=…]; answers 400 when wrong. */
static bool url_params(struct admin_ctx *ctx, struct url_request *ur)
{
	const char *q = ctx->req->query;
	char module[16];
	int kind = -1;

	if (admin_query_param(q, "module", module, sizeof(module)) == ADMIN_PARAM_OK) {
		for (int i = 0; i < 3; i++)
			if (strcmp(module, url_kinds[i].module) == 0)
				kind = i;
	}
	if (kind < 0) {
		admin_reply_error(ctx, 400, "invalid_request",
				  "module is \"channel\", \"bot\" or \"extension\"");
		return false;
	}
	ur->kind = (enum url_kind)kind;
	if (admin_query_param(q, url_kinds[kind].name_param, ur->name, sizeof(ur->name)) !=
		    ADMIN_PARAM_OK ||
	    !module_name_fold(ur->name, strlen(ur->name)) ||
	    !url_detail(q, kind, ur->detail, sizeof(ur->detail), &ur->module)) {
		char msg[160];
		snprintf(msg, sizeof(msg), "module=%s needs %s=NAME%s%s%s", url_kinds[kind].module,
			 url_kinds[kind].name_param, kind == URL_CHANNEL ? "" : " and ",
			 kind == URL_BOT ? "endpoint=incoming|message" : "",
			 kind == URL_EXTENSION ? "env=sandbox|marketplace" : "");
		admin_reply_error(ctx, 400, "invalid_request", msg);
		return false;
	}
	return true;
}

/* server.public_url, the endpoint's path (module.h) and the secrets in the query string: the
 * appkey of an extension, and the token unless it is NULL (it then goes in a header). */
static bool url_build(const struct admin_ctx *ctx, const struct url_request *ur,
		      const PGresult *res, const char *token, char *url)
{
	const char *target = PQgetvalue(res, 0, 2);
	char appkey[TOKEN_APPKEY_LEN + 64] = "";
	bool ext = ur->module == MODULE_EXTENSION;

	if (ext && !admin_open_secret(ctx, "appkey", target, res, 0, 3, appkey, TOKEN_APPKEY_LEN))
		return false;
	int n = snprintf(url, URL_MAX, "%s%s%s%s%s%s%s%s%s%s", ctx->w->cfg->public_url,
			 module_path_prefix(ur->module), target, module_path_suffix(ur->module),
			 ext || token ? "?" : "", ext ? "appkey=" : "", appkey,
			 ext && token ? "&" : "", token ? "zapikey=" : "", token ? token : "");
	OPENSSL_cleanse(appkey, sizeof(appkey));
	return n > 0 && n < URL_MAX;
}

/* The same call as a curl command line with the token in "Authorization: Bearer", which keeps
 * it out of URLs and the logs that record them (docs/api-webhooks.md, "Authentication"). */
static bool curl_build(const struct admin_ctx *ctx, const struct url_request *ur,
		       const PGresult *res, const char *token, char *curl)
{
	char url[URL_MAX];
	bool ok = url_build(ctx, ur, res, NULL, url);
	int n = ok ? snprintf(curl, CURL_MAX,
			      "curl -X POST '%s' -H 'Authorization: Bearer %s'"
			      " -H 'Content-Type: application/json' -d '{\"text\":\"Hello\"}'",
			      url, token)
		   : 0;
	OPENSSL_cleanse(url, sizeof(url));
	return n > 0 && n < CURL_MAX;
}

static void url_done(PGresult *res, void *arg)
{
	struct admin_ctx *ctx = arg;
	const struct url_request *ur = ctx->data;
	char token[TOKEN_LEN + 64], url[URL_MAX], curl[CURL_MAX];
	cJSON *body;

	if (!admin_result_one_token(ctx, res))
		return;
	if (PQgetisnull(res, 0, 2)) {
		char msg[160];
		snprintf(msg, sizeof(msg), "no %s %s among yours", url_kinds[ur->kind].module,
			 ur->name);
		admin_reply_error(ctx, 404, "not_found", msg);
		return;
	}
	if (!admin_open_secret(ctx, "token", ctx->token_id, res, 0, 1, token, TOKEN_LEN) ||
	    !url_build(ctx, ur, res, token, url) || !curl_build(ctx, ur, res, token, curl)) {
		OPENSSL_cleanse(token, sizeof(token));
		OPENSSL_cleanse(url, sizeof(url));
		OPENSSL_cleanse(curl, sizeof(curl));
		admin_reply_error(ctx, 500, "internal", "cannot build the URL");
		return;
	}
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "url", url);
	cJSON_AddStringToObject(body, "curl", curl);
	OPENSSL_cleanse(token, sizeof(token));
	OPENSSL_cleanse(url, sizeof(url));
	OPENSSL_cleanse(curl, sizeof(curl));
	admin_reply(ctx, 200, body);
}

/* The URL holds the token, so handing it out is a secret copy and audited as one. Column 2 is
 * the target (channel or bot name, or the environment's app id), NULL when the user may not
 * use it; column 3 that environment's sealed appkey. */
// clang-format off
static const char url_sql[] =
	"WITH r AS (SELECT t.user_id, t.public_id, t.secret_enc, m.target, m.appkey_enc"
	"  FROM hookgate.webhook_tokens t LEFT JOIN LATERAL ("
	"   SELECT c.name AS target, NULL::bytea AS appkey_enc FROM hookgate.channels c"
	"    JOIN hookgate.channel_members cm ON cm.channel_id = c.id AND cm.user_id = t.user_id"
	"    WHERE $3::text = 'channel' AND c.name = $4::text"
	"   UNION ALL SELECT b.name, NULL FROM hookgate.bots b"
	"    WHERE $3::text = 'bot' AND b.name = $4::text AND (b.owner_id = t.user_id OR EXISTS ("
	"    SELECT 1 FROM hookgate.bot_subscribers s WHERE s.bot_id = b.id"
	"    AND s.user_id = t.user_id))"
	"   UNION ALL SELECT"
	"    CASE WHEN $5::text = 'sandbox' THEN e.sandbox_app_id ELSE e.marketplace_app_id END,"
	"    CASE WHEN $5::text = 'sandbox' THEN e.sandbox_appkey_enc"
	"     ELSE e.marketplace_appkey_enc END"
	"    FROM hookgate.extensions e"
	"    WHERE $3::text = 'extension' AND e.name = $4::text AND e.owner_id = t.user_id"
	"  ) m ON true"
	"  WHERE t.public_id = $1 AND t.user_id = $2::bigint AND t.deleted_at IS NULL),"
	" a AS (INSERT INTO hookgate.audit_log (user_id, actor, action, client_addr, details)"
	"  SELECT user_id, '" ADMIN_ACTOR "', 'token.copy', $6::inet, jsonb_build_object("
	"   'token', public_id, 'via', 'webhook-url', 'module', $3::text, 'target', target)"
	"  FROM r WHERE target IS NOT NULL)"
	" SELECT public_id, secret_enc, target, appkey_enc FROM r";
// clang-format on

void admin_modules_webhook_url(struct admin_ctx *ctx)
{
	struct url_request *ur = calloc(1, sizeof(*ur));

	if (ur == NULL) {
		admin_reply_error(ctx, 500, "internal", "out of memory");
		return;
	}
	ctx->data = ur;
	if (!url_params(ctx, ur))
		return;
	const char *params[] = { ctx->token_id,
				 ctx->auth.user_id,
				 url_kinds[ur->kind].module,
				 ur->name,
				 ur->kind == URL_EXTENSION ? ur->detail : NULL,
				 admin_client_inet(ctx) };
	admin_query(ctx, url_sql, 6, params, url_done);
}
