/* ratelimit: the per-token rate limit of limits.token_rate/token_burst, shared by all webhook
 * workers. The master maps one anonymous shared region before forking; in it, a fixed
 * open-addressed table of token buckets, each guarded by its own spinlock of C11 atomics. */
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

/* One call of token_id at now_us (CLOCK_MONOTONIC, µs): true if allowed. Otherwise
 * *retry_after_s (may be NULL) gets the whole seconds until one call will be allowed (>= 1).
 * rate <= 0 (limit off) allows without touching the table; burst < 1 counts as 1.
 * When every slot a token may use is held by another token with calls in the last burst/rate
 * seconds, the call is allowed: refusing a caller for want of table room would be worse than
 * a short unlimited spell, and the table is sized so that this needs far more busy tokens
 * than a gateway serves. */
bool ratelimit_take(struct ratelimit *rl, int64_t token_id, double rate, int burst, int64_t now_us,
		    int *retry_after_s);

#endif
