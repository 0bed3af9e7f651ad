/* SPDX-License-Identifier: Apache-2.0 */
/* ratelimit: token buckets in a fixed open-addressed table, each guarded by its own spinlock of
 * C11 atomics, keyed by a 64-bit id. The per-token rate limit of limits.token_rate/token_burst
 * is one, shared by all webhook workers: the master maps the table (an anonymous shared region)
 * before forking. A table may stand for one node's share of a limit held by several nodes
 * (ratelimit_set_nodes, docs/decisions/0015-rate-shares.md). The admin worker keeps its own,
 * keyed by client address (ratelimit_addr_key), for security.login_rate/login_burst. */
#ifndef HG_RATELIMIT_H
#define HG_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ratelimit;

/* Room for at least slots distinct tokens (the table gets twice that, to a power of two: 32
 * bytes a slot). NULL when mmap fails (errno set). Call it before fork(): children inherit
 * the mapping at the same address. */
struct ratelimit *ratelimit_create(size_t slots);
void ratelimit_destroy(struct ratelimit *rl);

/* The part of a limit of rate calls/s and burst calls that each of nodes nodes enforces: rate /
 * nodes, and burst / nodes rounded up, at least 1. nodes 0 counts as 1. Pure, for the tests. */
struct ratelimit_share {
	double rate;
	int burst;
};
struct ratelimit_share ratelimit_share(double rate, int burst, unsigned nodes);

/* How many nodes share the limits this table enforces (1, the default, for a table of its
 * own). Set by one process, read by every ratelimit_take: an atomic in the table's region. */
void ratelimit_set_nodes(struct ratelimit *rl, unsigned nodes);
unsigned ratelimit_nodes(const struct ratelimit *rl);

/* One call of token_id at now_us (CLOCK_MONOTONIC, µs): true if allowed. Otherwise
 * *retry_after_s (may be NULL) gets the whole seconds until one call will be allowed (>= 1).
 * rate <= 0 (limit off) allows without touching the table; burst < 1 counts as 1. rate and
 * burst are the whole limit: the table enforces its share of them (ratelimit_share).
 * When every slot a token may use is held by another token with calls in the last burst/rate
 * seconds, the call is allowed: refusing a caller for want of table room would be worse than
 * a short unlimited spell, and the table is sized so that this needs far more busy tokens
 * than a gateway serves. */
bool ratelimit_take(struct ratelimit *rl, int64_t token_id, double rate, int burst, int64_t now_us,
		    int *retry_after_s);

/* The key of a client address as http.h writes it ("203.0.113.7", "2001:db8::1"): an IPv4
 * address alone (also when written ::ffff:203.0.113.7), an IPv6 address by its /64, since a
 * host or a site is given a whole /64 and uses any address in it at will. IPv4 keys are below
 * 2^32; the IPv6 prefixes that share them lie in ::/32, which is reserved (its ::1 shares key 0
 * with 0.0.0.0, which never connects). Anything else (a Unix socket's "local") is 0 too. */
int64_t ratelimit_addr_key(const char *addr);

#endif
