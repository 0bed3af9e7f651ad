/* SPDX-License-Identifier: Apache-2.0 */
/* delivery_worker: see delivery/worker.h.
 *
 * Two PostgreSQL pools. The worker skeleton's pool has one connection and carries the feed
 * lease (a session advisory lock, pg/lease.h): delivery_take and feed_ack run there, so only the
 * lease holder ever reads or moves the feed. A second one-connection pool carries everything
 * else (destinations, claim, record, park, release), in the order it was sent.
 *
 * Memory stays bounded: each destination has two FIFOs (first attempts from the feed, retries
 * from the queue); a first attempt that cannot go out soon (destination disabled, paused after
 * 429/502/503/504, its FIFO full, or waiting longer than HANDOFF_MS) is parked in the queue,
 * so the feed position can move on. The feed is acknowledged only up to the oldest position
 * whose outcome (or park) PostgreSQL has committed: a crash before that delivers again. */
#include "delivery/worker.h"
#include "core/log.h"
#include "delivery/dest.h"
#include "delivery/netpolicy.h"
#include "delivery/post.h"
#include "delivery/schedule.h"
#include "delivery/signer.h"
#include "lib/clock.h"
#include "lib/utf8.h"
#include "pg/lease.h"
#include "proc/metrics.h"
#include "proc/worker.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* The lease's advisory lock: "hkgt" and 4 (housekeeping has 2, the fold 1, feed_tick 3). */
#define DELIVERY_LOCK_KEY1 1751869300
#define DELIVERY_LOCK_KEY2 4
#define DELIVERY_APPLICATION_NAME "hookgated delivery"
#define TICK_MS 50
#define TICKS_PER_SECOND (1000 / TICK_MS)
#define SQL_TIMEOUT_MS 10000
#define HANDOFF_MS 2000	      /* a first attempt unfinished this long is parked */
#define LEASE_MARGIN_MS 60000 /* a claimed row's lease: delivery.timeout + this */
#define OUTCOMES_MAX 8192     /* outcomes and parks kept while PostgreSQL is away */
#define RECORD_BATCH 256
#define BACKLOG_FACTOR 4	  /* a destination's first-attempt FIFO: this × its cap */
#define SLOW_DOWN_DEFAULT_MS 5000 /* a pause after 429/503 without Retry-After */

struct delivery;

/* A feed position handed out by delivery_take, acknowledged once done. */
struct feed_pos {
	struct feed_pos *next;
	char position[48];
	bool done;
	unsigned epoch;		    /* of the lease that read it */
	struct delivery_item *item; /* while its delivery is not recorded or parked */
	int64_t taken_ms;
};

/* One delivery (a message to a destination) held in memory. */
struct delivery_item {
	struct delivery_item *next;
	struct delivery *dw;
	struct dest_state *ds;
	int64_t message_id, destination_id;
	int attempt;	      /* this attempt's number, 1 = first */
	bool first;	      /* from the feed (else claimed from the queue) */
	struct feed_pos *pos; /* of a first attempt until it is parked */
	bool inflight;
	char first_at[48];
	char *module, *target, *token_id, *content_type, *body;
	size_t body_len;
	char *headers[8];
};

/* What the worker knows of one destination at run time. */
struct dest_state {
	struct dest_state *next; /* hash chain */
	int64_t id;
	struct delivery_item *first_head, *first_tail, *retry_head, *retry_tail;
	int firsts, retries;
	int inflight, inflight_retries;
	int64_t paused_until_ms; /* monotonic */
	bool failing, disabled;
};

/* An outcome or a park, waiting to be written. */
struct delivery_row {
	bool park;
	int64_t message_id, destination_id;
	int attempt;
	const char *outcome;
	long http_status;
	char error[64];
	int64_t latency_us;
	char *response;
	char next_at[48], first_at[48], at[48]; /* park: due_at in next_at */
	struct feed_pos *pos;
};

#define DEST_BUCKETS 256

struct delivery {
	struct worker *w;
	bool restarted;
	char owner[128];
	struct lease *lease;
	unsigned lease_epoch;
	struct db_pool *pool; /* claim, record, park, release, destinations */
	struct dest_cache *dests;
	struct netpolicy *policy;
	struct post_ctx *post;
	struct event *tick;
	unsigned ticks;
	struct dest_state *buckets[DEST_BUCKETS];
	int items, inflight, retry_items;
	struct feed_pos *pos_head, *pos_tail;
	char last_taken[48];
	bool take_inflight, claim_inflight, ack_inflight, write_inflight;
	struct delivery_row *rows;
	int nrows;
	int nwriting; /* rows at the buffer's head in the statement in flight */
	bool write_failing;
	int drain_phase; /* 0: running; 1: in flight finishing; 2: writing; 3: ack + release */
	int64_t requests_deadline_ms;	  /* phase 1 ends then at the latest */
	bool final_ack, release_inflight; /* the drain's last statements */
	bool pumping, pump_again;
};

static void delivery_pump(struct delivery *dw);
static void take(struct delivery *dw);
static void delivery_push_row(struct delivery *dw, const struct delivery_row *row);

/* ---- time and small helpers ---------------------------------------------------------------- */

