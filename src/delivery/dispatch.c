/* SPDX-License-Identifier: Apache-2.0 */
/* delivery dispatch: starts attempts within each destination's caps and pauses, signs their
 * headers, turns a POST's result into an outcome (delivered, retry, failed, gone) and a
 * destination's health, and parks first attempts that cannot go out soon. */
#include "core/crypto.h"
#include "core/log.h"
#include "delivery/dest.h"
#include "delivery/post.h"
#include "delivery/schedule.h"
#include "delivery/signer.h"
#include "delivery/worker_int.h"
#include "lib/clock.h"
#include "lib/utf8.h"
#include "proc/metrics.h"
#include "proc/worker.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BACKLOG_FACTOR 4	  /* a destination's first-attempt FIFO: this × its cap */
#define SLOW_DOWN_DEFAULT_MS 5000 /* a pause after 429/503 without Retry-After */

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

/* ---- parks and outcomes -------------------------------------------------------------------- */

/* Parks a first attempt in the queue, due at due_ms (unix ms); its feed position is done once
 * the park is committed. The item stays only if it is in flight. */
void dw_park(struct delivery *dw, struct delivery_item *it, int64_t due_ms)
{
	struct delivery_row row = { .park = true,
				    .message_id = it->message_id,
				    .destination_id = it->destination_id,
				    .pos = it->pos };
	dw_format_time(due_ms, row.next_at, sizeof(row.next_at));
	snprintf(row.first_at, sizeof(row.first_at), "%s", it->first_at);
	delivery_push_row(dw, &row);
	it->pos->item = NULL;
	it->pos = NULL; /* the position may be acknowledged and freed before it ends */
	if (!it->inflight)
		dw_item_free(dw, it);
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
	int64_t now = dw_wall_ms();
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
	dw_format_time(now + delay, row->next_at, sizeof(row->next_at));
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
	dw_format_time(dw_wall_ms(), row.at, sizeof(row.at));
	row.response = answer_text(res->answer, res->answer_len);
	outcome_of(dw, it, res, &row);
	metrics_delivery(row.outcome, res->latency_us);
	delivery_push_row(dw, &row);
	ds->inflight--;
	dw->inflight--;
	metrics_gauge_set(METRICS_GAUGE_DELIVERY_IN_FLIGHT, dw->inflight);
	bool retry = !it->first;
	if (retry)
		ds->inflight_retries--;
	dw_item_free(dw, it);
	dw_write_rows(dw); /* unless a write is in flight: then with the next group */
	delivery_pump(dw);
	dw_take(dw); /* room in memory again */
	if (retry)   /* room for another retry: claiming waits for the poll otherwise */
		dw_claim(dw);
}

/* The headers of one attempt (Standard Webhooks, and hookgate's own), signed now. */
static bool item_headers(struct delivery_item *it, const struct dest *d)
{
	char id[64], sig[SIGNER_HEADER_MAX(2)];
	const char *secrets[2];
	int64_t now = dw_wall_ms();
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
			it = dw_fifo_pop(&ds->first_head, &ds->first_tail);
			ds->firsts--;
		} else if (ds->retry_head && ds->inflight_retries < retry_cap) {
			it = dw_fifo_pop(&ds->retry_head, &ds->retry_tail);
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
				dw_park(dw, it, dw_wall_ms());
				continue;
			}
			snprintf(row.first_at, sizeof(row.first_at), "%s", it->first_at);
			dw_format_time(dw_wall_ms(), row.at, sizeof(row.at));
			metrics_delivery(row.outcome, 0);
			delivery_push_row(dw, &row);
			dw_item_free(dw, it);
			continue;
		}
		item_start(dw, it, d);
		if (ds->paused_until_ms > now) /* it answered at once, asking us to slow down */
			return;
	}
}

void delivery_pump(struct delivery *dw)
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
void dw_dispatch_first(struct delivery *dw, struct delivery_item *it)
{
	struct dest_state *ds = it->ds;
	const struct dest *d = dest_find(dw->dests, it->destination_id);
	int64_t now = clock_mono_ms();
	if (d == NULL || !d->enabled || ds->disabled || ds->firsts >= BACKLOG_FACTOR * cap_of(dw)) {
		dw_park(dw, it, dw_wall_ms());
	} else if (ds->paused_until_ms > now) {
		dw_park(dw, it, dw_wall_ms() + (ds->paused_until_ms - now));
	} else {
		dw_fifo_push(&ds->first_head, &ds->first_tail, it);
		ds->firsts++;
	}
}
