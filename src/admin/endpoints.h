/* SPDX-License-Identifier: Apache-2.0 */
/* admin_endpoints: the destinations of the user's bots and extensions (docs/api-admin.md,
 * "Delivery") — the list with what needs attention, GET and PUT of a bot's two slots and of an
 * extension environment's, the secret shown once on creation and on rotation — and what the
 * other delivery handlers (attempts, ping) share: which destination a path names and how the
 * delivery functions' errors are answered. */
#ifndef HG_ADMIN_ENDPOINTS_H
#define HG_ADMIN_ENDPOINTS_H

#include "admin/util.h"

/* Handlers, run after admin_session_require(ADMIN_NEED_FULL). */
void admin_endpoints_list(struct admin_ctx *ctx);
void admin_endpoints_bot_get(struct admin_ctx *ctx);
void admin_endpoints_bot_put(struct admin_ctx *ctx);
void admin_endpoints_slot_get(struct admin_ctx *ctx);
void admin_endpoints_slot_put(struct admin_ctx *ctx);
void admin_endpoints_rotate(struct admin_ctx *ctx);

/* The destinations.module of a …/bots/{name}/endpoints/{incoming|message}… or
 * …/extensions/{name}/endpoints/{env}… path (the name is ctx->seg[0]); NULL, answered 404,
 * for another slot. */
const char *admin_endpoint_module(struct admin_ctx *ctx);
/* admin_result for the statements of sql/005_admin_delivery.sql: their SQLSTATEs HG010 and
 * HG011 answer 404, HG012 and bad values (class 22) 400 invalid_request. */
bool admin_endpoint_result(struct admin_ctx *ctx, PGresult *res);
/* The first column of the first row, JSON text, parsed; NULL answered 500. */
cJSON *admin_endpoint_json(struct admin_ctx *ctx, const PGresult *res, int col);

#endif
