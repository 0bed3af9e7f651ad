/* SPDX-License-Identifier: Apache-2.0 */
/* webhook_worker: a webhook worker process — the Cliq-compatible endpoints of docs/api-webhooks.md
 * on server.listen. */
#ifndef HG_WEBHOOK_WORKER_H
#define HG_WEBHOOK_WORKER_H

#include "proc/roles.h"

/* Runs in the forked child; returns the exit status. args->ratelimit is the table the master
 * shares between all webhook workers. */
int webhook_worker_main(const struct role_args *args);

#endif
