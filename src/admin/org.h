/* SPDX-License-Identifier: Apache-2.0 */
/* admin_org: organisation oversight of docs/api-admin.md — the token list of every user for
 * administrators, with search and filters (GET /admin/api/org/tokens), and the audit log, a
 * user's own events or, for an administrator, everyone's (GET /admin/api/audit), keyset-paged. */
#ifndef HG_ADMIN_ORG_H
#define HG_ADMIN_ORG_H

#include "admin/util.h"

/* Handlers, run after admin_session_require(ADMIN_NEED_FULL). */
void admin_org_tokens(struct admin_ctx *ctx);
void admin_org_audit(struct admin_ctx *ctx);

#endif
