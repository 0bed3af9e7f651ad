/* SPDX-License-Identifier: Apache-2.0 */
/* ingest: see ingest.h. The queue and its deadlines are batch.c's; here a batch becomes one
 * statement and its result the answers. A batch still
 * running in PostgreSQL at its deadline is orphaned (batch.c answers its callers), and waits
 * on its connection for the result that says what became of it. */
#include "webhook/ingest.h"
#include "webhook/batch.h"
#include "core/log.h"
#include "pg/pgbin.h"
#include "lib/utf8.h"
#include "lib/clock.h"
#include "proc/metrics.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* PostgreSQL abandons a batch this long before we stop waiting for it, which leaves that
 * much for its commit and answer: a batch answered 503 has then (almost surely) not committed. */
#define INGEST_COMMIT_MARGIN_MS 100
/* How long an orphaned batch's connection waits for its result before giving up on it. */
#define INGEST_LATE_LIMIT_MS 30000
#define INGEST_FIX_TIMEOUT_MS 10000
/* Room for the message ids an orphaned batch's log line names (the line holds 2 KiB). */
#define INGEST_IDS_TEXT 1200
#define INGEST_NOTIFY_TIMEOUT_MS 5000
/* With PostgreSQL gone every batch fails: one line about it per this long, per worker. */
#define INGEST_FAIL_LOG_MS 5000

/* The batch as one binary array per field of hookgate.ingest_call (sql/002_ingest.sql), in
 * the order of batch_fields (the generation last: sql/009_token_lifecycle.sql), then its time
 * budget and this node's name (sql/007_nodes.sql:
 * once per batch, for every usage row it writes). The statement is the batch's transaction:
 * pg_current_xact_id() is the batch id the access log shows, the xid its messages hold
 * (hookgate.messages.xid). */
static const char ingest_stmt[] = "hg_ingest";
static const char ingest_sql[] =
	"SELECT i, http_status, code, message_id, pg_current_xact_id()"
	" FROM hookgate.ingest_batch($1::integer[],"
	" $2::bigint[], $3::bigint[], $4::integer[], $5::text[], $6::text[], $7::text[],"
	" $8::text[], $9::text[], $10::text[], $11::inet[], $12::text[], $13::integer[],"
	" $14::integer[], $15::timestamptz[], $16::integer[]::smallint[], $17::integer, $18::text)";
/* The usage rows of an orphaned batch that committed, made to say what their callers were told.
 * A call's row is the one of its token, its "at" (as sent, to the microsecond) and its message
 * (NULL when none was stored); invocation counts stay, as they count calls whatever became of
 * them. */
static const char fix_sql[] =
	"UPDATE hookgate.token_usage u SET http_status = 503"
	" FROM unnest($1::bigint[], $2::timestamptz[], $3::bigint[]) x (token_id, at, message_id)"
	" WHERE u.token_id = x.token_id AND u.at = x.at"
	" AND u.message_id IS NOT DISTINCT FROM x.message_id";

struct ingest {
	struct event_base *base;
	struct db_pool *pool;
	struct batch_queue *queue;
	struct log_limit fail_log;
	int64_t sent_us; /* of the batch in flight (one at a time), for its latency */
	char *node;	 /* node.name, the last parameter of every batch */
};

/* Header-derived text is checked here again: one invalid UTF-8 byte would make PostgreSQL
 * refuse the parameter, i.e. fail every call of the batch. Such a value is sent as NULL. */
static const char *text_or_null(const char *value)
{
	if (value == NULL || value[0] == '\0' || !utf8_valid_str(value))
		return NULL;
	return value;
}

/* Where the column is NOT NULL: "" for a missing or invalid value. */
static const char *text_or_empty(const char *value)
{
	if (value == NULL || !utf8_valid_str(value))
		return "";
	return value;
}

static int32_t clamp_int4(int64_t v)
{
	return v > INT32_MAX ? INT32_MAX : v < 0 ? 0 : (int32_t)v;
}

enum batch_field {
	F_I,
	F_TOKEN_ID,
	F_USER_ID,
	F_STATUS,
	F_MODULE,
	F_TARGET,
	F_APPKEY_HASH,
	F_CONTENT_TYPE,
	F_BODY,
	F_IDEM_KEY,
	F_CLIENT_ADDR,
	F_USER_AGENT,
	F_REQUEST_BYTES,
	F_LATENCY_US,
	F_AT,
	F_GENERATION,
	F_COUNT
};

