/* SPDX-License-Identifier: Apache-2.0 */
/* admin_login: the two-step login of docs/api-admin.md — password (checked off the loop by
 * admin_pwcheck), then a TOTP code, a recovery code or the enrollment of a new factor — with
 * lockout and audit rows, and GET /admin/api/session and POST /admin/api/logout. */
#ifndef HG_ADMIN_LOGIN_H
#define HG_ADMIN_LOGIN_H

#include "admin/util.h"

/* POST /admin/api/login: no session needed. */
void admin_login_password(struct admin_ctx *ctx);
/* The rest run after admin_session_require (pre-2FA for the code steps, full for session,
 * any for logout). */
void admin_login_totp(struct admin_ctx *ctx);
void admin_login_recovery(struct admin_ctx *ctx);
void admin_login_session(struct admin_ctx *ctx);
void admin_login_logout(struct admin_ctx *ctx);

#endif