static int64_t wall_ms(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* ISO 8601 in UTC, which PostgreSQL reads as a timestamptz. */
static void format_time(int64_t unix_ms, char *out, size_t len)
{
	time_t s = (time_t)(unix_ms / 1000);
	struct tm tm;
	gmtime_r(&s, &tm);
	char buf[32];
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, len, "%s.%03dZ", buf, (int)(unix_ms % 1000));
}

static bool result_ok(PGresult *res, const char *what)
{
	if (res != NULL &&
	    (PQresultStatus(res) == PGRES_TUPLES_OK || PQresultStatus(res) == PGRES_COMMAND_OK))
		return true;
	if (res != NULL) /* a lost connection is logged by the pool */
		log_warn("%s failed: %s", what, PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
	return false;
}

static struct dest_state *dest_state(struct delivery *dw, int64_t id)
{
	struct dest_state **b = &dw->buckets[(uint64_t)id % DEST_BUCKETS];
	for (struct dest_state *s = *b; s; s = s->next)
		if (s->id == id)
			return s;
	struct dest_state *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->id = id;
	s->next = *b;
	*b = s;
	return s;
}

static int cap_of(const struct delivery *dw)
{
	return dw->w->cfg->delivery_max_inflight_per_destination;
}

static const char *dest_name(const struct delivery *dw, int64_t id, char *buf, size_t len)
{
	const struct dest *d = dest_find(dw->dests, id);
	if (d)
		snprintf(buf, len, "%s:%s", d->module, d->target);
	else
		snprintf(buf, len, "#%" PRId64, id);
	return buf;
}

/* ---- items and their FIFOs ----------------------------------------------------------------- */

static void item_free(struct delivery *dw, struct delivery_item *it)
{
	dw->items--;
	if (!it->first)
		dw->retry_items--;
	if (it->pos && it->pos->item == it)
		it->pos->item = NULL;
	for (size_t i = 0; i < sizeof(it->headers) / sizeof(it->headers[0]); i++)
		free(it->headers[i]);
	free(it->module);
	free(it->target);
	free(it->token_id);
	free(it->content_type);
	free(it->body);
	free(it);
}

/* From a row of delivery_take or delivery_claim; cols: message_id, destination_id, module,
 * target, token_public_id, content_type, body. */
static struct delivery_item *item_new(struct delivery *dw, PGresult *res, int r, const int cols[7],
				      bool first)
{
	struct delivery_item *it = calloc(1, sizeof(*it));
	if (it == NULL)
		return NULL;
	dw->items++;
	it->dw = dw;
	it->first = first;
	if (!first)
		dw->retry_items++;
	it->message_id = strtoll(PQgetvalue(res, r, cols[0]), NULL, 10);
	it->destination_id = strtoll(PQgetvalue(res, r, cols[1]), NULL, 10);
	it->module = strdup(PQgetvalue(res, r, cols[2]));
	it->target = strdup(PQgetvalue(res, r, cols[3]));
	it->token_id = strdup(PQgetvalue(res, r, cols[4]));
	it->content_type = strdup(PQgetvalue(res, r, cols[5]));
	it->body_len = (size_t)PQgetlength(res, r, cols[6]);
	it->body = malloc(it->body_len + 1);
	it->ds = dest_state(dw, it->destination_id);
	if (!it->module || !it->target || !it->token_id || !it->content_type || !it->body ||
	    !it->ds) {
		item_free(dw, it);
		return NULL;
	}
	memcpy(it->body, PQgetvalue(res, r, cols[6]), it->body_len + 1);
	return it;
}

static void fifo_push(struct delivery_item **head, struct delivery_item **tail,
		      struct delivery_item *it)
{
	it->next = NULL;
	if (*tail)
		(*tail)->next = it;
	else
		*head = it;
	*tail = it;
}

static struct delivery_item *fifo_pop(struct delivery_item **head, struct delivery_item **tail)
{
	struct delivery_item *it = *head;
	if (it) {
		*head = it->next;
		if (*head == NULL)
			*tail = NULL;
	}
	return it;
}

/* Takes it out of its destination's first-attempt FIFO. */
static void fifo_remove_first(struct dest_state *ds, struct delivery_item *it)
{
	struct delivery_item *prev = NULL;
	for (struct delivery_item *x = ds->first_head; x; prev = x, x = x->next) {
		if (x != it)
			continue;
		if (prev)
			prev->next = x->next;
		else
			ds->first_head = x->next;
		if (ds->first_tail == x)
			ds->first_tail = prev;
		ds->firsts--;
		return;
	}
}

/* ---- parks and outcomes -------------------------------------------------------------------- */

/* Parks a first attempt in the queue, due at due_ms (unix ms); its feed position is done once
 * the park is committed. The item stays only if it is in flight. */
static void park(struct delivery *dw, struct delivery_item *it, int64_t due_ms)
{
	struct delivery_row row = { .park = true,
				    .message_id = it->message_id,
				    .destination_id = it->destination_id,
				    .pos = it->pos };
	format_time(due_ms, row.next_at, sizeof(row.next_at));
	snprintf(row.first_at, sizeof(row.first_at), "%s", it->first_at);
	delivery_push_row(dw, &row);
	it->pos->item = NULL;
	it->pos = NULL; /* the position may be acknowledged and freed before it ends */
	if (!it->inflight)
		item_free(dw, it);
}

/* Valid UTF-8 of the answer's beginning for the attempts table (invalid bytes become U+FFFD). */
static char *answer_text(const char *s, size_t len)
{
	char *out = malloc(len * 3 + 1), *o = out;
	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < len;) {
		size_t n = (unsigned char)s[i] < 0x80 && s[i] != '\0' ? 1 : 0;
		if (n == 0) {
			uint32_t cp;
			n = utf8_decode((const unsigned char *)s + i, len - i, &cp);
			if (n == 1 && s[i] == '\0')
				n = 0;
		}
		if (n == 0) {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		} else {
			memcpy(o, s + i, n);
			o += n;
			i += n;
		}
	}
	*o = '\0';
	return out;
}

