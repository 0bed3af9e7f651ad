/* SPDX-License-Identifier: Apache-2.0 */
/* maintenance: the schema's upkeep, run by the housekeeping leader only (housekeeping/worker.c):
 * monthly partitions of token_usage and delivery_attempts created ahead of time and, with
 * database.usage_retention, old ones dropped; and a warning when an open transaction keeps
 * PostgreSQL from cleaning up the pending token counts that every fold reads. Asynchronous like
 * everything on a worker's loop. */
#ifndef HG_MAINTENANCE_H
#define HG_MAINTENANCE_H

#include "core/config.h"
#include "pg/db.h"

struct maintenance;

/* cfg (database.usage_retention) must outlive it. */
struct maintenance *maintenance_new(struct db_pool *pool, const struct hg_config *cfg);
/* Creates the partitions ahead, then drops those past the retention, table by table (one
 * statement after the other). */
void maintenance_partitions(struct maintenance *m);
/* Warns when dead row versions of token_counts_pending pile up, naming what holds them. */
void maintenance_watch(struct maintenance *m);
/* Free only once the loop has stopped (a statement in flight calls back into it otherwise). */
void maintenance_free(struct maintenance *m);

#endif
