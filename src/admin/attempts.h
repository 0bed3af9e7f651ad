/* SPDX-License-Identifier: Apache-2.0 */
/* admin_attempts: what became of deliveries, as the owners see it (docs/api-admin.md,
 * "Delivery") — a destination's attempts, newest first and keyset paged like the usage
 * history, the replay of a time range (audited), and one message's attempts for the owner of
 * the token that carried it. */
#ifndef HG_ADMIN_ATTEMPTS_H
#define HG_ADMIN_ATTEMPTS_H

#include "admin/util.h"

/* Handlers, run after admin_session_require(ADMIN_NEED_FULL). */
void admin_attempts_list(struct admin_ctx *ctx);
void admin_attempts_replay(struct admin_ctx *ctx);
void admin_attempts_message(struct admin_ctx *ctx);

#endif