/* A destination's health as log lines: one when it starts failing, one when it recovers. */
static void note_health(struct delivery *dw, struct dest_state *ds, bool ok, const char *why)
{
	char name[160];
	if (ok && ds->failing)
		log_info("destination %s recovered", dest_name(dw, ds->id, name, sizeof(name)));
	else if (!ok && !ds->failing)
		log_warn("destination %s failing: %s", dest_name(dw, ds->id, name, sizeof(name)),
			 why);
	ds->failing = !ok;
}

/* A failed attempt: another one per the schedule (later still if the answer asks so, and the
 * destination paused after 429/502/503/504), or the end. */
static void outcome_failure(struct delivery *dw, struct delivery_item *it,
			    const struct post_result *res, bool slow_down, struct delivery_row *row)
{
	int64_t now = wall_ms();
	uint32_t rnd = 0;
	crypto_random(&rnd, sizeof(rnd));
	int64_t delay = schedule_delay_ms(it->attempt, rnd);
	if (slow_down) {
		int64_t ra = schedule_retry_after_ms(res->retry_after, now,
						     dw->w->cfg->delivery_retry_after_max_ms);
		int64_t pause = ra > 0 ? ra : SLOW_DOWN_DEFAULT_MS;
		it->ds->paused_until_ms = clock_mono_ms() + pause;
		if (delay >= 0 && delay < pause)
			delay = pause;
	}
	if (delay < 0) {
		row->outcome = "failed";
		return;
	}
	row->outcome = "retry";
	format_time(now + delay, row->next_at, sizeof(row->next_at));
}

static void outcome_of(struct delivery *dw, struct delivery_item *it, const struct post_result *res,
		       struct delivery_row *row)
{
	bool transport = res->error && strcmp(res->error, "redirect") != 0;
	enum delivery_class cls = transport ? DELIVERY_FAILED : schedule_classify(res->http_status);
	char why[96];
	snprintf(why, sizeof(why), "%s%s%ld", res->error ? res->error : "",
		 res->error ? ", HTTP " : "HTTP ", res->http_status);
	switch (cls) {
	case DELIVERY_DELIVERED:
		row->outcome = "delivered";
		note_health(dw, it->ds, true, NULL);
		break;
	case DELIVERY_GONE: {
		char name[160];
		row->outcome = "gone";
		it->ds->disabled =
			true; /* until its row is reloaded: delivery_record disables it */
		log_warn("destination %s disabled: it answered 410 Gone",
			 dest_name(dw, it->ds->id, name, sizeof(name)));
		break;
	}
	default:
		outcome_failure(dw, it, res, cls == DELIVERY_SLOW_DOWN, row);
		note_health(dw, it->ds, false, why);
		break;
	}
}

static void post_done(const struct post_result *res, void *arg)
{
	struct delivery_item *it = arg;
	struct delivery *dw = it->dw;
	struct dest_state *ds = it->ds;
	struct delivery_row row = { .message_id = it->message_id,
				    .destination_id = it->destination_id,
				    .attempt = it->attempt,
				    .http_status = res->http_status,
				    .latency_us = res->latency_us,
				    .pos = it->pos };
	snprintf(row.error, sizeof(row.error), "%s", res->error ? res->error : "");
	snprintf(row.first_at, sizeof(row.first_at), "%s", it->first_at);
	format_time(wall_ms(), row.at, sizeof(row.at));
	row.response = answer_text(res->answer, res->answer_len);
	outcome_of(dw, it, res, &row);
	metrics_delivery(row.outcome, res->latency_us);
	delivery_push_row(dw, &row);
	ds->inflight--;
	dw->inflight--;
	metrics_gauge_set(METRICS_GAUGE_DELIVERY_IN_FLIGHT, dw->inflight);
	if (!it->first)
		ds->inflight_retries--;
	item_free(dw, it);
	delivery_pump(dw);
	take(dw); /* room in memory again */
}

