/* SPDX-License-Identifier: Apache-2.0 */
/* admin_util: what every admin API handler shares — the per-request context, JSON in and out
 * (docs/api-admin.md shapes, Cache-Control: no-store), database calls that answer failures by
 * themselves, text rules (token names), query-string parameters, bytea and time formats. */
#ifndef HG_ADMIN_UTIL_H
#define HG_ADMIN_UTIL_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>
#include <libpq-fe.h>

#include "core/crypto.h"
#include "lib/encoding.h"
#include "http/server.h"
#include "core/token.h"
#include "proc/worker.h"

#define ADMIN_DB_TIMEOUT_MS 5000
#define ADMIN_ACTOR "admin-api"
/* RFC 3339 UTC text of a timestamptz column, NULL stays NULL. */
#define ADMIN_SQL_TIME(col)                                                                        \
	"to_char((" col ") AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
#define ADMIN_ID_MAX 24
#define ADMIN_LOGIN_MAX 65
#define ADMIN_DISPLAY_MAX 801 /* 200 characters of up to 4 bytes */
#define ADMIN_TIME_MAX 32
/* The "*" segments of a route's path: a token id, a bot or extension name, a slot. */
#define ADMIN_SEGMENTS 2
#define ADMIN_SEGMENT_MAX 72

struct admin_ping;
struct admin_reads;
struct admin_pwcheck;
struct ratelimit;

/* The admin worker's own state (worker.role). */
struct admin_role {
	struct admin_pwcheck *pwcheck;
	struct ratelimit *login_budget; /* password checks per client address */
	struct ratelimit *refusal_log;	/* a log line per address and minute of 429s */
	int64_t busy_logged_us;		/* when a full password-check queue was last logged */
	struct admin_ping *ping;	/* test pings to destinations (admin/ping.h) */
	struct admin_reads *reads;	/* the standby's pool (admin/reads.h); NULL: none */
};

/* Who is asking, as the session look-up found it. */
struct admin_auth {
	char user_id[ADMIN_ID_MAX];
	char login[ADMIN_LOGIN_MAX];
	char display_name[ADMIN_DISPLAY_MAX];
	char expires_at[ADMIN_TIME_MAX];
	bool full;     /* a 2FA session; false: pre-2FA */
	bool is_admin; /* users.is_admin: oversees every user's tokens (admin/org.h) */
	bool has_csrf;
	unsigned char csrf_hash[CRYPTO_HASH_LEN];
	char id_hash_text[BYTEA_TEXT_MAX(CRYPTO_HASH_LEN)]; /* the session's id_hash */
};

/* One admin request while it waits for the database. Allocated by the router, freed (with
 * admin_ctx_free) by whichever callback answers. */
struct admin_ctx {
	struct worker *w;
	struct http_request *req;
	struct admin_auth auth;
	char token_id[TOKEN_PUBLIC_ID_LEN + 1];	     /* {id} of /admin/api/tokens/{id}/... */
	char seg[ADMIN_SEGMENTS][ADMIN_SEGMENT_MAX]; /* the path's "*" segments, in order */
	void *data;				     /* the handler's own state; free()d */
	void (*data_free)(void *data);		     /* when data needs more than free() */
	void (*next)(struct admin_ctx *ctx);	     /* what runs once the session is checked */
	void (*handler)(struct admin_ctx *ctx);	     /* the route's handler (admin_worker) */
	int need;				     /* enum admin_need of admin/session.h */
};

typedef void (*admin_handler)(struct admin_ctx *ctx);

struct admin_ctx *admin_ctx_new(struct worker *w, struct http_request *req);
void admin_ctx_free(struct admin_ctx *ctx);

/* Answers and frees ctx. admin_reply takes ownership of body (NULL: out of memory, 500). */
void admin_reply(struct admin_ctx *ctx, int status, cJSON *body);
void admin_reply_error(struct admin_ctx *ctx, int status, const char *code, const char *message);
void admin_reply_empty(struct admin_ctx *ctx, int status);
void admin_reply_unavailable(struct admin_ctx *ctx);
void admin_add_header(struct admin_ctx *ctx, const char *name, const char *value);

/* Queues a statement whose callback gets ctx. When no connection is up it answers 503, frees
 * ctx and returns false. */
bool admin_query(struct admin_ctx *ctx, const char *sql, int nparams, const char *const *params,
		 db_result_cb cb);
/* For callbacks: true when res is a good result with at least min_rows rows. Otherwise answers
 * and frees ctx: 503 when there is no result or the database cannot serve now, 500 when it
 * refused the statement or gave fewer rows (logged, errors by SQLSTATE). */
bool admin_result(struct admin_ctx *ctx, PGresult *res, int min_rows);
/* For statements on one token of the signed-in user: true when res is good and holds exactly
 * one row. Otherwise answers as admin_result or 404 not_found (no such token, deleted,
 * or another user's) and frees ctx. */
bool admin_result_one_token(struct admin_ctx *ctx, PGresult *res);
/* The SQLSTATE of a failed result ("" if none). */
const char *admin_sqlstate(const PGresult *res);

/* Whether the request has one Content-Type, application/json (parameters allowed). */
bool admin_body_is_json(const struct http_request *req);
/* The body as a JSON object: answers 415 (not application/json) or 400 invalid_request (not
 * JSON text by jsontext.h's strict rules — so no \u0000 —, not an object, a member repeated),
 * frees ctx and returns NULL. */
cJSON *admin_body_object(struct admin_ctx *ctx);
/* A string member, NULL when absent; *bad is set when present with another type. */
const char *admin_json_string(const cJSON *obj, const char *key, bool *bad);

/* A value of the result, or JSON null for SQL NULL. */
cJSON *admin_col_string(const PGresult *res, int row, int col);
cJSON *admin_col_number(const PGresult *res, int row, int col);
/* One member of a result row's JSON object: its name, its column, and whether that column is
 * a number (else text). */
struct admin_member {
	const char *name;
	int col;
	bool number;
};
/* The object of a row's members, in the order given. */
cJSON *admin_row_object(const PGresult *res, int row, const struct admin_member *members, size_t n);
/* Decodes a bytea column (hex output format) into out; false on NULL or a bad value. */
bool admin_col_bytea(const PGresult *res, int row, int col, unsigned char *out, size_t outlen,
		     size_t *len);
/* The client address as an inet parameter: NULL when it is not an IP address. */
const char *admin_client_inet(const struct admin_ctx *ctx);
/* "N milliseconds": an interval parameter. */
void admin_interval(int64_t ms, char *out, size_t outlen);

enum admin_param { ADMIN_PARAM_ABSENT, ADMIN_PARAM_OK, ADMIN_PARAM_BAD };
/* The percent-decoded value of name in a query string. BAD: repeated, bad escape, a NUL, or
 * longer than outlen - 1. */
enum admin_param admin_query_param(const char *query, const char *name, char *out, size_t outlen);

#endif