static const uint32_t batch_field_oid[F_COUNT] = {
	[F_I] = PGBIN_INT4,
	[F_TOKEN_ID] = PGBIN_INT8,
	[F_USER_ID] = PGBIN_INT8,
	[F_STATUS] = PGBIN_INT4,
	[F_MODULE] = PGBIN_TEXT,
	[F_TARGET] = PGBIN_TEXT,
	[F_APPKEY_HASH] = PGBIN_TEXT,
	[F_CONTENT_TYPE] = PGBIN_TEXT,
	[F_BODY] = PGBIN_TEXT,
	[F_IDEM_KEY] = PGBIN_TEXT,
	[F_CLIENT_ADDR] = PGBIN_INET,
	[F_USER_AGENT] = PGBIN_TEXT,
	[F_REQUEST_BYTES] = PGBIN_INT4,
	[F_LATENCY_US] = PGBIN_INT4,
	[F_AT] = PGBIN_TIMESTAMPTZ,
	[F_GENERATION] = PGBIN_INT4,
};

static void call_fields(struct pgbin_array *f, const struct ingest_call *c, int i, int64_t now_us)
{
	pgbin_add_int4(&f[F_I], i);
	pgbin_add_int8(&f[F_TOKEN_ID], c->token_id);
	pgbin_add_int8(&f[F_USER_ID], c->user_id);
	pgbin_add_int4(&f[F_STATUS], c->status);
	pgbin_add_text(&f[F_MODULE], module_sql_name(c->module));
	pgbin_add_text(&f[F_TARGET], text_or_empty(c->target));
	pgbin_add_text(&f[F_APPKEY_HASH], text_or_null(c->appkey_hash));
	pgbin_add_text(&f[F_CONTENT_TYPE], text_or_empty(c->content_type));
	pgbin_add_text(&f[F_BODY], c->body ? c->body : "");
	pgbin_add_text(&f[F_IDEM_KEY], text_or_null(c->idem_key));
	pgbin_add_inet(&f[F_CLIENT_ADDR], c->client_addr);
	pgbin_add_text(&f[F_USER_AGENT], text_or_null(c->user_agent));
	pgbin_add_int4(&f[F_REQUEST_BYTES], clamp_int4(c->request_bytes));
	pgbin_add_int4(&f[F_LATENCY_US], clamp_int4(c->started_us ? now_us - c->started_us : 0));
	pgbin_add_timestamptz(&f[F_AT], c->at_us);
	if (c->generation > 0)
		pgbin_add_int4(&f[F_GENERATION], c->generation);
	else /* unknown: the token's current one (sql/009_token_lifecycle.sql) */
		pgbin_add_null(&f[F_GENERATION]);
}

/* The batch as the arrays ingest_batch() takes; false when out of memory (f is freed then). */
static bool batch_fields(const struct ingest_batch *b, struct pgbin_array f[F_COUNT])
{
	int64_t now = clock_mono_us();
	bool ok = true;

	for (int k = 0; k < F_COUNT; k++)
		pgbin_init(&f[k], batch_field_oid[k]);
	for (int i = 0; i < b->n; i++)
		call_fields(f, b->slots[i].call, i, now);
	for (int k = 0; k < F_COUNT; k++)
		ok = pgbin_finish(&f[k]) && ok;
	if (!ok) {
		for (int k = 0; k < F_COUNT; k++)
			pgbin_free(&f[k]);
	}
	return ok;
}

static const char *static_code(const char *code)
{
	static const char *const known[] = { "token_invalid",	"token_disabled", "owner_disabled",
					     "forbidden",	"not_found",	  "token_expired",
					     "forbidden_source" };
	for (size_t k = 0; k < sizeof(known) / sizeof(known[0]); k++) {
		if (strcmp(code, known[k]) == 0)
			return known[k];
	}
	log_error("ingest_batch answered an unknown code");
	return NULL;
}

/* The call a row of ingest_batch's answer is about, or -1. */
static int batch_row_call(const struct ingest_batch *b, const PGresult *res, int row)
{
	long i = strtol(PQgetvalue(res, row, 0), NULL, 10);
	if (i < 0 || i >= b->n || PQgetisnull(res, row, 1)) {
		log_error("ingest_batch answered a row for no call of the batch");
		return -1;
	}
	return (int)i;
}