/* The headers of one attempt (Standard Webhooks, and hookgate's own), signed now. */
static bool item_headers(struct delivery_item *it, const struct dest *d)
{
	char id[64], sig[SIGNER_HEADER_MAX(2)];
	const char *secrets[2];
	int64_t now = wall_ms();
	int n = dest_secrets(d, now, secrets);
	snprintf(id, sizeof(id), "msg_%" PRId64 "_%" PRId64, it->message_id, it->destination_id);
	if (!signer_sign(id, now / 1000, (const unsigned char *)it->body, it->body_len, secrets, n,
			 sig, sizeof(sig)))
		return false;
	char ts[24];
	snprintf(ts, sizeof(ts), "%" PRId64, now / 1000);
	const char *const pairs[8][2] = {
		{ "content-type", it->content_type },
		{ "webhook-id", id },
		{ "webhook-timestamp", ts },
		{ "webhook-signature", sig },
		{ "hookgate-module", it->module },
		{ "hookgate-target", it->target },
		{ "hookgate-token-id", it->token_id },
		{ "user-agent", "hookgate/" PACKAGE_VERSION },
	};
	for (int i = 0; i < 8; i++) {
		size_t len = strlen(pairs[i][0]) + strlen(pairs[i][1]) + 3;
		free(it->headers[i]);
		it->headers[i] = malloc(len);
		if (it->headers[i] == NULL)
			return false;
		snprintf(it->headers[i], len, "%s: %s", pairs[i][0], pairs[i][1]);
	}
	return true;
}

/* Starts one attempt; a request that cannot even start counts as a failed attempt. */
static void item_start(struct delivery *dw, struct delivery_item *it, const struct dest *d)
{
	const struct hg_config *cfg = dw->w->cfg;
	it->inflight = true;
	it->ds->inflight++;
	dw->inflight++;
	metrics_gauge_set(METRICS_GAUGE_DELIVERY_IN_FLIGHT, dw->inflight);
	if (!it->first)
		it->ds->inflight_retries++;
	struct post_request req = {
		.url = d->url,
		.headers = (const char *const *)it->headers,
		.nheaders = 8,
		.body = it->body,
		.body_len = it->body_len,
		.timeout_ms = cfg->delivery_timeout_ms,
		.connect_timeout_ms = cfg->delivery_connect_timeout_ms,
	};
	if (!item_headers(it, d) || !post_start(dw->post, &req, post_done, it)) {
		struct post_result res = { .error = "internal", .answer = "" };
		post_done(&res, it);
	}
}

/* ---- sending: the per-destination caps ----------------------------------------------------- */

/* Starts what each destination's caps allow: first attempts first, retries up to half the cap
 * (so they never starve first attempts), nothing while paused, all within max_inflight. */
static void pump_dest(struct delivery *dw, struct dest_state *ds, int64_t now)
{
	int cap = cap_of(dw), retry_cap = cap / 2 > 0 ? cap / 2 : 1;
	if (ds->paused_until_ms > now)
		return;
	const struct dest *d = dest_find(dw->dests, ds->id);
	while (ds->inflight < cap && dw->inflight < dw->w->cfg->delivery_max_inflight) {
		struct delivery_item *it = NULL;
		if (ds->first_head) {
			it = fifo_pop(&ds->first_head, &ds->first_tail);
			ds->firsts--;
		} else if (ds->retry_head && ds->inflight_retries < retry_cap) {
			it = fifo_pop(&ds->retry_head, &ds->retry_tail);
			ds->retries--;
		}
		if (it == NULL)
			return;
		if (d == NULL || !d->enabled || ds->disabled) {
			struct delivery_row row = { .message_id = it->message_id,
						    .destination_id = it->destination_id,
						    .attempt = it->attempt - 1,
						    .outcome = "disabled" };
			if (it->pos) { /* a first attempt waiting in memory */
				park(dw, it, wall_ms());
				continue;
			}
			snprintf(row.first_at, sizeof(row.first_at), "%s", it->first_at);
			format_time(wall_ms(), row.at, sizeof(row.at));
			metrics_delivery(row.outcome, 0);
			delivery_push_row(dw, &row);
			item_free(dw, it);
			continue;
		}
		item_start(dw, it, d);
		if (ds->paused_until_ms > now) /* it answered at once, asking us to slow down */
			return;
	}
}

static void delivery_pump(struct delivery *dw)
{
	if (dw->drain_phase > 0)
		return;	   /* stopping: only what is in flight finishes */
	if (dw->pumping) { /* a request that failed to start called back into here */
		dw->pump_again = true;
		return;
	}
	dw->pumping = true;
	do {
		dw->pump_again = false;
		int64_t now = clock_mono_ms();
		for (int b = 0; b < DEST_BUCKETS; b++)
			for (struct dest_state *ds = dw->buckets[b]; ds; ds = ds->next)
				if (ds->first_head || ds->retry_head)
					pump_dest(dw, ds, now);
	} while (dw->pump_again);
	dw->pumping = false;
}

/* A first attempt from the feed: queued in memory when it can go out soon, else parked. */
static void dispatch_first(struct delivery *dw, struct delivery_item *it)
{
	struct dest_state *ds = it->ds;
	const struct dest *d = dest_find(dw->dests, it->destination_id);
	int64_t now = clock_mono_ms();
	if (d == NULL || !d->enabled || ds->disabled || ds->firsts >= BACKLOG_FACTOR * cap_of(dw)) {
		park(dw, it, wall_ms());
	} else if (ds->paused_until_ms > now) {
		park(dw, it, wall_ms() + (ds->paused_until_ms - now));
	} else {
		fifo_push(&ds->first_head, &ds->first_tail, it);
		ds->firsts++;
	}
}

