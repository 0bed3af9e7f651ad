/* SPDX-License-Identifier: Apache-2.0 */
/* evloop: see evloop.h. A one-shot timer bounds every wait, so that a test whose event never
 * comes fails instead of hanging. */
#include "evloop.h"

#include <time.h>

static void timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	*(bool *)arg = true;
}

bool evloop_run_until(struct event_base *base, bool (*done)(const void *), const void *arg, int ms)
{
	bool timed_out = false;
	struct event *timer = evtimer_new(base, timeout_cb, &timed_out);
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	if (timer == NULL)
		return done(arg);
	evtimer_add(timer, &tv);
	while (!done(arg) && !timed_out)
		event_base_loop(base, EVLOOP_ONCE);
	event_free(timer);
	return done(arg);
}

static bool never(const void *arg)
{
	(void)arg;
	return false;
}

void evloop_run_for(struct event_base *base, int ms)
{
	evloop_run_until(base, never, NULL, ms);
}

struct count_goal {
	const int *counter;
	int n;
};

static bool count_reached(const void *arg)
{
	const struct count_goal *g = arg;
	return *g->counter >= g->n;
}

bool evloop_run_until_count(struct event_base *base, const int *counter, int n, int ms)
{
	struct count_goal g = { counter, n };
	return evloop_run_until(base, count_reached, &g, ms);
}

int64_t evloop_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