static void batch_apply_row(struct ingest_batch *b, const PGresult *res, int row)
{
	int i = batch_row_call(b, res, row);
	struct ingest_call *c;

	if (i < 0)
		return;
	c = b->slots[i].call;
	c->http_status = (int)strtol(PQgetvalue(res, row, 1), NULL, 10);
	if (!PQgetisnull(res, row, 2)) {
		const char *code = static_code(PQgetvalue(res, row, 2));
		if (code != NULL)
			c->code = code;
	}
	c->message_id = PQgetisnull(res, row, 3) ? 0 : strtoll(PQgetvalue(res, row, 3), NULL, 10);
	c->batch_xid = strtoull(PQgetvalue(res, row, 4), NULL, 10);
}

static void batch_fail_log(struct ingest *ing, int n, enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* "ingest batch of N calls failed: CAUSE", at most once per INGEST_FAIL_LOG_MS: with PostgreSQL
 * gone every batch fails, and the line after a quiet spell counts the ones not logged. */
static void batch_fail_log(struct ingest *ing, int n, enum log_level level, const char *fmt, ...)
{
	char cause[512], skipped_text[160] = "";
	uint64_t skipped, skipped_calls;
	va_list ap;

	if (!log_enabled(level) ||
	    !log_limit_pass(&ing->fail_log, clock_mono_ms(), (uint64_t)n, &skipped, &skipped_calls))
		return;
	va_start(ap, fmt);
	vsnprintf(cause, sizeof(cause), fmt, ap);
	va_end(ap);
	if (skipped > 0)
		snprintf(skipped_text, sizeof(skipped_text),
			 " (and %llu more failed batches of %llu calls since the last such line)",
			 (unsigned long long)skipped, (unsigned long long)skipped_calls);
	log_msg(level, "ingest batch of %d calls failed: %s%s", n, cause, skipped_text);
}

static void batch_log_failure(struct ingest_batch *b, const PGresult *res, enum db_outcome outcome)
{
	struct ingest *ing = b->owner;

	switch (outcome) {
	case DB_OUTCOME_NOT_SENT:
		batch_fail_log(ing, b->n, LOG_LEVEL_WARN,
			       "not sent to PostgreSQL (connection lost, or none free before the "
			       "deadline); answered 503, nothing stored");
		return;
	case DB_OUTCOME_LOST:
		batch_fail_log(ing, b->n, LOG_LEVEL_WARN,
			       "the connection failed before PostgreSQL answered; answered 503, "
			       "whether it was stored stays unknown");
		return;
	case DB_OUTCOME_LATE:
		batch_fail_log(ing, b->n, LOG_LEVEL_WARN,
			       "no answer from PostgreSQL by the deadline; answered 503 (outcome "
			       "unknown), waiting for its result");
		return;
	case DB_OUTCOME_ANSWERED:
		break;
	}
	if (res == NULL) {
		batch_fail_log(ing, b->n, LOG_LEVEL_WARN,
			       "no answer from PostgreSQL; answered 503");
		return;
	}
	/* The primary message only: DETAIL lines may quote a failing row (message bodies). */
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	/* 57014: the batch ran past its budget (a stalled server), not a bug. */
	batch_fail_log(ing, b->n,
		       state && strcmp(state, "57014") == 0 ? LOG_LEVEL_WARN : LOG_LEVEL_ERROR,
		       "%s (SQLSTATE %s); answered 503",
		       msg ? msg : PQresStatus(PQresultStatus(res)), state ? state : "none");
}

static void fix_done(PGresult *res, void *arg)
{
	(void)arg;
	if (res != NULL && PQresultStatus(res) == PGRES_COMMAND_OK)
		log_info("late ingest batch: %s usage rows now record 503", PQcmdTuples(res));
	else
		log_warn("late ingest batch: setting its usage rows to 503 failed: %s; they record "
			 "what PostgreSQL decided",
			 res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : "no answer");
}

/* "17, 18, 19" (or "none"), cut short with the count of the rest when it does not fit. */
static void ids_text(const int64_t *ids, int n, char *out, size_t len)
{
	size_t used = 0;
	int shown = 0, total = 0;

	snprintf(out, len, "none");
	for (int i = 0; i < n; i++) {
		if (ids[i] == 0)
			continue;
		total++;
		if (used + 48 > len)
			continue;
		used += (size_t)snprintf(out + used, len - used, "%s%lld", shown ? ", " : "",
					 (long long)ids[i]);
		shown++;
	}
	if (shown < total)
		snprintf(out + used, len - used, " and %d more", total - shown);
}

/* An orphaned batch committed: its callers were told 503, so its usage rows are made to say so
 * (one statement for the whole batch). */
static void orphan_committed(struct ingest_batch *b, const PGresult *res, double late_s)
{
	const struct ingest *ing = b->owner;
	int64_t *ids = calloc((size_t)b->n, sizeof(*ids));
	struct pgbin_array f[3];
	char text[INGEST_IDS_TEXT];
	bool ok;

	if (ids == NULL) {
		log_warn("ingest batch of %d calls committed %.1f s after its callers were "
			 "answered 503 (deadline); out of memory: its usage rows still record "
			 "what PostgreSQL decided",
			 b->n, late_s);
		return;
	}
	for (int row = 0; row < PQntuples(res); row++) {
		int i = batch_row_call(b, res, row);
		if (i >= 0 && !PQgetisnull(res, row, 3))
			ids[i] = strtoll(PQgetvalue(res, row, 3), NULL, 10);
	}
	ids_text(ids, b->n, text, sizeof(text));
	log_warn("ingest batch of %d calls committed %.1f s after its callers were answered 503 "
		 "(deadline): message ids %s; setting their usage rows to 503",
		 b->n, late_s, text);
	pgbin_init(&f[0], PGBIN_INT8);
	pgbin_init(&f[1], PGBIN_TIMESTAMPTZ);
	pgbin_init(&f[2], PGBIN_INT8);
	for (int i = 0; i < b->n; i++) {
		pgbin_add_int8(&f[0], b->slots[i].token_id);
		pgbin_add_timestamptz(&f[1], b->slots[i].at_us);
		if (ids[i] != 0)
			pgbin_add_int8(&f[2], ids[i]);
		else
			pgbin_add_null(&f[2]);
	}
	ok = true;
	for (int k = 0; k < 3; k++)
		ok = pgbin_finish(&f[k]) && ok;
	if (ok) {
		const char *values[3] = { (const char *)f[0].data, (const char *)f[1].data,
					  (const char *)f[2].data };
		const int lengths[3] = { (int)f[0].len, (int)f[1].len, (int)f[2].len };
		const int formats[3] = { 1, 1, 1 };
		ok = db_query_params(ing->pool, fix_sql, 3, values, lengths, formats,
				     INGEST_FIX_TIMEOUT_MS, fix_done, NULL);
	}
	if (!ok)
		log_warn("late ingest batch: could not set its usage rows to 503 (no connection or "
			 "out of memory); they record what PostgreSQL decided");
	for (int k = 0; k < 3; k++)
		pgbin_free(&f[k]);
	free(ids);
}

static void feed_notify_done(PGresult *res, void *arg)
{
	(void)arg;
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK)
		log_debug("NOTIFY hookgate_feed failed: %s",
			  res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : "no answer");
}

