/* SPDX-License-Identifier: Apache-2.0 */
/* admin_token_life: a token's lifecycle in the admin API (docs/api-admin.md, "Token
 * lifecycle"): rotation with a grace period, expiry (within security.max_token_lifetime) and
 * the source and target limits, through the functions of sql/009_token_lifecycle.sql, which
 * audit each change; and the columns every token answer shows of them. */
#ifndef HG_ADMIN_TOKEN_LIFE_H
#define HG_ADMIN_TOKEN_LIFE_H

#include "admin/util.h"

/* The columns token_life_json reads, appended to a token's (t: the token row's prefix). */
#define TOKEN_LIFE_COLS(t)                                                                         \
	ADMIN_SQL_TIME(t "expires_at")                                                             \
	", (" t "expires_at <= now())::text, (" t "expires_at > now() AND " t                      \
	"expires_at <= now() + interval '7 days')::text, to_json(" t                               \
	"networks::text[])::text, to_json(" t "targets)::text, " t                                 \
	"generation, " ADMIN_SQL_TIME(t "previous_until")
#define TOKEN_LIFE_NCOLS 7

/* Adds expires_at, expired, expiring_soon, networks, targets, generation and previous_until
 * from the TOKEN_LIFE_COLS starting at col. */
void token_life_json(cJSON *obj, const PGresult *res, int row, int col);

/* POST /admin/api/tokens/{id}/rotate {"grace":"24h"} and PUT /admin/api/tokens/{id}/limits. */
void admin_tokens_rotate(struct admin_ctx *ctx);
void admin_tokens_limits(struct admin_ctx *ctx);

/* security.max_token_lifetime as an interval parameter ("86400 seconds"), NULL when unlimited. */
const char *token_life_max_param(const struct admin_ctx *ctx, char *buf, size_t len);

#endif
