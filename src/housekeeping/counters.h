/* SPDX-License-Identifier: Apache-2.0 */
/* counters: the fold of the token counters. A batch does not update webhook_tokens: it
 * inserts its counts into hookgate.token_counts_pending (docs/schema.md). The
 * housekeeping leader asks PostgreSQL to fold those rows into webhook_tokens twice a second
 * (housekeeping/worker.c), so webhook_tokens is at most about a second behind while a leader
 * runs; hookgate.fold_token_counts() also takes an advisory lock of its own, so that folds
 * from anywhere else (SQL callers) never run two at a time. Asynchronous like everything on a
 * worker's loop. */
#ifndef HG_COUNTERS_H
#define HG_COUNTERS_H

#include "pg/db.h"

#define COUNTERS_FOLD_EVERY_MS 500

struct counters;

struct counters *counters_new(struct db_pool *pool);
/* Sends one fold, unless the previous one is still running. */
void counters_fold(struct counters *c);
/* Free only once the loop has stopped (a fold in flight calls back into it otherwise). */
void counters_free(struct counters *c);

#endif