/* ---- the feed: first attempts -------------------------------------------------------------- */

/* Positions are "<tick>:<id>", ordered by tick, then id. */
static bool position_after(const char *a, const char *b)
{
	long long ta = 0, ia = 0, tb = -1, ib = -1;
	if (sscanf(a, "%lld:%lld", &ta, &ia) != 2)
		return false;
	if (b[0] == '\0' || sscanf(b, "%lld:%lld", &tb, &ib) != 2)
		return true;
	return ta > tb || (ta == tb && ia > ib);
}

static struct feed_pos *pos_add(struct delivery *dw, const char *position)
{
	struct feed_pos *p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	snprintf(p->position, sizeof(p->position), "%s", position);
	p->epoch = dw->lease_epoch;
	p->taken_ms = clock_mono_ms();
	if (dw->pos_tail)
		dw->pos_tail->next = p;
	else
		dw->pos_head = p;
	dw->pos_tail = p;
	return p;
}

/* delivery_take's columns: position, message_id, destination_id, module, target,
 * token_public_id, content_type, body, at. */
static void take_row(struct delivery *dw, PGresult *res, int r)
{
	static const int cols[7] = { 1, 2, 3, 4, 5, 6, 7 };
	const char *position = PQgetvalue(res, r, 0);
	if (!position_after(position, dw->last_taken))
		return; /* read before; its outcome is not acknowledged yet */
	snprintf(dw->last_taken, sizeof(dw->last_taken), "%s", position);
	struct feed_pos *p = pos_add(dw, position);
	if (p == NULL)
		return;		      /* not acknowledged: read again after a restart */
	if (PQgetisnull(res, r, 2)) { /* no destination: nothing to deliver */
		p->done = true;
		return;
	}
	struct delivery_item *it = item_new(dw, res, r, cols, true);
	if (it == NULL)
		return;
	it->attempt = 1;
	it->pos = p;
	p->item = it;
	snprintf(it->first_at, sizeof(it->first_at), "%s", PQgetvalue(res, r, 8));
	dispatch_first(dw, it);
}

static void take_done(PGresult *res, void *arg)
{
	struct delivery *dw = arg;
	dw->take_inflight = false;
	if (!result_ok(res, "delivery_take") || !lease_held(dw->lease))
		return;
	int n = PQntuples(res);
	for (int r = 0; r < n; r++)
		take_row(dw, res, r);
	/* The feed's lag: how old the last message handed out was (0 when caught up). */
	metrics_gauge_set(METRICS_GAUGE_FEED_LAG_US,
			  n > 0 && !PQgetisnull(res, n - 1, 9)
				  ? strtoll(PQgetvalue(res, n - 1, 9), NULL, 10)
				  : 0);
	delivery_pump(dw);
	/* A whole batch: there may be more behind it (a backlog), read on at once. Fewer is all
	 * there is; a NOTIFY or the poll finds what comes next. */
	if (n >= dw->w->cfg->delivery_batch)
		take(dw);
}

static bool may_take(const struct delivery *dw)
{
	const struct hg_config *cfg = dw->w->cfg;
	return !dw->w->draining && !dw->take_inflight && lease_held(dw->lease) &&
	       dest_cache_loaded(dw->dests) && dw->nrows < OUTCOMES_MAX / 2 &&
	       dw->items - dw->retry_items < cfg->delivery_max_inflight + cfg->delivery_batch;
}

static void take(struct delivery *dw)
{
	if (!may_take(dw))
		return;
	char max[16];
	snprintf(max, sizeof(max), "%d", dw->w->cfg->delivery_batch);
	/* From the last position taken under this lease, not the acknowledged one: acks come
	 * once a second, reads as fast as deliveries go out. */
	const char *params[3] = { dw->owner, max, dw->last_taken[0] ? dw->last_taken : NULL };
	dw->take_inflight = db_query(dw->w->db,
				     "SELECT position, message_id, destination_id, module, target, "
				     "token_public_id, content_type, body, at, "
				     "(extract(epoch FROM now() - at) * 1000000)::bigint "
				     "FROM hookgate.delivery_take($1, $2::integer, $3)",
				     3, params, SQL_TIMEOUT_MS, take_done, dw);
}

static void feed_notified(const char *channel, const char *payload, void *arg)
{
	(void)channel;
	(void)payload;
	take(arg);
}

static void ack_done(PGresult *res, void *arg)
{
	struct delivery *dw = arg;
	dw->ack_inflight = false;
	result_ok(res, "feed_ack");
}

/* Acknowledges the feed up to the last of the done positions at its head. */
static void ack(struct delivery *dw)
{
	char last[48] = "";
	if (dw->ack_inflight || !lease_held(dw->lease))
		return; /* the done positions wait for the next one */
	while (dw->pos_head && dw->pos_head->done) {
		struct feed_pos *p = dw->pos_head;
		if (p->epoch == dw->lease_epoch)
			snprintf(last, sizeof(last), "%s", p->position);
		dw->pos_head = p->next;
		if (dw->pos_head == NULL)
			dw->pos_tail = NULL;
		free(p);
	}
	if (last[0] == '\0')
		return;
	const char *params[1] = { last };
	dw->ack_inflight = db_query(dw->w->db, "SELECT hookgate.feed_ack('delivery', $1)", 1,
				    params, SQL_TIMEOUT_MS, ack_done, dw);
}