/* Wakes the feed's readers (the delivery workers) once a batch that stored messages has
 * committed. Its own statement, after the commit: a NOTIFY inside the batch would take
 * PostgreSQL's global notify lock at every batch's commit. Nobody waits for it; a lost one
 * only costs a reader its next poll (every second). */
static void feed_notify(struct ingest *ing)
{
	db_query(ing->pool, "SELECT pg_notify('hookgate_feed', '')", 0, NULL,
		 INGEST_NOTIFY_TIMEOUT_MS, feed_notify_done, NULL);
}

/* Whether a batch's answer names a message (a replayed key's too: a spare wake-up is free). */
static bool batch_stored(const PGresult *res)
{
	for (int row = 0; row < PQntuples(res); row++) {
		if (!PQgetisnull(res, row, 3))
			return true;
	}
	return false;
}

/* The late result of an orphaned batch, whose callers were answered 503 (outcome unknown). */
static void orphan_done(struct ingest_batch *b, PGresult *res, enum db_outcome outcome)
{
	double late_s = (double)(clock_mono_us() - b->orphaned_us) / 1e6;

	if (outcome != DB_OUTCOME_ANSWERED || res == NULL) {
		log_warn("ingest batch of %d calls: still no answer from PostgreSQL %.1f s "
			 "after its callers were answered 503 (deadline); whether those calls "
			 "were stored stays unknown (message ids unknown)",
			 b->n, late_s);
	} else if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		log_info("ingest batch of %d calls answered 503 (outcome unknown) at its deadline "
			 "failed %.1f s later (SQLSTATE %s) and rolled back: nothing of it "
			 "was stored",
			 b->n, late_s, state ? state : "none");
	} else {
		if (batch_stored(res))
			feed_notify(b->owner);
		orphan_committed(b, res, late_s);
	}
	batch_orphan_release(b);
}

