/* SPDX-License-Identifier: Apache-2.0 */
/* admin_util: see admin_util.h. */
#include "admin/util.h"
#include "admin/reads.h"
#include "lib/encoding.h"
#include "http/media.h"
#include "http/reply.h"
#include "lib/jsontext.h"
#include "lib/percent.h"
#include "core/log.h"
#include "core/schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

struct admin_ctx *admin_ctx_new(struct worker *w, struct http_request *req)
{
	struct admin_ctx *ctx = calloc(1, sizeof(*ctx));

	if (ctx == NULL)
		return NULL;
	ctx->w = w;
	ctx->req = req;
	return ctx;
}

void admin_ctx_free(struct admin_ctx *ctx)
{
	if (ctx->data_free)
		ctx->data_free(ctx->data);
	else
		free(ctx->data);
	free(ctx);
}

void admin_add_header(struct admin_ctx *ctx, const char *name, const char *value)
{
	http_add_header(ctx->req, name, value);
}

/* Nothing the admin API answers may be kept by a cache: sessions, secrets, codes. */
static void no_store(struct http_request *req)
{
	http_add_header(req, "Cache-Control", "no-store");
}

/* A change acknowledged to a signed-in user: that user's next reads must see it
 * (admin/reads.h). Before the answer leaves, so that no later read can miss it. */
static void note_write(struct admin_ctx *ctx, int status)
{
	enum http_method m = ctx->req->method;

	if (status >= 200 && status < 300 && m != HTTP_METHOD_GET && m != HTTP_METHOD_HEAD &&
	    ctx->auth.user_id[0])
		admin_reads_wrote(ctx);
}

void admin_reply(struct admin_ctx *ctx, int status, cJSON *body)
{
	if (body != NULL)
		note_write(ctx, status);
	no_store(ctx->req);
	if (body == NULL)
		http_respond_error(ctx->req, 500, "internal", "out of memory");
	else
		http_reply_json(ctx->req, status, body);
	cJSON_Delete(body);
	admin_ctx_free(ctx);
}

void admin_reply_error(struct admin_ctx *ctx, int status, const char *code, const char *message)
{
	no_store(ctx->req);
	http_respond_error(ctx->req, status, code, message);
	admin_ctx_free(ctx);
}

void admin_reply_empty(struct admin_ctx *ctx, int status)
{
	note_write(ctx, status);
	no_store(ctx->req);
	http_respond(ctx->req, status, NULL, NULL, 0);
	admin_ctx_free(ctx);
}

static void reply_unavailable(struct admin_ctx *ctx, const char *message)
{
	no_store(ctx->req);
	http_reply_unavailable(ctx->req, message);
	admin_ctx_free(ctx);
}

void admin_reply_unavailable(struct admin_ctx *ctx)
{
	reply_unavailable(ctx, "the database is not available");
}

bool admin_query(struct admin_ctx *ctx, const char *sql, int nparams, const char *const *params,
		 db_result_cb cb)
{
	if (db_query(ctx->w->db, sql, nparams, params, ADMIN_DB_TIMEOUT_MS, cb, ctx))
		return true;
	admin_reply_unavailable(ctx);
	return false;
}

const char *admin_sqlstate(const PGresult *res)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	return state ? state : "";
}

/* Answers a statement that failed with an error: 503 when the SQLSTATE says the database cannot
 * serve now (class 08 connection, 53 resources, 57 shutdown or cancel, 58 I/O) or gave the
 * statement up on a conflict (40: deadlock, serialization), 500 when it refused the statement
 * (a bug: bad data, a constraint, a function's exception). */
static void reply_db_error(struct admin_ctx *ctx, const PGresult *res)
{
	const char *state = admin_sqlstate(res);
	/* The primary message only: the detail may quote parameter values. */
	const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

	if (strcmp(state, HG_SQLSTATE_TOKEN_EXPOSED) == 0) {
		/* Not a failure: the token's state refuses it (sql/011_exposed_tokens.sql). */
		admin_reply_error(ctx, 409, "token_exposed", msg ? msg : "rotate the token first");
		return;
	}
	log_error("admin: database error %s: %s", state, msg ? msg : "");
	if (strncmp(state, "08", 2) == 0 || strncmp(state, "53", 2) == 0 ||
	    strncmp(state, "57", 2) == 0 || strncmp(state, "58", 2) == 0) {
		admin_reply_unavailable(ctx);
	} else if (strncmp(state, "40", 2) == 0) {
		reply_unavailable(ctx, "the database gave the request up on a conflict with "
				       "another one: try again");
	} else {
		admin_reply_error(ctx, 500, "internal", "the database refused the request");
	}
}

bool admin_result(struct admin_ctx *ctx, PGresult *res, int min_rows)
{
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;

	if (res && (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) && PQntuples(res) >= min_rows)
		return true;
	if (res && (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)) {
		log_error("admin: a statement returned %d row(s), expected %d", PQntuples(res),
			  min_rows);
		admin_reply_error(ctx, 500, "internal", "the database gave an unexpected answer");
	} else if (res) {
		reply_db_error(ctx, res);
	} else {
		/* The connection failed, or no answer came within ADMIN_DB_TIMEOUT_MS. */
		admin_reply_unavailable(ctx);
	}
	return false;
}

