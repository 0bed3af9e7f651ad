/* SPDX-License-Identifier: Apache-2.0 */
/* metrics: see metrics.h. The region holds no pointers (every worker is its own process), only
 * its size and the slots. A slot is owned by a pid; counters are only ever added to, so a sum
 * over all slots never goes down, whoever owned them. */
#include "proc/metrics.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

typedef _Atomic uint64_t counter_t;

struct metrics_slot {
	_Atomic int32_t pid; /* 0: never taken */
	counter_t calls[METRICS_MODULES][METRICS_STATUSES];
	counter_t refusals[METRICS_CODES];
	counter_t cache[METRICS_CACHE_RESULTS];
	counter_t rate_limited, pg_reconnects, folds;
	counter_t restarts[METRICS_ROLES];
	counter_t delivery[METRICS_OUTCOMES];
	counter_t hist_bucket[METRICS_HISTS][METRICS_BUCKETS];
	counter_t hist_count[METRICS_HISTS], hist_sum[METRICS_HISTS];
	_Atomic int64_t gauges[METRICS_GAUGES];
	char pad[64]; /* keeps two processes' hot counters off one cache line */
};

struct metrics {
	size_t map_len;
	int nslots;
	struct metrics_slot slots[];
};

const int metrics_statuses[METRICS_STATUSES - 1] = { 204, 400, 401, 403, 404, 405,
						     408, 413, 415, 429, 500, 503 };
const char *const metrics_codes[METRICS_CODES - 1] = {
	"forbidden",
	"invalid_json",
	"invalid_message",
	"invalid_request",
	"method_not_allowed",
	"not_found",
	"payload_too_large",
	"rate_limited",
	"token_disabled",
	"token_invalid",
	"token_missing",
	"unavailable",
	"unsupported_media_type",
};
const char *const metrics_outcomes[METRICS_OUTCOMES - 1] = { "delivered", "retry",   "failed",
							     "gone",	  "refused", "disabled" };

/* Sizes in calls (a batch holds at most 256), times in µs. */
static const uint64_t bounds_size[] = { 1, 2, 4, 8, 16, 32, 64, 128, 256 };
static const uint64_t bounds_db[] = { 500,   1000,   2500,   5000,   10000,  25000,
				      50000, 100000, 250000, 500000, 1000000 };
static const uint64_t bounds_delivery[] = { 10000,   25000,   50000,   100000,	 250000,  500000,
					    1000000, 2500000, 5000000, 10000000, 30000000 };

/* Where this process counts: its slot, or a private one that no scrape reads. */
static struct metrics_slot private_slot;
static struct metrics_slot *self = &private_slot;
static struct metrics *region;

int metrics_hist_bounds(enum metrics_hist_kind h, const uint64_t **bounds)
{
	switch (h) {
	case METRICS_HIST_BATCH_SIZE:
		*bounds = bounds_size;
		return (int)(sizeof(bounds_size) / sizeof(bounds_size[0]));
	case METRICS_HIST_DELIVERY_LATENCY:
		*bounds = bounds_delivery;
		return (int)(sizeof(bounds_delivery) / sizeof(bounds_delivery[0]));
	default:
		*bounds = bounds_db;
		return (int)(sizeof(bounds_db) / sizeof(bounds_db[0]));
	}
}

struct metrics *metrics_create(int slots)
{
	if (slots < 1) {
		errno = EINVAL;
		return NULL;
	}
	size_t len = sizeof(struct metrics) + (size_t)slots * sizeof(struct metrics_slot);
	void *mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return NULL;
	struct metrics *m = mem; /* zero-filled: every slot free, every counter 0 */
	m->map_len = len;
	m->nslots = slots;
	return m;
}

void metrics_destroy(struct metrics *m)
{
	if (m == NULL)
		return;
	if (region == m) {
		region = NULL;
		self = &private_slot;
	}
	munmap(m, m->map_len);
}

static bool pid_gone(int32_t pid)
{
	return pid != 0 && kill((pid_t)pid, 0) == -1 && errno == ESRCH;
}

/* A process killed with calls in flight left its gauges behind; they describe nothing now. */
static void slot_take_over(struct metrics_slot *s)
{
	for (int g = 0; g < METRICS_GAUGES; g++)
		atomic_store_explicit(&s->gauges[g], 0, memory_order_relaxed);
}

bool metrics_attach(struct metrics *m)
{
	int32_t me = (int32_t)getpid();
	self = &private_slot;
	region = m;
	if (m == NULL)
		return false;
	for (int i = 0; i < m->nslots; i++) {
		struct metrics_slot *s = &m->slots[i];
		int32_t seen = atomic_load_explicit(&s->pid, memory_order_relaxed);
		if (seen != 0 && seen != me && !pid_gone(seen))
			continue;
		if (atomic_compare_exchange_strong(&s->pid, &seen, me)) {
			slot_take_over(s);
			self = s;
			return true;
		}
	}
	return false;
}

struct metrics *metrics_region(void)
{
	return region;
}