/* The statement's outcome, for batch.c; an orphaned batch's final one, here. */
static void ingest_result(PGresult *res, enum db_outcome outcome, void *arg)
{
	struct ingest_batch *b = arg;

	if (b->orphaned) {
		orphan_done(b, res, outcome);
		return;
	}
	if (outcome == DB_OUTCOME_ANSWERED && res != NULL &&
	    PQresultStatus(res) == PGRES_TUPLES_OK) {
		struct ingest *ing = b->owner;
		bool stored = batch_stored(res);

		metrics_observe(METRICS_HIST_BATCH_LATENCY,
				(uint64_t)(clock_mono_us() - ing->sent_us));

		for (int row = 0; row < PQntuples(res); row++)
			batch_apply_row(b, res, row);
		/* After batch_done, which may send the next batch: that one goes first. */
		batch_done(b, BATCH_RESULT_ANSWERED);
		if (stored)
			feed_notify(ing);
		return;
	}
	batch_log_failure(b, res, outcome);
	batch_done(b, outcome == DB_OUTCOME_LATE   ? BATCH_RESULT_LATE
		      : outcome == DB_OUTCOME_LOST ? BATCH_RESULT_LOST
						   : BATCH_RESULT_FAILED);
}

/* b as one ingest_batch() statement (batch_send_fn), answered by left_ms, or late and then
 * waited for up to INGEST_LATE_LIMIT_MS; PostgreSQL itself stops at budget_ms. */
static bool ingest_send(struct ingest_batch *b, int left_ms, int budget_ms, void *owner)
{
	struct ingest *ing = owner;
	struct pgbin_array f[F_COUNT];
	const char *values[F_COUNT + 2];
	int lengths[F_COUNT + 2], formats[F_COUNT + 2];
	char budget[16];

	if (!batch_fields(b, f)) {
		batch_fail_log(ing, b->n, LOG_LEVEL_ERROR, "out of memory; answered 503");
		return false;
	}
	ing->sent_us = clock_mono_us();
	metrics_observe(METRICS_HIST_BATCH_SIZE, (uint64_t)b->n);
	metrics_gauge_set(METRICS_GAUGE_QUEUE_DEPTH, batch_queue_depth(ing->queue));
	for (int k = 0; k < F_COUNT; k++) {
		values[k] = (const char *)f[k].data;
		lengths[k] = (int)f[k].len;
		formats[k] = 1;
	}
	snprintf(budget, sizeof(budget), "%d", budget_ms);
	values[F_COUNT] = budget;
	values[F_COUNT + 1] = ing->node;
	lengths[F_COUNT] = lengths[F_COUNT + 1] = 0;
	formats[F_COUNT] = formats[F_COUNT + 1] = 0;
	bool sent =
		db_query_prepared_graced(ing->pool, ingest_stmt, F_COUNT + 2, values, lengths,
					 formats, left_ms, INGEST_LATE_LIMIT_MS, ingest_result, b);
	for (int k = 0; k < F_COUNT; k++)
		pgbin_free(&f[k]);
	if (!sent)
		batch_fail_log(ing, b->n, LOG_LEVEL_WARN,
			       "no connection to PostgreSQL; answered 503, nothing stored");
	return sent;
}

void ingest_submit(struct ingest *ing, struct ingest_call *call)
{
	batch_queue_submit(ing->queue, call);
	metrics_gauge_set(METRICS_GAUGE_QUEUE_DEPTH, batch_queue_depth(ing->queue));
}

struct ingest *ingest_new(struct event_base *base, struct db_pool *pool, int max_batch,
			  int delay_us, const char *node)
{
	struct ingest *ing = calloc(1, sizeof(*ing));
	const struct batch_config cfg = { .max_batch = max_batch,
					  .delay_us = delay_us,
					  .deadline_ms = INGEST_DEADLINE_MS,
					  .margin_ms = INGEST_COMMIT_MARGIN_MS };

	if (ing == NULL)
		return NULL;
	ing->base = base;
	ing->pool = pool;
	ing->fail_log.interval_ms = INGEST_FAIL_LOG_MS;
	ing->node = strdup(node);
	ing->queue = batch_queue_new(base, &cfg, ingest_send, ing);
	/* Parsed and planned once per connection: per batch it was 4% of PostgreSQL's work. */
	if (ing->node == NULL || ing->queue == NULL ||
	    !db_pool_prepare(pool, ingest_stmt, ingest_sql)) {
		ingest_free(ing);
		return NULL;
	}
	return ing;
}

void ingest_free(struct ingest *ing)
{
	if (ing == NULL)
		return;
	batch_queue_free(ing->queue);
	free(ing->node);
	free(ing);
}
