/* SPDX-License-Identifier: Apache-2.0 */
/* delivery outcomes: the buffer of outcomes and parks waiting to be written, sent in batches
 * of one kind and in order with delivery_record and delivery_park; a row's feed position is
 * done once PostgreSQL has committed it. The buffer keeps them while PostgreSQL is away. */
#include "core/log.h"
#include "delivery/worker_int.h"
#include "proc/worker.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RECORD_BATCH 256

/* ---- writing outcomes and parks ------------------------------------------------------------ */

void delivery_push_row(struct delivery *dw, const struct delivery_row *row)
{
	if (dw->nrows == OUTCOMES_MAX) { /* takes and claims stop well before this */
		log_error("delivery outcomes buffer full: an outcome is dropped (delivered again)");
		free(row->response);
		return;
	}
	dw->rows[dw->nrows++] = *row;
}

static cJSON *row_json(const struct delivery_row *r)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "message_id", (double)r->message_id);
	cJSON_AddNumberToObject(o, "destination_id", (double)r->destination_id);
	cJSON_AddStringToObject(o, "first_at", r->first_at);
	if (r->park) {
		cJSON_AddStringToObject(o, "due_at", r->next_at);
		return o;
	}
	cJSON_AddNumberToObject(o, "attempt", r->attempt);
	cJSON_AddStringToObject(o, "outcome", r->outcome);
	cJSON_AddItemToObject(o, "http_status",
			      r->http_status ? cJSON_CreateNumber((double)r->http_status)
					     : cJSON_CreateNull());
	cJSON_AddItemToObject(o, "error",
			      r->error[0] ? cJSON_CreateString(r->error) : cJSON_CreateNull());
	cJSON_AddNumberToObject(o, "latency_us", (double)r->latency_us);
	cJSON_AddItemToObject(o, "response",
			      r->response ? cJSON_CreateString(r->response) : cJSON_CreateNull());
	cJSON_AddItemToObject(o, "next_at",
			      r->next_at[0] ? cJSON_CreateString(r->next_at) : cJSON_CreateNull());
	cJSON_AddStringToObject(o, "at", r->at);
	return o;
}

/* How many rows from the buffer's head go in the next statement: all of one kind, in order
 * (a park and a later outcome of the same delivery must reach PostgreSQL in that order). */
static int rows_batch(const struct delivery *dw)
{
	int n = 0;
	while (n < dw->nrows && n < RECORD_BATCH && dw->rows[n].park == dw->rows[0].park)
		n++;
	return n;
}

static void rows_written(PGresult *res, void *arg)
{
	struct delivery *dw = arg;
	/* The rows sent, not rows_batch() again: rows pushed while the statement ran are not
	 * written yet, and dropping them here would lose their outcomes (and ack past them). */
	int n = dw->nwriting;
	dw->write_inflight = false;
	if (!dw_result_ok(res, dw->rows[0].park ? "delivery_park" : "delivery_record")) {
		if (!dw->write_failing)
			log_warn("%d delivery outcome(s) kept until PostgreSQL takes them",
				 dw->nrows);
		dw->write_failing = true;
		return;
	}
	dw->write_failing = false;
	bool were_full = dw->nrows >= OUTCOMES_MAX / 2;
	for (int i = 0; i < n; i++) {
		if (dw->rows[i].pos)
			dw->rows[i].pos->done = true;
		free(dw->rows[i].response);
	}
	memmove(dw->rows, dw->rows + n, (size_t)(dw->nrows - n) * sizeof(dw->rows[0]));
	dw->nrows -= n;
	/* What came in meanwhile goes at once, as the next group: waiting for the tick would
	 * cap the outcomes written at a batch a tick. */
	dw_write_rows(dw);
	if (were_full) { /* takes and claims wait for room in the buffer */
		dw_take(dw);
		dw_claim(dw);
	}
}

void dw_write_rows(struct delivery *dw)
{
	if (dw->write_inflight || dw->nrows == 0)
		return;
	int n = rows_batch(dw);
	dw->nwriting = n;
	cJSON *arr = cJSON_CreateArray();
	for (int i = 0; arr && i < n; i++)
		cJSON_AddItemToArray(arr, row_json(&dw->rows[i]));
	char *json = arr ? cJSON_PrintUnformatted(arr) : NULL;
	cJSON_Delete(arr);
	if (json == NULL)
		return;
	char interval[48];
	snprintf(interval, sizeof(interval), "%" PRId64 " milliseconds",
		 dw->w->cfg->delivery_disable_after_ms);
	const char *params[2] = { json, interval };
	dw->write_inflight =
		dw->rows[0].park
			? db_query(dw->pool, "SELECT hookgate.delivery_park($1::jsonb)", 1, params,
				   SQL_TIMEOUT_MS, rows_written, dw)
			: db_query(dw->pool,
				   "SELECT hookgate.delivery_record($1::jsonb, $2::interval)", 2,
				   params, SQL_TIMEOUT_MS, rows_written, dw);
	free(json);
}