static void add(counter_t *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static uint64_t get(counter_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

static void sum_slot(struct metrics_slot *s, struct metrics_totals *t)
{
	for (int m = 0; m < METRICS_MODULES; m++)
		for (int k = 0; k < METRICS_STATUSES; k++)
			t->calls[m][k] += get(&s->calls[m][k]);
	for (int k = 0; k < METRICS_CODES; k++)
		t->refusals[k] += get(&s->refusals[k]);
	for (int k = 0; k < METRICS_CACHE_RESULTS; k++)
		t->cache[k] += get(&s->cache[k]);
	t->rate_limited += get(&s->rate_limited);
	t->pg_reconnects += get(&s->pg_reconnects);
	t->folds += get(&s->folds);
	for (int k = 0; k < METRICS_ROLES; k++)
		t->restarts[k] += get(&s->restarts[k]);
	for (int k = 0; k < METRICS_OUTCOMES; k++)
		t->delivery[k] += get(&s->delivery[k]);
	for (int h = 0; h < METRICS_HISTS; h++) {
		for (int b = 0; b < METRICS_BUCKETS; b++)
			t->hist_bucket[h][b] += get(&s->hist_bucket[h][b]);
		t->hist_count[h] += get(&s->hist_count[h]);
		t->hist_sum[h] += get(&s->hist_sum[h]);
	}
}

/* Lags are the worst of the processes that measure them; everything else adds up. */
static void sum_gauges(struct metrics_slot *s, struct metrics_totals *t)
{
	for (int g = 0; g < METRICS_GAUGES; g++) {
		int64_t v = atomic_load_explicit(&s->gauges[g], memory_order_relaxed);
		if (g == METRICS_GAUGE_FOLD_LAG_US || g == METRICS_GAUGE_FEED_LAG_US)
			t->gauges[g] = v > t->gauges[g] ? v : t->gauges[g];
		else
			t->gauges[g] += v;
	}
}

void metrics_sum(struct metrics *m, struct metrics_totals *out)
{
	memset(out, 0, sizeof(*out));
	for (int i = 0; m != NULL && i < m->nslots; i++) {
		struct metrics_slot *s = &m->slots[i];
		int32_t pid = atomic_load_explicit(&s->pid, memory_order_relaxed);
		if (pid == 0)
			continue;
		sum_slot(s, out);
		if (!pid_gone(pid))
			sum_gauges(s, out);
	}
}

static int status_index(int http_status)
{
	for (int k = 0; k < METRICS_STATUSES - 1; k++)
		if (metrics_statuses[k] == http_status)
			return k;
	return METRICS_STATUSES - 1;
}

static int name_index(const char *const *names, int n, const char *name)
{
	for (int k = 0; name != NULL && k < n; k++)
		if (strcmp(names[k], name) == 0)
			return k;
	return n;
}

void metrics_call(enum metrics_module module, int http_status, const char *code)
{
	if ((unsigned)module >= METRICS_MODULES)
		module = METRICS_MODULE_NONE;
	add(&self->calls[module][status_index(http_status)], 1);
	if (http_status >= 300)
		add(&self->refusals[name_index(metrics_codes, METRICS_CODES - 1, code)], 1);
}

void metrics_cache(enum metrics_cache result)
{
	if ((unsigned)result < METRICS_CACHE_RESULTS)
		add(&self->cache[result], 1);
}

void metrics_rate_limited(void)
{
	add(&self->rate_limited, 1);
}

void metrics_pg_reconnects(uint64_t n)
{
	add(&self->pg_reconnects, n);
}

void metrics_fold(int64_t lag_us)
{
	add(&self->folds, 1);
	metrics_gauge_set(METRICS_GAUGE_FOLD_LAG_US, lag_us);
}

void metrics_restart(int role_index)
{
	if (role_index >= 0 && role_index < METRICS_ROLES)
		add(&self->restarts[role_index], 1);
}

void metrics_delivery(const char *outcome, int64_t latency_us)
{
	add(&self->delivery[name_index(metrics_outcomes, METRICS_OUTCOMES - 1, outcome)], 1);
	if (latency_us > 0)
		metrics_observe(METRICS_HIST_DELIVERY_LATENCY, (uint64_t)latency_us);
}

void metrics_observe(enum metrics_hist_kind h, uint64_t value)
{
	const uint64_t *bounds;
	if ((unsigned)h >= METRICS_HISTS)
		return;
	int n = metrics_hist_bounds(h, &bounds), b = 0;
	while (b < n && value > bounds[b])
		b++;
	add(&self->hist_bucket[h][b], 1);
	add(&self->hist_count[h], 1);
	add(&self->hist_sum[h], value);
}

void metrics_gauge_set(enum metrics_gauge g, int64_t value)
{
	if ((unsigned)g < METRICS_GAUGES)
		atomic_store_explicit(&self->gauges[g], value, memory_order_relaxed);
}

void metrics_gauge_add(enum metrics_gauge g, int64_t delta)
{
	if ((unsigned)g < METRICS_GAUGES)
		atomic_fetch_add_explicit(&self->gauges[g], delta, memory_order_relaxed);
}
