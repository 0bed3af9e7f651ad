/* SPDX-License-Identifier: Apache-2.0 */
/* admin_tokens: the token module of docs/api-admin.md — list, generate (409 token_limit from the
 * trigger's SQLSTATE), rename / enable / disable, soft delete, secret copy and the usage
 * history with keyset pagination — restricted to the session's own user (404 else), except that
 * an administrator may also disable, enable, delete and read the usage of any user's token
 * (never copy it, never rename it). */
#ifndef HG_ADMIN_TOKENS_H
#define HG_ADMIN_TOKENS_H

#include "admin/token_life.h"
#include "admin/util.h"

#define ADMIN_TOKEN_NAME_MAX_CHARS 64

/* The columns of a token in every answer, in admin_token_json's order: t names the token row, c
 * its exact counters (hookgate.token_counts; webhook_tokens' own columns lag up to a fold). */
#define TOKEN_COLS(t, c)                                                                           \
	t "public_id, " t "name, " c                                                               \
	  "invocations, " ADMIN_SQL_TIME(c "last_invoked_at") ", " t "status, " ADMIN_SQL_TIME(    \
		  t "created_at") ", " t                                                           \
				  "disabled_reason, " ADMIN_SQL_TIME(                              \
					  t "disabled_at") ", " TOKEN_LIFE_COLS(t)
#define TOKEN_BASE_NCOLS 8 /* then the TOKEN_LIFE_COLS */
#define TOKEN_NCOLS (TOKEN_BASE_NCOLS + TOKEN_LIFE_NCOLS)
#define TOKEN_COUNTS_JOIN(t) " JOIN hookgate.token_counts c ON c.token_id = " t "id"

/* The latest usage row of token t (index token_usage_page): where it was last used from. */
#define LAST_USED_COLS ADMIN_SQL_TIME("lu.at") ", host(lu.client_addr), lu.user_agent"
#define LAST_USED_JOIN(t)                                                                          \
	" LEFT JOIN LATERAL (SELECT u.at, u.client_addr, u.user_agent FROM hookgate.token_usage u" \
	" WHERE u.token_id = " t "id ORDER BY u.at DESC, u.seq DESC LIMIT 1) lu ON true"

/* A token as docs/api-admin.md shows it, from the columns of TOKEN_COLS. */
cJSON *admin_token_json(const PGresult *res, int row);

/* Handlers, run after admin_session_require(ADMIN_NEED_FULL); ctx->token_id holds {id}. */
void admin_tokens_list(struct admin_ctx *ctx);
void admin_tokens_create(struct admin_ctx *ctx);
void admin_tokens_update(struct admin_ctx *ctx);
void admin_tokens_delete(struct admin_ctx *ctx);
void admin_tokens_secret(struct admin_ctx *ctx);
void admin_tokens_usage(struct admin_ctx *ctx);

/* Adds last_used_at, last_client_addr and last_user_agent to token (returned) from the three
 * columns of LAST_USED_COLS at col. */
cJSON *admin_token_last_used(cJSON *token, const PGresult *res, int row, int col);

/* Keyset paging as the usage history does it: limit (1-200, default 50) and before (a cursor
 * "<at>|<seq>" in unpadded base64url) from the query string; at and seq get the cursor's parts
 * ("" without one; ADMIN_CURSOR_TEXT_MAX bytes each). false: answered 400. */
bool admin_page_params(struct admin_ctx *ctx, int *limit, char *at, char *seq);
/* "next": the cursor text (at|seq of the last row shown) encoded, or null for "". */
void admin_page_next(cJSON *body, const char *cursor);
/* A page's statement refused the cursor's values (SQLSTATE class 22: a cursor of the right
 * shape can still name an impossible date, month 13): true once answered 400. */
bool admin_page_cursor_refused(struct admin_ctx *ctx, const PGresult *res);
#define ADMIN_CURSOR_TEXT_MAX 64

/* Opens a sealed secret (token: aad "token:<public_id>", appkey: "appkey:<app_id>") from a
 * bytea column into out (NUL-terminated, exactly want_len characters). */
bool admin_open_secret(const struct admin_ctx *ctx, const char *aad_prefix, const char *row_id,
		       const PGresult *res, int row, int col, char *out, size_t want_len);

#endif
