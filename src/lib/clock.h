/* SPDX-License-Identifier: Apache-2.0 */
/* clock: monotonic time (CLOCK_MONOTONIC), the one clock of deadlines, time-outs, back-offs and
 * latencies: it never jumps when the wall clock is set, so neither does a deadline. */
#ifndef HG_CLOCK_H
#define HG_CLOCK_H

#include <stdint.h>

/* Microseconds and milliseconds since an unspecified start, the same for every process of the
 * machine (so comparable across the master and its workers). */
int64_t clock_mono_us(void);
int64_t clock_mono_ms(void);

#endif
