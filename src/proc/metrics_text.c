/* SPDX-License-Identifier: Apache-2.0 */
/* metrics_text: see metrics_text.h. Counters with labels are written only once they are not
 * zero, except where the set of label values is short and fixed (a series that appears
 * later is normal in Prometheus; a page of zeros is not useful). */
#include "proc/metrics_text.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct text {
	char *buf;
	size_t len, cap;
	bool failed;
};

__attribute__((format(printf, 2, 3))) static void put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	for (int tries = 0; tries < 2 && !t->failed; tries++) {
		size_t room = t->cap - t->len;
		va_start(ap, fmt);
		int n = vsnprintf(t->buf + t->len, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->failed = true;
		} else if ((size_t)n < room) {
			t->len += (size_t)n;
			return;
		} else {
			size_t cap = (t->cap + (size_t)n + 1) * 2;
			char *buf = realloc(t->buf, cap);
			t->failed = buf == NULL;
			if (buf) {
				t->buf = buf;
				t->cap = cap;
			}
		}
	}
}

static void family(struct text *t, const char *name, const char *type, const char *help)
{
	put(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static const char *const module_names[METRICS_MODULES] = { "channel", "bot_incoming", "bot_message",
							   "extension", "none" };

static void put_calls(struct text *t, const struct metrics_totals *m)
{
	family(t, "hookgate_calls_total", "counter",
	       "Webhook calls answered, by module and HTTP status.");
	for (int mod = 0; mod < METRICS_MODULES; mod++) {
		for (int k = 0; k < METRICS_STATUSES; k++) {
			if (m->calls[mod][k] == 0)
				continue;
			char status[16] = "other";
			if (k < METRICS_STATUSES - 1)
				snprintf(status, sizeof(status), "%d", metrics_statuses[k]);
			put(t, "hookgate_calls_total{module=\"%s\",status=\"%s\"} %" PRIu64 "\n",
			    module_names[mod], status, m->calls[mod][k]);
		}
	}
	family(t, "hookgate_refusals_total", "counter", "Webhook calls refused, by error code.");
	for (int k = 0; k < METRICS_CODES; k++)
		put(t, "hookgate_refusals_total{code=\"%s\"} %" PRIu64 "\n",
		    k < METRICS_CODES - 1 ? metrics_codes[k] : "other", m->refusals[k]);
}

/* A bucket bound: seconds for times (kept in µs), as is for sizes. */
static void bound_text(uint64_t v, bool seconds, char *out, size_t len)
{
	if (seconds)
		snprintf(out, len, "%.6g", (double)v / 1e6);
	else
		snprintf(out, len, "%" PRIu64, v);
}

static void put_hist(struct text *t, const struct metrics_totals *m, enum metrics_hist_kind h,
		     const char *name, const char *help)
{
	const uint64_t *bounds;
	bool seconds = h != METRICS_HIST_BATCH_SIZE;
	int n = metrics_hist_bounds(h, &bounds);
	uint64_t cumulative = 0;
	char le[32];

	family(t, name, "histogram", help);
	for (int b = 0; b < n; b++) {
		cumulative += m->hist_bucket[h][b];
		bound_text(bounds[b], seconds, le, sizeof(le));
		put(t, "%s_bucket{le=\"%s\"} %" PRIu64 "\n", name, le, cumulative);
	}
	/* The count is the buckets' total rather than the count kept beside them: a scrape that
	 * meets an observation half-written still shows buckets that never exceed the count. */
	cumulative += m->hist_bucket[h][n];
	put(t, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n", name, cumulative);
	if (seconds)
		put(t, "%s_sum %.6f\n", name, (double)m->hist_sum[h] / 1e6);
	else
		put(t, "%s_sum %" PRIu64 "\n", name, m->hist_sum[h]);
	put(t, "%s_count %" PRIu64 "\n", name, cumulative);
}

static void put_counter(struct text *t, const char *name, const char *help, uint64_t v)
{
	family(t, name, "counter", help);
	put(t, "%s %" PRIu64 "\n", name, v);
}

static void put_gauge(struct text *t, const char *name, const char *help, int64_t v)
{
	family(t, name, "gauge", help);
	put(t, "%s %" PRId64 "\n", name, v);
}

static void put_seconds(struct text *t, const char *name, const char *help, int64_t us)
{
	family(t, name, "gauge", help);
	put(t, "%s %.6f\n", name, (double)us / 1e6);
}

static void put_ingest(struct text *t, const struct metrics_totals *m)
{
	put_hist(t, m, METRICS_HIST_BATCH_SIZE, "hookgate_batch_size",
		 "Calls per group-commit batch.");
	put_hist(t, m, METRICS_HIST_BATCH_LATENCY, "hookgate_batch_duration_seconds",
		 "Group-commit batches, from sending the statement to its answer.");
	put_hist(t, m, METRICS_HIST_COMMIT_WAIT, "hookgate_commit_wait_seconds",
		 "Calls that went through group commit, from their request to their answer.");
	put_gauge(t, "hookgate_calls_in_flight", "Webhook calls received and not yet answered.",
		  m->gauges[METRICS_GAUGE_CALLS_IN_FLIGHT]);
	put_gauge(t, "hookgate_queue_depth", "Calls waiting in the group-commit queues.",
		  m->gauges[METRICS_GAUGE_QUEUE_DEPTH]);
	family(t, "hookgate_token_cache_lookups_total", "counter",
	       "Token look-ups, by result: hit, miss (asked PostgreSQL), negative_hit (a known "
	       "unknown token).");
	static const char *const results[METRICS_CACHE_RESULTS] = { "hit", "miss", "negative_hit" };
	for (int k = 0; k < METRICS_CACHE_RESULTS; k++)
		put(t, "hookgate_token_cache_lookups_total{result=\"%s\"} %" PRIu64 "\n",
		    results[k], m->cache[k]);
	put_counter(t, "hookgate_rate_limited_total", "Calls refused by limits.token_rate.",
		    m->rate_limited);
}

static void put_processes(struct text *t, const struct metrics_totals *m,
			  const struct metrics_labels *l)
{
	family(t, "hookgate_pg_connections", "gauge",
	       "PostgreSQL connections of the workers' pools, by state.");
	put(t, "hookgate_pg_connections{state=\"up\"} %" PRId64 "\n",
	    m->gauges[METRICS_GAUGE_PG_UP]);
	put(t, "hookgate_pg_connections{state=\"down\"} %" PRId64 "\n",
	    m->gauges[METRICS_GAUGE_PG_DOWN]);
	put_counter(t, "hookgate_pg_reconnects_total",
		    "PostgreSQL connections established again after being lost.", m->pg_reconnects);
	family(t, "hookgate_worker_restarts_total", "counter",
	       "Worker processes the master started again after they died, by role.");
	for (int r = 0; r < l->nroles && r < METRICS_ROLES; r++)
		put(t, "hookgate_worker_restarts_total{role=\"%s\"} %" PRIu64 "\n",
		    l->role_names[r], m->restarts[r]);
	put_counter(t, "hookgate_token_folds_total",
		    "Folds of the pending token counters this node ran.", m->folds);
	put_seconds(t, "hookgate_token_fold_lag_seconds",
		    "Age of the oldest pending token count when the last fold began.",
		    m->gauges[METRICS_GAUGE_FOLD_LAG_US]);
	family(t, "hookgate_build_info", "gauge", "The running version, as a label.");
	put(t, "hookgate_build_info{version=\"%s\"} 1\n", l->version);
	/* A series of its own rather than a label on every other: a dashboard joins on it, and
	 * the scrape's instance label already keeps the nodes' series apart. node.name needs no
	 * escaping (config allows [A-Za-z0-9._-] only). */
	if (l->node != NULL) {
		family(t, "hookgate_node_info", "gauge", "This node's node.name, as a label.");
		put(t, "hookgate_node_info{node=\"%s\"} 1\n", l->node);
	}
}

static void put_delivery(struct text *t, const struct metrics_totals *m)
{
	family(t, "hookgate_delivery_attempts_total", "counter",
	       "Delivery attempts (and parks of disabled destinations), by outcome.");
	for (int k = 0; k < METRICS_OUTCOMES; k++)
		if (k < METRICS_OUTCOMES - 1 || m->delivery[k] != 0)
			put(t, "hookgate_delivery_attempts_total{outcome=\"%s\"} %" PRIu64 "\n",
			    k < METRICS_OUTCOMES - 1 ? metrics_outcomes[k] : "other",
			    m->delivery[k]);
	put_gauge(t, "hookgate_delivery_in_flight", "Delivery requests on the wire.",
		  m->gauges[METRICS_GAUGE_DELIVERY_IN_FLIGHT]);
	put_hist(t, m, METRICS_HIST_DELIVERY_LATENCY, "hookgate_delivery_duration_seconds",
		 "Delivery attempts, from the request to the destination's answer.");
	put_seconds(t, "hookgate_delivery_feed_lag_seconds",
		    "Age of the newest message the delivery feed handed out, when it did.",
		    m->gauges[METRICS_GAUGE_FEED_LAG_US]);
}

char *metrics_text(const struct metrics_totals *m, const struct metrics_labels *labels, size_t *len)
{
	struct text t = { .cap = 16384 };
	t.buf = malloc(t.cap);
	if (t.buf == NULL)
		return NULL;
	put_calls(&t, m);
	put_ingest(&t, m);
	put_processes(&t, m, labels);
	put_delivery(&t, m);
	if (t.failed) {
		free(t.buf);
		return NULL;
	}
	*len = t.len;
	return t.buf;
}