bool admin_result_one_token(struct admin_ctx *ctx, PGresult *res)
{
	if (!admin_result(ctx, res, 0))
		return false;
	if (PQntuples(res) == 1)
		return true;
	admin_reply_error(ctx, 404, "not_found", "no such token");
	return false;
}

/* One Content-Type, "application/json", optionally with parameters ("; charset=utf-8"). */
bool admin_body_is_json(const struct http_request *req)
{
	int count;
	const char *type = http_header(req, "Content-Type", &count);

	return count == 1 && http_media_type_is(type, "application/json", NULL);
}

/* Readers disagree on which of two equal names counts (cJSON takes the first, most others the
 * last), so an object that repeats one is refused. Admin bodies have a few members. */
static bool member_repeated(const cJSON *obj)
{
	for (const cJSON *a = obj->child; a != NULL; a = a->next)
		for (const cJSON *b = a->next; b != NULL; b = b->next)
			if (strcmp(a->string, b->string) == 0)
				return true;
	return false;
}

cJSON *admin_body_object(struct admin_ctx *ctx)
{
	const struct http_request *req = ctx->req;
	cJSON *obj;

	if (!admin_body_is_json(req)) {
		admin_reply_error(ctx, 415, "unsupported_media_type",
				  "send a JSON object with Content-Type: application/json");
		return NULL;
	}
	/* The strict rules of webhook bodies first: cJSON alone reads "ab\u0000cd" as "ab". */
	const char *why = jsontext_check((const char *)req->body, req->body_len);
	if (why != NULL || (obj = cJSON_ParseWithOpts((const char *)req->body, NULL, 1)) == NULL) {
		admin_reply_error(ctx, 400, "invalid_request", why ? why : JSONTEXT_NOT_JSON);
		return NULL;
	}
	if (!cJSON_IsObject(obj)) {
		cJSON_Delete(obj);
		admin_reply_error(ctx, 400, "invalid_request", "the body must be a JSON object");
		return NULL;
	}
	if (member_repeated(obj)) {
		cJSON_Delete(obj);
		admin_reply_error(ctx, 400, "invalid_request", "a member is given more than once");
		return NULL;
	}
	return obj;
}

const char *admin_json_string(const cJSON *obj, const char *key, bool *bad)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (item == NULL || cJSON_IsNull(item))
		return NULL;
	if (!cJSON_IsString(item)) {
		*bad = true;
		return NULL;
	}
	return item->valuestring;
}

cJSON *admin_col_string(const PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return cJSON_CreateNull();
	return cJSON_CreateString(PQgetvalue(res, row, col));
}

cJSON *admin_col_number(const PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return cJSON_CreateNull();
	return cJSON_CreateNumber(strtod(PQgetvalue(res, row, col), NULL));
}

cJSON *admin_row_object(const PGresult *res, int row, const struct admin_member *members, size_t n)
{
	cJSON *obj = cJSON_CreateObject();

	for (size_t i = 0; obj != NULL && i < n; i++) {
		const struct admin_member *m = &members[i];
		cJSON_AddItemToObject(obj, m->name,
				      m->number ? admin_col_number(res, row, m->col)
						: admin_col_string(res, row, m->col));
	}
	return obj;
}

bool admin_col_bytea(const PGresult *res, int row, int col, unsigned char *out, size_t outlen,
		     size_t *len)
{
	const char *text = PQgetvalue(res, row, col);
	size_t tl = strlen(text);

	if (PQgetisnull(res, row, col) || tl < 2 || text[0] != '\\' || text[1] != 'x' ||
	    (tl - 2) % 2 != 0 || (tl - 2) / 2 > outlen)
		return false;
	*len = (tl - 2) / 2;
	return hex_decode(text + 2, tl - 2, out, outlen);
}

const char *admin_client_inet(const struct admin_ctx *ctx)
{
	const char *addr = ctx->req->client_addr;
	unsigned char buf[sizeof(struct in6_addr)];

	if (inet_pton(AF_INET, addr, buf) == 1 || inet_pton(AF_INET6, addr, buf) == 1)
		return addr;
	return NULL;
}

void admin_interval(int64_t ms, char *out, size_t outlen)
{
	snprintf(out, outlen, "%lld milliseconds", (long long)ms);
}

enum admin_param admin_query_param(const char *query, const char *name, char *out, size_t outlen)
{
	size_t nl = strlen(name);
	enum admin_param found = ADMIN_PARAM_ABSENT;

	for (const char *p = query; p && *p;) {
		const char *amp = strchr(p, '&');
		const char *end = amp ? amp : p + strlen(p);

		if ((size_t)(end - p) > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
			size_t n;
			if (found != ADMIN_PARAM_ABSENT ||
			    percent_decode(p + nl + 1, (size_t)(end - p) - nl - 1,
					   PERCENT_PLUS_SPACE, out, outlen, &n) != PERCENT_OK ||
			    n >= outlen)
				return ADMIN_PARAM_BAD;
			found = ADMIN_PARAM_OK;
		} else if ((size_t)(end - p) == nl && strncmp(p, name, nl) == 0) {
			return ADMIN_PARAM_BAD; /* "name" without a value */
		}
		p = amp ? amp + 1 : NULL;
	}
	return found;
}