/* First attempts unfinished after HANDOFF_MS go to the queue, so the feed can move on past
 * them: one waiting in memory leaves it (due now); one in flight stays, and its queue row
 * waits until well after its time-out (the outcome, recorded later, replaces the row). */
static void handoff(struct delivery *dw)
{
	int64_t now = clock_mono_ms();
	int64_t later = wall_ms() + dw->w->cfg->delivery_timeout_ms + LEASE_MARGIN_MS;
	for (struct feed_pos *p = dw->pos_head; p; p = p->next) {
		if (now - p->taken_ms < HANDOFF_MS)
			break;
		struct delivery_item *it = p->item;
		if (p->done || it == NULL)
			continue;
		if (it->inflight) {
			park(dw, it, later);
		} else {
			fifo_remove_first(it->ds, it);
			park(dw, it, wall_ms());
		}
	}
}

static void lease_changed(bool held, void *arg)
{
	struct delivery *dw = arg;
	dw->lease_epoch++; /* positions read under another lease are never acknowledged */
	dw->last_taken[0] = '\0';
	if (held)
		take(dw);
	else /* another process reads the feed now, and reports its lag */
		metrics_gauge_set(METRICS_GAUGE_FEED_LAG_US, 0);
}

/* ---- the queue: retries, parked and replayed deliveries ------------------------------------ */

/* delivery_claim's columns: message_id, destination_id, attempts, first_at, module, target,
 * token_public_id, content_type, body. */
static void claim_done(PGresult *res, void *arg)
{
	static const int cols[7] = { 0, 1, 4, 5, 6, 7, 8 };
	struct delivery *dw = arg;
	dw->claim_inflight = false;
	if (!result_ok(res, "delivery_claim"))
		return;
	for (int r = 0; r < PQntuples(res); r++) {
		struct delivery_item *it = item_new(dw, res, r, cols, false);
		if (it == NULL)
			continue; /* its lease runs out, and it is claimed again */
		it->attempt = atoi(PQgetvalue(res, r, 2)) + 1;
		snprintf(it->first_at, sizeof(it->first_at), "%s", PQgetvalue(res, r, 3));
		fifo_push(&it->ds->retry_head, &it->ds->retry_tail, it);
		it->ds->retries++;
	}
	delivery_pump(dw);
}

/* Claims as many as half of max_inflight leaves room for, beside those already held. */
static void claim(struct delivery *dw)
{
	const struct hg_config *cfg = dw->w->cfg;
	int room = cfg->delivery_max_inflight / 2 + 1 - dw->retry_items;
	if (room > cfg->delivery_batch)
		room = cfg->delivery_batch;
	if (dw->w->draining || dw->claim_inflight || room <= 0 || !dest_cache_loaded(dw->dests) ||
	    dw->nrows >= OUTCOMES_MAX / 2)
		return;
	char max[16], lease_ms[24];
	snprintf(max, sizeof(max), "%d", room);
	snprintf(lease_ms, sizeof(lease_ms), "%" PRId64,
		 cfg->delivery_timeout_ms + LEASE_MARGIN_MS);
	const char *params[3] = { dw->owner, max, lease_ms };
	dw->claim_inflight =
		db_query(dw->pool,
			 "SELECT message_id, destination_id, attempts, first_at, module, target, "
			 "token_public_id, content_type, body "
			 "FROM hookgate.delivery_claim($1, $2::integer, $3::integer)",
			 3, params, SQL_TIMEOUT_MS, claim_done, dw);
}

/* ---- writing outcomes and parks ------------------------------------------------------------ */

static void delivery_push_row(struct delivery *dw, const struct delivery_row *row)
{
	if (dw->nrows == OUTCOMES_MAX) { /* takes and claims stop well before this */
		log_error("delivery outcomes buffer full: an outcome is dropped (delivered again)");
		free(row->response);
		return;
	}
	dw->rows[dw->nrows++] = *row;
}

static cJSON *row_json(const struct delivery_row *r)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "message_id", (double)r->message_id);
	cJSON_AddNumberToObject(o, "destination_id", (double)r->destination_id);
	cJSON_AddStringToObject(o, "first_at", r->first_at);
	if (r->park) {
		cJSON_AddStringToObject(o, "due_at", r->next_at);
		return o;
	}
	cJSON_AddNumberToObject(o, "attempt", r->attempt);
	cJSON_AddStringToObject(o, "outcome", r->outcome);
	cJSON_AddItemToObject(o, "http_status",
			      r->http_status ? cJSON_CreateNumber((double)r->http_status)
					     : cJSON_CreateNull());
	cJSON_AddItemToObject(o, "error",
			      r->error[0] ? cJSON_CreateString(r->error) : cJSON_CreateNull());
	cJSON_AddNumberToObject(o, "latency_us", (double)r->latency_us);
	cJSON_AddItemToObject(o, "response",
			      r->response ? cJSON_CreateString(r->response) : cJSON_CreateNull());
	cJSON_AddItemToObject(o, "next_at",
			      r->next_at[0] ? cJSON_CreateString(r->next_at) : cJSON_CreateNull());
	cJSON_AddStringToObject(o, "at", r->at);
	return o;
}

