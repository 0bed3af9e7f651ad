/* maintenance: the schema's housekeeping, run by webhook worker 1 only: monthly token_usage
 * partitions created ahead of time and, with database.usage_retention, old ones dropped; and
 * a warning when an open transaction keeps PostgreSQL from cleaning up the pending token
 * counts that every fold reads. Asynchronous like everything on a worker's loop. */
#ifndef HG_MAINTENANCE_H
#define HG_MAINTENANCE_H

#include <stdbool.h>

#include "proc/worker.h"

struct maintenance;

/* The partitions: once shortly after start-up, then every hour; the watch: every minute. */
struct maintenance *maintenance_start(struct worker *w);
void maintenance_free(struct maintenance *m);

#endif
