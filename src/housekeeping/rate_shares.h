/* SPDX-License-Identifier: Apache-2.0 */
/* rate_shares: this node's place among the hookgated that share limits.token_rate
 * (docs/decisions/0015-rate-shares.md). Every RATE_SHARES_BEAT_MS it marks the node seen in
 * hookgate.rate_shares and reads back how many nodes were seen in the last RATE_SHARES_LIVE_MS;
 * the shared rate-limit table (proc/ratelimit.h) then enforces that share of the limit. It runs
 * in the housekeeping process, on every node whether it leads or not, on a connection of its
 * own, so that a long job of the leader never delays a beat. */
#ifndef HG_RATE_SHARES_H
#define HG_RATE_SHARES_H

#include <stdint.h>

#include <event2/event.h>

#include "core/config.h"

#define RATE_SHARES_BEAT_MS 300
#define RATE_SHARES_LIVE_MS 2000
#define RATE_SHARES_APPLICATION_NAME "hookgated rate shares"

struct rate_shares;
struct ratelimit;

/* Starts the beats on base for node_id, setting rl's number of nodes from their answers. NULL
 * when out of memory. */
struct rate_shares *rate_shares_new(struct event_base *base, const struct hg_config *cfg,
				    struct ratelimit *rl, int64_t node_id);
/* Stops the beats; the node's row then ages out of the others' count. */
void rate_shares_free(struct rate_shares *rs);

#endif
