/* SPDX-License-Identifier: Apache-2.0 */
/* admin_reads: where the admin worker's read-only statements run. With database.read_conninfo
 * set, a second pool on a standby takes them, unless the user's own last write is not replayed
 * there yet (read-your-writes, docs/decisions/0016-read-replica.md) or the standby is away:
 * then the primary does. Owns that pool, the write positions of the users who wrote lately,
 * and the standby's replay position as last asked. */
#ifndef HG_ADMIN_READS_H
#define HG_ADMIN_READS_H

#include <stdbool.h>

#include "admin/util.h"

struct admin_reads;

/* NULL when database.read_conninfo is unset (every read on the primary) or out of memory
 * (*failed set). */
struct admin_reads *admin_reads_new(struct worker *w, bool *failed);
void admin_reads_free(struct admin_reads *reads);

/* admin_query for a statement that only reads: on the standby when the rule allows, else (or
 * when the standby fails to answer) on the primary. Same contract as admin_query. */
bool admin_read(struct admin_ctx *ctx, const char *sql, int nparams, const char *const *params,
		db_result_cb cb);

/* ctx's user has just had a write acknowledged: that user's reads stay on the primary until
 * the standby has replayed the primary's WAL position as of now. */
void admin_reads_wrote(struct admin_ctx *ctx);

#endif
