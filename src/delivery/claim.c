/* SPDX-License-Identifier: Apache-2.0 */
/* delivery claim: retries, parked and replayed deliveries claimed from hookgate.delivery_queue
 * (delivery_claim), as many as the retries' share of max_inflight leaves room for. */
#include "delivery/dest.h"
#include "delivery/worker_int.h"
#include "proc/worker.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

/* ---- the queue: retries, parked and replayed deliveries ------------------------------------ */

/* delivery_claim's columns: message_id, destination_id, attempts, first_at, module, target,
 * token_public_id, content_type, body. */
static void claim_done(PGresult *res, void *arg)
{
	static const int cols[7] = { 0, 1, 4, 5, 6, 7, 8 };
	struct delivery *dw = arg;
	dw->claim_inflight = false;
	if (!dw_result_ok(res, "delivery_claim"))
		return;
	for (int r = 0; r < PQntuples(res); r++) {
		struct delivery_item *it = dw_item_new(dw, res, r, cols, false);
		if (it == NULL)
			continue; /* its lease runs out, and it is claimed again */
		it->attempt = atoi(PQgetvalue(res, r, 2)) + 1;
		snprintf(it->first_at, sizeof(it->first_at), "%s", PQgetvalue(res, r, 3));
		dw_fifo_push(&it->ds->retry_head, &it->ds->retry_tail, it);
		it->ds->retries++;
	}
	delivery_pump(dw);
}

/* Claims as many as half of max_inflight leaves room for, beside those already held. */
void dw_claim(struct delivery *dw)
{
	const struct hg_config *cfg = dw->w->cfg;
	int room = cfg->delivery_max_inflight / 2 + 1 - dw->retry_items;
	if (room > cfg->delivery_batch)
		room = cfg->delivery_batch;
	if (dw->w->draining || dw->claim_inflight || room <= 0 || !dest_cache_loaded(dw->dests) ||
	    dw->nrows >= OUTCOMES_MAX / 2)
		return;
	char max[16], lease_ms[24];
	snprintf(max, sizeof(max), "%d", room);
	snprintf(lease_ms, sizeof(lease_ms), "%" PRId64,
		 cfg->delivery_timeout_ms + LEASE_MARGIN_MS);
	const char *params[3] = { dw->owner, max, lease_ms };
	dw->claim_inflight =
		db_query(dw->pool,
			 "SELECT message_id, destination_id, attempts, first_at, module, target, "
			 "token_public_id, content_type, body "
			 "FROM hookgate.delivery_claim($1, $2::integer, $3::integer)",
			 3, params, SQL_TIMEOUT_MS, claim_done, dw);
}
