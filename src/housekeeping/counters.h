/* counters: the fold of the token counters. A batch does not update webhook_tokens: it
 * inserts its counts into hookgate.token_counts_pending (docs/schema.md).
 * Every webhook worker asks PostgreSQL to fold those rows into webhook_tokens twice a second;
 * hookgate.fold_token_counts() takes an advisory lock, so one fold runs at a time across
 * workers and nodes, and webhook_tokens is at most about a second behind while one worker
 * lives. Asynchronous like everything on a worker's loop. */
#ifndef HG_COUNTERS_H
#define HG_COUNTERS_H

#include <event2/event.h>

#include "pg/db.h"

#define COUNTERS_FOLD_EVERY_MS 500

struct counters;

struct counters *counters_start(struct event_base *base, struct db_pool *pool);
/* Free only once the loop has stopped (a fold in flight calls back into it otherwise). */
void counters_free(struct counters *c);

#endif
