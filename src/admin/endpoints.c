/* SPDX-License-Identifier: Apache-2.0 */
/* admin_endpoints: see admin/endpoints.h.
 *
 * The statements are sql/005_admin_delivery.sql's functions: each checks that the bot or
 * extension is the session user's (else SQLSTATE HG010, 404) and writes its audit row in the
 * same transaction; they build the destination objects as JSON, which is passed through. */
#include "admin/endpoints.h"
#include "admin/reads.h"
#include "delivery/destination.h"

#include <openssl/crypto.h>

#include <stdlib.h>
#include <string.h>

// clang-format off
static const char list_sql[] = "SELECT hookgate.admin_endpoints($1::bigint)";

static const char bot_get_sql[] =
	"SELECT jsonb_build_object("
	" 'incoming', hookgate.admin_destination_view('bot_incoming', name),"
	" 'message', hookgate.admin_destination_view('bot_message', name))"
	" FROM hookgate.bots WHERE name = $2 AND owner_id = $1::bigint";

static const char slot_get_sql[] =
	"SELECT hookgate.admin_destination_view($3, name)"
	" FROM hookgate.extensions WHERE name = $2 AND owner_id = $1::bigint";

/* Both slots in one statement, so one transaction: a refused slot changes neither. */
static const char bot_put_sql[] =
	"SELECT a.view, a.created, b.view, b.created"
	" FROM hookgate.admin_destination_put($1::bigint, $2::inet, 'bot_incoming', $3,"
	"   $4::boolean, $5, $6::boolean, $7::bytea) a,"
	" hookgate.admin_destination_put($1::bigint, $2::inet, 'bot_message', $3,"
	"   $8::boolean, $9, $10::boolean, $11::bytea) b";

static const char slot_put_sql[] =
	"SELECT a.view, a.created FROM hookgate.admin_destination_put($1::bigint, $2::inet, $4,"
	"   $3, $5::boolean, $6, $7::boolean, $8::bytea) a";

static const char rotate_sql[] =
	"SELECT hookgate.admin_destination_rotate($1::bigint, $2::inet, $3, $4, $5::bytea)";
// clang-format on

/* ---- shared with attempts.c and ping.c ---------------------------------------------------- */

const char *admin_endpoint_module(struct admin_ctx *ctx)
{
	static const struct {
		const char *prefix, *slot, *module;
	} slots[] = {
		{ "/admin/api/bots/", "incoming", "bot_incoming" },
		{ "/admin/api/bots/", "message", "bot_message" },
		{ "/admin/api/extensions/", "sandbox", "extension_sandbox" },
		{ "/admin/api/extensions/", "marketplace", "extension_marketplace" },
	};

	for (size_t i = 0; i < sizeof(slots) / sizeof(slots[0]); i++) {
		if (strncmp(ctx->req->path, slots[i].prefix, strlen(slots[i].prefix)) == 0 &&
		    strcmp(ctx->seg[1], slots[i].slot) == 0)
			return slots[i].module;
	}
	admin_reply_error(ctx, 404, "not_found", "no such endpoint");
	return NULL;
}

bool admin_endpoint_result(struct admin_ctx *ctx, PGresult *res)
{
	const char *state = admin_sqlstate(res);
	const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;

	if (strcmp(state, "HG010") == 0) {
		admin_reply_error(ctx, 404, "not_found", "no such bot or extension");
	} else if (strcmp(state, "HG011") == 0) {
		admin_reply_error(ctx, 404, "not_found", "no destination is set there");
	} else if (strcmp(state, "HG012") == 0) {
		/* The functions' own words, which quote no value. */
		admin_reply_error(ctx, 400, "invalid_request", msg ? msg : "invalid request");
	} else if (strncmp(state, "22", 2) == 0) {
		admin_reply_error(ctx, 400, "invalid_request",
				  "a value is not valid (times are ISO 8601)");
	} else {
		return admin_result(ctx, res, 1);
	}
	return false;
}

cJSON *admin_endpoint_json(struct admin_ctx *ctx, const PGresult *res, int col)
{
	cJSON *obj = cJSON_Parse(PQgetvalue(res, 0, col));

	if (obj == NULL)
		admin_reply_error(ctx, 500, "internal", "the database gave an unexpected answer");
	return obj;
}

/* ---- GET ------------------------------------------------------------------------------------ */

