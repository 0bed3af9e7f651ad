/* SPDX-License-Identifier: Apache-2.0 */
/* proctitle: process titles ("hookgated: webhook worker 2") shown by ps, written over the
 * argv area the way nginx and PostgreSQL do, since Linux has no setproctitle(3). */
#ifndef HG_PROCTITLE_H
#define HG_PROCTITLE_H

#include <stdbool.h>

/* Call once from main before anything reads argv or environ beyond this point: it moves the
 * environment to the heap so that its memory can hold longer titles. */
bool proctitle_init(int argc, char **argv);
void proctitle_set(const char *title);
void proctitle_free(void);

#endif
