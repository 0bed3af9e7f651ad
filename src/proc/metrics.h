/* SPDX-License-Identifier: Apache-2.0 */
/* metrics: the counters and gauges every hookgated process keeps for GET /metrics
 * (docs/operations.md, "Metrics"), in one anonymous shared region that the master maps before
 * forking, like the rate-limit table. Each process writes only its own slot, with relaxed
 * atomics and no lock; a scrape sums the slots. A slot outlives its process: the next process
 * takes it over with its counters, so a restarted worker does not reset the totals. */
#ifndef HG_METRICS_H
#define HG_METRICS_H

#include <stdbool.h>
#include <stdint.h>

/* Label values, fixed at compile time so that a slot is a plain array (metrics_text.c names
 * them). Anything not listed counts under "other". */
enum metrics_module {
	METRICS_MODULE_CHANNEL,
	METRICS_MODULE_BOT_INCOMING,
	METRICS_MODULE_BOT_MESSAGE,
	METRICS_MODULE_EXTENSION,
	METRICS_MODULE_NONE, /* refused before its endpoint was known */
	METRICS_MODULES
};
#define METRICS_STATUSES 13 /* 12 listed HTTP statuses and "other" */
#define METRICS_CODES 14    /* 13 listed refusal codes and "other" */
enum metrics_cache { METRICS_CACHE_HIT, METRICS_CACHE_MISS, METRICS_CACHE_NEGATIVE_HIT };
#define METRICS_CACHE_RESULTS 3
#define METRICS_OUTCOMES 7 /* delivery outcomes: six and "other" */
#define METRICS_ROLES 8	   /* worker restarts, by the role's index in the role table */

enum metrics_hist_kind {
	METRICS_HIST_BATCH_SIZE,       /* calls */
	METRICS_HIST_BATCH_LATENCY,    /* µs: the batch statement, sent to answered */
	METRICS_HIST_COMMIT_WAIT,      /* µs: a call, from its request to its commit */
	METRICS_HIST_DELIVERY_LATENCY, /* µs: one delivery attempt */
	METRICS_HISTS
};
#define METRICS_BUCKETS 12 /* at most, +Inf included */

enum metrics_gauge {
	METRICS_GAUGE_CALLS_IN_FLIGHT,
	METRICS_GAUGE_QUEUE_DEPTH,
	METRICS_GAUGE_PG_UP,
	METRICS_GAUGE_PG_DOWN,
	METRICS_GAUGE_DELIVERY_IN_FLIGHT,
	METRICS_GAUGE_FOLD_LAG_US, /* summed as a maximum */
	METRICS_GAUGE_FEED_LAG_US, /* summed as a maximum */
	METRICS_GAUGES
};

/* What a scrape reads: the sums over every slot (gauges: over live processes only). */
struct metrics_totals {
	uint64_t calls[METRICS_MODULES][METRICS_STATUSES];
	uint64_t refusals[METRICS_CODES];
	uint64_t cache[METRICS_CACHE_RESULTS];
	uint64_t rate_limited, pg_reconnects, folds;
	uint64_t restarts[METRICS_ROLES];
	uint64_t delivery[METRICS_OUTCOMES];
	uint64_t hist_bucket[METRICS_HISTS][METRICS_BUCKETS]; /* not cumulative */
	uint64_t hist_count[METRICS_HISTS], hist_sum[METRICS_HISTS];
	int64_t gauges[METRICS_GAUGES];
};

/* Upper bounds of a histogram's buckets (in its own unit), ascending; the last bucket, +Inf,
 * is not listed. Returns how many are listed. */
int metrics_hist_bounds(enum metrics_hist_kind h, const uint64_t **bounds);

/* The region, room for slots processes at once (the master's included). Before fork(). */
struct metrics *metrics_create(int slots);
void metrics_destroy(struct metrics *m);
/* Takes a slot for this process: a free one, or one whose process is gone (its counters kept,
 * its gauges cleared). Until then, and if every slot is busy, counts go to a private slot no
 * scrape sees. Called in the master, then in each child right after fork(). */
bool metrics_attach(struct metrics *m);
/* The region this process attached to, NULL before metrics_attach. */
struct metrics *metrics_region(void);
void metrics_sum(struct metrics *m, struct metrics_totals *out);

/* The hot path: relaxed atomic adds on this process's own slot. */
void metrics_call(enum metrics_module module, int http_status, const char *code);
void metrics_cache(enum metrics_cache result);
void metrics_rate_limited(void);
void metrics_pg_reconnects(uint64_t n);
void metrics_fold(int64_t lag_us);
void metrics_restart(int role_index);
void metrics_delivery(const char *outcome, int64_t latency_us);
void metrics_observe(enum metrics_hist_kind h, uint64_t value);
void metrics_gauge_set(enum metrics_gauge g, int64_t value);
void metrics_gauge_add(enum metrics_gauge g, int64_t delta);

/* The label values of the indexes above. */
extern const int metrics_statuses[METRICS_STATUSES - 1];
extern const char *const metrics_codes[METRICS_CODES - 1];
extern const char *const metrics_outcomes[METRICS_OUTCOMES - 1];

#endif