/* One row of JSON, or none: no such bot or extension of this user. */
static void json_done(PGresult *res, void *arg)
{
	struct admin_ctx *ctx = arg;
	cJSON *body;

	if (!admin_result(ctx, res, 0))
		return;
	if (PQntuples(res) != 1) {
		admin_reply_error(ctx, 404, "not_found", "no such bot or extension");
		return;
	}
	if ((body = admin_endpoint_json(ctx, res, 0)) != NULL)
		admin_reply(ctx, 200, body);
}

void admin_endpoints_list(struct admin_ctx *ctx)
{
	const char *params[] = { ctx->auth.user_id };

	admin_read(ctx, list_sql, 1, params, json_done);
}

void admin_endpoints_bot_get(struct admin_ctx *ctx)
{
	const char *params[] = { ctx->auth.user_id, ctx->seg[0] };

	admin_read(ctx, bot_get_sql, 2, params, json_done);
}

void admin_endpoints_slot_get(struct admin_ctx *ctx)
{
	const char *module = admin_endpoint_module(ctx);
	const char *params[] = { ctx->auth.user_id, ctx->seg[0], module };

	if (module)
		admin_read(ctx, slot_get_sql, 3, params, json_done);
}

/* ---- PUT ------------------------------------------------------------------------------------ */

/* What a PUT asks of one slot. */
struct slot_change {
	const char *key;     /* "incoming", "message": its member in a bot's PUT */
	const char *url_set; /* "true" when the body has "url" (then url NULL: delete) */
	const char *url;
	const char *enabled; /* "true", "false", or NULL: unchanged */
	bool has_secret;     /* a secret was made, for when the URL creates the destination */
	struct destination_secret secret;
};

struct put_state {
	struct slot_change slots[2];
	int nslots;
	cJSON *body; /* owns the strings above */
};

static void put_state_free(void *data)
{
	struct put_state *st = data;

	if (st == NULL)
		return;
	cJSON_Delete(st->body);
	OPENSSL_cleanse(st, sizeof(*st));
	free(st);
}

/* The "url" member: NULL (delete) or a URL the rule accepts; false answered 400. */
static bool slot_url(struct admin_ctx *ctx, const cJSON *url, struct slot_change *sc,
		     const char *module)
{
	const char *why;

	sc->url_set = "true";
	if (cJSON_IsNull(url))
		return true;
	if (!cJSON_IsString(url)) {
		admin_reply_error(ctx, 400, "invalid_url", "url is a string or null");
		return false;
	}
	if ((why = destination_url_problem(url->valuestring)) != NULL) {
		admin_reply_error(ctx, 400, "invalid_url", why);
		return false;
	}
	sc->url = url->valuestring;
	sc->has_secret = destination_secret_new(&ctx->w->keys, module, ctx->seg[0], &sc->secret);
	if (!sc->has_secret)
		admin_reply_error(ctx, 500, "internal", "cannot generate a signing secret");
	return sc->has_secret;
}

/* One slot's object {"url"?, "enabled"?} into sc; false answered 400. */
static bool slot_parse(struct admin_ctx *ctx, const cJSON *obj, struct slot_change *sc,
		       const char *module)
{
	if (!cJSON_IsObject(obj)) {
		admin_reply_error(ctx, 400, "invalid_request", "send {\"url\"?, \"enabled\"?}");
		return false;
	}
	for (const cJSON *m = obj->child; m != NULL; m = m->next) {
		if (strcmp(m->string, "url") == 0) {
			if (!slot_url(ctx, m, sc, module))
				return false;
		} else if (strcmp(m->string, "enabled") == 0 && cJSON_IsBool(m)) {
			sc->enabled = cJSON_IsTrue(m) ? "true" : "false";
		} else {
			admin_reply_error(ctx, 400, "invalid_request",
					  "a slot takes \"url\" (a string or null) and \"enabled\""
					  " (true or false)");
			return false;
		}
	}
	return true;
}

/* The destination object of column col, with the secret when column col + 1 says created. */
static cJSON *put_view(struct admin_ctx *ctx, const PGresult *res, int col,
		       const struct slot_change *sc)
{
	cJSON *view = admin_endpoint_json(ctx, res, col);

	if (view && strcmp(PQgetvalue(res, 0, col + 1), "t") == 0 && sc->has_secret)
		cJSON_AddStringToObject(view, "secret", sc->secret.text);
	return view;
}

static void put_done(PGresult *res, void *arg)
{
	struct admin_ctx *ctx = arg;
	struct put_state *st = ctx->data;
	cJSON *body = NULL, *view;

	if (!admin_endpoint_result(ctx, res))
		return;
	if (st->nslots == 1) {
		if ((body = put_view(ctx, res, 0, &st->slots[0])) != NULL)
			admin_reply(ctx, 200, body);
		return;
	}
	body = cJSON_CreateObject();
	for (int i = 0; i < st->nslots; i++) {
		if ((view = put_view(ctx, res, 2 * i, &st->slots[i])) == NULL) {
			cJSON_Delete(body);
			return;
		}
		cJSON_AddItemToObject(body, st->slots[i].key, view);
	}
	admin_reply(ctx, 200, body);
}