/* How many rows from the buffer's head go in the next statement: all of one kind, in order
 * (a park and a later outcome of the same delivery must reach PostgreSQL in that order). */
static int rows_batch(const struct delivery *dw)
{
	int n = 0;
	while (n < dw->nrows && n < RECORD_BATCH && dw->rows[n].park == dw->rows[0].park)
		n++;
	return n;
}

static void rows_written(PGresult *res, void *arg)
{
	struct delivery *dw = arg;
	/* The rows sent, not rows_batch() again: rows pushed while the statement ran are not
	 * written yet, and dropping them here would lose their outcomes (and ack past them). */
	int n = dw->nwriting;
	dw->write_inflight = false;
	if (!result_ok(res, dw->rows[0].park ? "delivery_park" : "delivery_record")) {
		if (!dw->write_failing)
			log_warn("%d delivery outcome(s) kept until PostgreSQL takes them",
				 dw->nrows);
		dw->write_failing = true;
		return;
	}
	dw->write_failing = false;
	for (int i = 0; i < n; i++) {
		if (dw->rows[i].pos)
			dw->rows[i].pos->done = true;
		free(dw->rows[i].response);
	}
	memmove(dw->rows, dw->rows + n, (size_t)(dw->nrows - n) * sizeof(dw->rows[0]));
	dw->nrows -= n;
}

static void write_rows(struct delivery *dw)
{
	if (dw->write_inflight || dw->nrows == 0)
		return;
	int n = rows_batch(dw);
	dw->nwriting = n;
	cJSON *arr = cJSON_CreateArray();
	for (int i = 0; arr && i < n; i++)
		cJSON_AddItemToArray(arr, row_json(&dw->rows[i]));
	char *json = arr ? cJSON_PrintUnformatted(arr) : NULL;
	cJSON_Delete(arr);
	if (json == NULL)
		return;
	char interval[48];
	snprintf(interval, sizeof(interval), "%" PRId64 " milliseconds",
		 dw->w->cfg->delivery_disable_after_ms);
	const char *params[2] = { json, interval };
	dw->write_inflight =
		dw->rows[0].park
			? db_query(dw->pool, "SELECT hookgate.delivery_park($1::jsonb)", 1, params,
				   SQL_TIMEOUT_MS, rows_written, dw)
			: db_query(dw->pool,
				   "SELECT hookgate.delivery_record($1::jsonb, $2::interval)", 2,
				   params, SQL_TIMEOUT_MS, rows_written, dw);
	free(json);
}

/* ---- the drain (SIGTERM) ------------------------------------------------------------------- */

static void release_done(PGresult *res, void *arg)
{
	struct delivery *dw = arg;
	dw->release_inflight = false;
	result_ok(res, "delivery_release");
}

/* Stop taking; let what is in flight finish until shutdown_timeout; write every outcome;
 * acknowledge the feed; hand back the claimed rows not attempted. Each phase waits on the
 * coarse tick; past the deadline, what is left is delivered again by whoever comes next. */
static void drain_step(struct delivery *dw)
{
	struct worker *w = dw->w;
	int64_t now = clock_mono_ms();
	bool late = now >= w->drain_deadline_ms;
	if (dw->drain_phase == 1 && (dw->inflight == 0 || now >= dw->requests_deadline_ms)) {
		if (dw->inflight > 0)
			log_warn("shutdown timeout: %d delivery(ies) still in flight are left to a "
				 "later attempt",
				 dw->inflight);
		dw->drain_phase = 2;
	}
	if (dw->drain_phase == 2 && ((dw->nrows == 0 && !dw->write_inflight) || late)) {
		dw->drain_phase = 3;
		dw->final_ack = true;
		const char *params[1] = { dw->owner };
		dw->release_inflight = db_query(dw->pool, "SELECT hookgate.delivery_release($1)", 1,
						params, SQL_TIMEOUT_MS, release_done, dw);
	}
	if (dw->drain_phase == 3 && dw->final_ack && !dw->ack_inflight) {
		/* after any acknowledgement already on its way, one for everything done since */
		dw->final_ack = false;
		ack(dw);
	}
	if (dw->drain_phase == 3 &&
	    ((!dw->final_ack && !dw->ack_inflight && !dw->release_inflight) || late))
		event_base_loopexit(w->base, NULL);
}

static bool delivery_drain(struct worker *w)
{
	struct delivery *dw = w->role;
	/* Half the time for the requests in flight (nothing new starts: what waits in memory is
	 * read again from the feed, or handed back by delivery_release), the rest for writing
	 * down what became of them. */
	dw->requests_deadline_ms = w->drain_deadline_ms - w->cfg->shutdown_timeout_ms / 2;
	dw->drain_phase = 1;
	return true;
}

