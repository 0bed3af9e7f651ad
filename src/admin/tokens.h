/* SPDX-License-Identifier: Apache-2.0 */
/* admin_tokens: the token module of docs/api-admin.md — list, generate (409 token_limit from the
 * trigger's SQLSTATE), rename / enable / disable, soft delete, secret copy and the usage
 * history with keyset pagination — always restricted to the session's own user (404 else). */
#ifndef HG_ADMIN_TOKENS_H
#define HG_ADMIN_TOKENS_H

#include "admin/util.h"

#define ADMIN_TOKEN_NAME_MAX_CHARS 64

/* Handlers, run after admin_session_require(ADMIN_NEED_FULL); ctx->token_id holds {id}. */
void admin_tokens_list(struct admin_ctx *ctx);
void admin_tokens_create(struct admin_ctx *ctx);
void admin_tokens_update(struct admin_ctx *ctx);
void admin_tokens_delete(struct admin_ctx *ctx);
void admin_tokens_secret(struct admin_ctx *ctx);
void admin_tokens_usage(struct admin_ctx *ctx);

/* Opens a sealed secret (token: aad "token:<public_id>", appkey: "appkey:<app_id>") from a
 * bytea column into out (NUL-terminated, exactly want_len characters). */
bool admin_open_secret(const struct admin_ctx *ctx, const char *aad_prefix, const char *row_id,
		       const PGresult *res, int row, int col, char *out, size_t want_len);

#endif
