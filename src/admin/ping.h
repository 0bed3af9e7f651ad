/* SPDX-License-Identifier: Apache-2.0 */
/* admin_ping: "Send test event" (docs/api-admin.md, "Delivery"): one signed hookgate.ping POST
 * to a destination, sent from the admin worker's own loop through the delivery workers' HTTP
 * client (delivery/post.h) with the same address policy and time-outs, its answer returned to
 * the caller. At most one test per destination is in flight in a worker, and each user has a
 * small budget of tests. */
#ifndef HG_ADMIN_PING_H
#define HG_ADMIN_PING_H

#include "admin/util.h"

/* The worker's ping state: the HTTP client on w's loop, the network policy of
 * delivery.allow_networks, the per-user budget. NULL after logging why. */
struct admin_ping *admin_ping_new(struct worker *w);
/* Tests still in flight are dropped unanswered (the worker is stopping). */
void admin_ping_free(struct admin_ping *p);

/* POST …/{slot}/test, run after admin_session_require(ADMIN_NEED_FULL). */
void admin_ping_send(struct admin_ctx *ctx);

#endif
