/* SPDX-License-Identifier: Apache-2.0 */
/* housekeeping_worker: the housekeeping process ("hookgated: housekeeping", README "Housekeeping"),
 * which runs every singleton and periodic job on the schema — the counter fold, usage
 * partitions and retention, the dead-row watch, pruning idempotency keys and sessions — while it
 * leads: one process at a time across every hookgated on the database holds the lease
 * (pg/lease.h). On every node, leading or not, it also keeps the node's share of the rate
 * limits (housekeeping/rate_shares.h). It takes no listener. */
#ifndef HG_HOUSEKEEPING_WORKER_H
#define HG_HOUSEKEEPING_WORKER_H

#include "proc/roles.h"

/* Runs in the forked child; returns the exit status. */
int housekeeping_main(const struct role_args *args);

#endif