/* The body read into a new put_state owned by ctx; NULL when answered. */
static struct put_state *put_begin(struct admin_ctx *ctx)
{
	cJSON *body = admin_body_object(ctx);
	struct put_state *st = body ? calloc(1, sizeof(*st)) : NULL;

	if (body && st == NULL) {
		cJSON_Delete(body);
		admin_reply_error(ctx, 500, "internal", "out of memory");
		return NULL;
	}
	if (st) {
		st->body = body;
		ctx->data = st;
		ctx->data_free = put_state_free;
	}
	return st;
}

void admin_endpoints_bot_put(struct admin_ctx *ctx)
{
	static const char *const keys[] = { "incoming", "message" };
	static const char *const modules[] = { "bot_incoming", "bot_message" };
	struct put_state *st = put_begin(ctx);

	if (st == NULL)
		return;
	for (const cJSON *m = st->body->child; m != NULL; m = m->next) {
		if (strcmp(m->string, keys[0]) != 0 && strcmp(m->string, keys[1]) != 0) {
			admin_reply_error(ctx, 400, "invalid_request",
					  "send {\"incoming\"?: {...}, \"message\"?: {...}}");
			return;
		}
	}
	st->nslots = 2;
	for (int i = 0; i < 2; i++) {
		const cJSON *obj = cJSON_GetObjectItemCaseSensitive(st->body, keys[i]);

		st->slots[i].key = keys[i];
		st->slots[i].url_set = "false";
		if (obj && !slot_parse(ctx, obj, &st->slots[i], modules[i]))
			return;
	}
	const struct slot_change *a = &st->slots[0], *b = &st->slots[1];
	const char *params[] = { ctx->auth.user_id,
				 admin_client_inet(ctx),
				 ctx->seg[0],
				 a->url_set,
				 a->url,
				 a->enabled,
				 a->has_secret ? a->secret.sealed_text : NULL,
				 b->url_set,
				 b->url,
				 b->enabled,
				 b->has_secret ? b->secret.sealed_text : NULL };
	admin_query(ctx, bot_put_sql, 11, params, put_done);
}

void admin_endpoints_slot_put(struct admin_ctx *ctx)
{
	const char *module = admin_endpoint_module(ctx);
	struct put_state *st = module ? put_begin(ctx) : NULL;
	struct slot_change *sc;

	if (st == NULL)
		return;
	st->nslots = 1;
	sc = &st->slots[0];
	sc->url_set = "false";
	if (!slot_parse(ctx, st->body, sc, module))
		return;
	const char *params[] = {
		ctx->auth.user_id, admin_client_inet(ctx),
		ctx->seg[0],	   module,
		sc->url_set,	   sc->url,
		sc->enabled,	   sc->has_secret ? sc->secret.sealed_text : NULL
	};
	admin_query(ctx, slot_put_sql, 8, params, put_done);
}

/* ---- rotate-secret -------------------------------------------------------------------------- */

static void secret_free(void *data)
{
	if (data)
		OPENSSL_cleanse(data, sizeof(struct destination_secret));
	free(data);
}

static void rotate_done(PGresult *res, void *arg)
{
	struct admin_ctx *ctx = arg;
	struct destination_secret *s = ctx->data;
	cJSON *body;

	if (!admin_endpoint_result(ctx, res))
		return;
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "secret", s->text);
	cJSON_AddItemToObject(body, "previous_secret_until", admin_col_string(res, 0, 0));
	admin_reply(ctx, 200, body);
}

void admin_endpoints_rotate(struct admin_ctx *ctx)
{
	const char *module = admin_endpoint_module(ctx);
	struct destination_secret *s = module ? calloc(1, sizeof(*s)) : NULL;

	if (module == NULL)
		return;
	ctx->data = s;
	ctx->data_free = secret_free;
	if (s == NULL || !destination_secret_new(&ctx->w->keys, module, ctx->seg[0], s)) {
		admin_reply_error(ctx, 500, "internal", "cannot generate a signing secret");
		return;
	}
	const char *params[] = { ctx->auth.user_id, admin_client_inet(ctx), module, ctx->seg[0],
				 s->sealed_text };
	admin_query(ctx, rotate_sql, 5, params, rotate_done);
}
