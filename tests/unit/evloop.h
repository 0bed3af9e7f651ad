/* SPDX-License-Identifier: Apache-2.0 */
/* evloop: runs a test's event_base until what the test waits for has happened, or a time limit
 * has passed, for the unit tests that drive a module's real sockets and timers (http, webhook
 * batch). */
#ifndef HG_TEST_EVLOOP_H
#define HG_TEST_EVLOOP_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>

/* Runs base until done(arg) holds or ms pass; whether it holds. */
bool evloop_run_until(struct event_base *base, bool (*done)(const void *), const void *arg, int ms);
/* Runs base for ms. */
void evloop_run_for(struct event_base *base, int ms);
/* Until *counter reaches n (or ms pass); whether it did. */
bool evloop_run_until_count(struct event_base *base, const int *counter, int n, int ms);
/* CLOCK_MONOTONIC in microseconds, the clock of started_us and of libevent's timers. */
int64_t evloop_now_us(void);

#endif
