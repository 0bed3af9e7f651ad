/* SPDX-License-Identifier: Apache-2.0 */
/* admin_modules: what a user's tokens can reach (GET /admin/api/modules: channels they are a
 * member of, bots they own or are subscribed to, extensions they own) and "Get Webhook URL"
 * for each of them, built from server.public_url with the token (and an extension's appkey). */
#ifndef HG_ADMIN_MODULES_H
#define HG_ADMIN_MODULES_H

#include "admin/util.h"

/* Run after admin_session_require(ADMIN_NEED_FULL); ctx->token_id holds {id}. */
void admin_modules_list(struct admin_ctx *ctx);
void admin_modules_webhook_url(struct admin_ctx *ctx);

#endif
