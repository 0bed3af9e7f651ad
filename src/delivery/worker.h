/* SPDX-License-Identifier: Apache-2.0 */
/* delivery_worker: the delivery worker process ("hookgated: delivery worker N"), which posts
 * stored messages to their destinations: first attempts from the feed while it holds the feed
 * lease, retries and parked deliveries claimed from hookgate.delivery_queue, every outcome
 * recorded in batches. It takes no listener. */
#ifndef HG_DELIVERY_WORKER_H
#define HG_DELIVERY_WORKER_H

#include "proc/roles.h"

/* Runs in the forked child; returns the exit status. */
int delivery_worker_main(const struct role_args *args);

#endif
