/* SPDX-License-Identifier: Apache-2.0 */
/* clock: see clock.h. */
#include "lib/clock.h"

#include <time.h>

static struct timespec clock_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts;
}

int64_t clock_mono_us(void)
{
	struct timespec ts = clock_mono();
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t clock_mono_ms(void)
{
	struct timespec ts = clock_mono();
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