/* ---- the loop's one coarse timer ----------------------------------------------------------- */

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct delivery *dw = arg;
	(void)fd;
	(void)what;
	write_rows(dw);
	dest_cache_tick(dw->dests);
	if (dw->drain_phase > 0) {
		drain_step(dw);
		return;
	}
	delivery_pump(dw); /* pauses that ended */
	if (++dw->ticks % TICKS_PER_SECOND != 0)
		return;
	handoff(dw);
	ack(dw);
	take(dw);
	claim(dw);
}

/* ---- set-up ------------------------------------------------------------------------------- */

static void dest_changed(int64_t id, const struct dest *d, void *arg)
{
	struct delivery *dw = arg;
	struct dest_state *ds = dest_state(dw, id);
	if (ds == NULL)
		return;
	bool disabled = d == NULL || !d->enabled;
	if (disabled && !ds->disabled && d != NULL)
		log_info("destination %s:%s disabled", d->module, d->target);
	else if (!disabled && ds->disabled)
		log_info("destination %s:%s enabled", d->module, d->target);
	ds->disabled = disabled;
	if (!disabled)
		ds->failing = ds->failing && d != NULL;
}

static void pool_connected(void *arg)
{
	struct delivery *dw = arg;
	dest_cache_invalidate(dw->dests);
}

static void lease_connected(void *arg)
{
	struct worker *w = arg;
	struct delivery *dw = w->role;
	lease_reconnected(dw->lease);
}

static bool policy_allows(const struct sockaddr *sa, void *arg)
{
	return netpolicy_allows(arg, sa);
}

static bool delivery_setup(struct worker *w)
{
	struct delivery *dw = w->role;
	const struct hg_config *cfg = w->cfg;
	char host[64] = "", err[256] = "";
	gethostname(host, sizeof(host) - 1);
	snprintf(dw->owner, sizeof(dw->owner), "%s:%d:%d", host, (int)getpid(), w->index);
	dw->w = w;
	dw->rows = calloc(OUTCOMES_MAX, sizeof(dw->rows[0]));
	dw->policy = netpolicy_new(cfg->delivery_allow_networks, err, sizeof(err));
	if (dw->policy == NULL) {
		log_error("delivery.allow_networks: %s", err);
		return false;
	}
	dw->post = post_ctx_new(w->base, cfg->delivery_ca_file, cfg->delivery_max_inflight,
				policy_allows, dw->policy);
	dw->pool = db_pool_new(w->base, cfg->conninfo, DELIVERY_APPLICATION_NAME, 1, pool_connected,
			       dw);
	dw->tick = event_new(w->base, -1, EV_PERSIST, tick_cb, dw);
	if (!dw->rows || !dw->post || !dw->pool || !dw->tick)
		return false;
	dw->dests = dest_cache_new(dw->pool, &w->keys, dest_changed, dw);
	if (dw->dests == NULL || !db_pool_listen(w->db, "hookgate_feed", feed_notified, dw))
		return false;
	struct timeval tv = { 0, TICK_MS * 1000 };
	event_add(dw->tick, &tv);
	dw->lease =
		lease_new(w->base, w->db, DELIVERY_LOCK_KEY1, DELIVERY_LOCK_KEY2, "delivery feed",
			  dw->restarted ? 2 * LEASE_RETRY_MS : 0, lease_changed, dw);
	return dw->lease != NULL;
}

static void free_dest_states(struct delivery *dw)
{
	for (int b = 0; b < DEST_BUCKETS; b++) {
		while (dw->buckets[b]) {
			struct dest_state *ds = dw->buckets[b];
			dw->buckets[b] = ds->next;
			struct delivery_item *it;
			while ((it = fifo_pop(&ds->first_head, &ds->first_tail)) != NULL)
				item_free(dw, it);
			while ((it = fifo_pop(&ds->retry_head, &ds->retry_tail)) != NULL)
				item_free(dw, it);
			free(ds);
		}
	}
}

/* In-flight requests are dropped without their callbacks: their feed positions are not
 * acknowledged and their claimed rows' leases run out, so they are attempted again. */
static bool delivery_teardown(struct worker *w)
{
	struct delivery *dw = w->role;
	post_ctx_free(dw->post);
	lease_free(dw->lease);
	db_pool_free(dw->pool);
	dest_cache_free(dw->dests);
	if (dw->tick)
		event_free(dw->tick);
	for (int i = 0; dw->rows && i < dw->nrows; i++)
		free(dw->rows[i].response);
	free(dw->rows);
	free_dest_states(dw); /* before the positions its items point to */
	while (dw->pos_head) {
		struct feed_pos *p = dw->pos_head;
		dw->pos_head = p->next;
		free(p);
	}
	netpolicy_free(dw->policy);
	return true;
}

int delivery_worker_main(const struct role_args *args)
{
	struct delivery dw = { .restarted = args->restarted };
	struct worker w = {
		.pool_size = 1, /* the feed lease's session: see above */
		.application_name = DELIVERY_APPLICATION_NAME " feed",
		.setup = delivery_setup,
		.teardown = delivery_teardown,
		.drain = delivery_drain,
		.on_db_connect = lease_connected,
		.role = &dw,
	};
	return worker_run(&w, args);
}
