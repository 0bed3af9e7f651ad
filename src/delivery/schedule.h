/* SPDX-License-Identifier: Apache-2.0 */
/* schedule: the retry rules of a delivery, as pure arithmetic. When the next attempt is due (the
 * fixed schedule with jitter), what an HTTP status means for the delivery, and how long a
 * Retry-After header asks us to wait. No clock is read here: the caller passes time in. */
#ifndef HG_DELIVERY_SCHEDULE_H
#define HG_DELIVERY_SCHEDULE_H

#include <stdint.h>

/* Attempts a delivery gets before it ends as failed. */
#define SCHEDULE_ATTEMPTS 10

/* What the answer to one attempt means. */
enum delivery_class {
	DELIVERY_DELIVERED, /* 2xx */
	DELIVERY_GONE,	    /* 410: the destination is disabled */
	DELIVERY_SLOW_DOWN, /* 429, 502, 503, 504: retry, and pause the destination */
	DELIVERY_FAILED,    /* anything else, 3xx included (redirects are never followed) */
};

/* The delay in milliseconds before attempt attempt_done + 1, after attempt_done attempts:
 * 0, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h, each moved by up to ±20 % by rnd
 * (uniform over its 32 bits, so a crowd of retries spreads out). -1 when attempt_done is
 * SCHEDULE_ATTEMPTS (no more attempts: the delivery failed) or out of 0..SCHEDULE_ATTEMPTS. */
int64_t schedule_delay_ms(int attempt_done, uint32_t rnd);

/* The class of an HTTP status; 0 (no answer: time-out, connection refused) is DELIVERY_FAILED. */
enum delivery_class schedule_classify(long http_status);

/* How long a Retry-After header value asks to wait, in milliseconds: delay-seconds ("120") or an
 * HTTP date in the IMF-fixdate form ("Sun, 06 Nov 1994 08:49:37 GMT"), read against now_ms
 * (unix time in milliseconds). Clamped to [1000, max_ms] (a date in the past waits 1 s).
 * -1 when header is NULL, empty or neither form (the caller then keeps its own schedule). */
int64_t schedule_retry_after_ms(const char *header, int64_t now_ms, int64_t max_ms);

#endif
