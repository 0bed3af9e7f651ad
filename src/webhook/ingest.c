/* ingest: see ingest.h. Calls wait in one FIFO queue; a batch takes up to max_batch of them
 * from its head. One timer serves the batching delay, the deadline of calls that cannot be
 * sent yet (every connection busy), and nothing else. A batch
 * still running in PostgreSQL at its deadline is orphaned: its callers are answered, and it
 * waits on its connection for the result that says what became of it. */
#include "webhook/ingest.h"
#include "core/log.h"
#include "pg/pgbin.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>

/* While calls wait for a busy connection, their deadlines are checked this often. */
#define INGEST_RECHECK_US 10000
/* PostgreSQL abandons a batch this long before we stop waiting for it, which leaves that
 * much for its commit and answer: a batch answered 503 has then (almost surely) not committed. */
#define INGEST_COMMIT_MARGIN_MS 100
/* How long an orphaned batch's connection waits for its result before giving up on it. */
#define INGEST_LATE_LIMIT_MS 30000
#define INGEST_FIX_TIMEOUT_MS 10000
/* Room for the message ids an orphaned batch's log line names (the line holds 2 KiB). */
#define INGEST_IDS_TEXT 1200

/* The batch as one binary array per field of hookgate.ingest_call (sql/002_ingest.sql), in
 * the order of batch_fields. */
static const char ingest_stmt[] = "hg_ingest";
static const char ingest_sql[] =
	"SELECT i, http_status, code, message_id FROM hookgate.ingest_batch($1::integer[],"
	" $2::bigint[], $3::bigint[], $4::integer[], $5::text[], $6::text[], $7::text[],"
	" $8::text[], $9::text[], $10::text[], $11::inet[], $12::text[], $13::integer[],"
	" $14::integer[], $15::timestamptz[], $16::integer)";
/* The usage rows of an orphaned batch that committed, made to say what their callers were told.
 * A call's row is the one of its token, its "at" (as sent, to the microsecond) and its message
 * (NULL when none was stored); invocation counts stay, as they count calls whatever became of
 * them. */
static const char fix_sql[] =
	"UPDATE hookgate.token_usage u SET http_status = 503"
	" FROM unnest($1::bigint[], $2::timestamptz[], $3::bigint[]) x (token_id, at, message_id)"
	" WHERE u.token_id = x.token_id AND u.at = x.at"
	" AND u.message_id IS NOT DISTINCT FROM x.message_id";

/* One call of a batch. call is NULL once its caller is answered; an orphaned batch keeps
 * token_id and at_us, which find the call's usage row. */
struct batch_slot {
	struct ingest_call *call;
	int64_t token_id;
	int64_t at_us;
};

struct ingest_batch {
	LIST_ENTRY(ingest_batch) link; /* in ing->inflight, or ing->orphans once orphaned */
	struct ingest *ing;
	bool orphaned;
	int64_t orphaned_us; /* when its callers were answered */
	int n;
	struct batch_slot slots[]; /* index = the call's "i" */
};

struct ingest {
	struct event_base *base;
	struct db_pool *pool;
	int max_batch;
	int delay_us;
	struct event *timer;
	struct ingest_call *head;
	struct ingest_call **tail;
	int nqueued;
	int64_t queued_since_us; /* when the oldest queued call was submitted */
	int want;		 /* after a batch: wait for this many queued calls ... */
	int64_t want_until_us;	 /* ... or until then (see batch_done) */
	LIST_HEAD(, ingest_batch) inflight;
	int ninflight;
	LIST_HEAD(, ingest_batch) orphans; /* answered, their statements still running */
	struct ingest_stats stats;
};

static void ingest_pump(struct ingest *ing, bool due);

static int64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static const char *module_name(enum ingest_module m)
{
	switch (m) {
	case INGEST_MODULE_CHANNEL:
		return "channel";
	case INGEST_MODULE_BOT_INCOMING:
		return "bot_incoming";
	case INGEST_MODULE_BOT_MESSAGE:
		return "bot_message";
	case INGEST_MODULE_EXTENSION:
		return "extension";
	}
	return "invalid"; /* refused by the database: the batch fails */
}

/* Strict UTF-8 (no overlong forms, surrogates or code points above U+10FFFF). */
static bool utf8_valid(const unsigned char *s)
{
	while (*s) {
		unsigned c = *s++, need, min;
		if (c < 0x80)
			continue;
		if (c >= 0xc2 && c <= 0xdf)
			need = 1, min = 0x80;
		else if (c >= 0xe0 && c <= 0xef)
			need = 2, min = 0x800;
		else if (c >= 0xf0 && c <= 0xf4)
			need = 3, min = 0x10000;
		else
			return false;
		unsigned cp = c & (0x3f >> need);
		for (unsigned k = 0; k < need; k++, s++) {
			if ((*s & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (*s & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
	}
	return true;
}

/* Header-derived text is checked here again: one invalid UTF-8 byte would make PostgreSQL
 * refuse the parameter, i.e. fail every call of the batch. Such a value is sent as NULL. */
static const char *text_or_null(const char *value)
{
	if (value == NULL || value[0] == '\0' || !utf8_valid((const unsigned char *)value))
		return NULL;
	return value;
}

/* Where the column is NOT NULL: "" for a missing or invalid value. */
static const char *text_or_empty(const char *value)
{
	if (value == NULL || !utf8_valid((const unsigned char *)value))
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
};

static void call_fields(struct pgbin_array *f, const struct ingest_call *c, int i, int64_t now_us)
{
	pgbin_add_int4(&f[F_I], i);
	pgbin_add_int8(&f[F_TOKEN_ID], c->token_id);
	pgbin_add_int8(&f[F_USER_ID], c->user_id);
	pgbin_add_int4(&f[F_STATUS], c->status);
	pgbin_add_text(&f[F_MODULE], module_name(c->module));
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
}

/* The batch as the arrays ingest_batch() takes; false when out of memory (f is freed then). */
static bool batch_fields(const struct ingest_batch *b, struct pgbin_array f[F_COUNT])
{
	int64_t now = mono_us();
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

/* Answers every call of b: 503 for those the database did not answer, which may have been
 * stored when unknown (the batch was sent and not answered), and surely were not otherwise. */
static void batch_answer(struct ingest_batch *b, bool unknown)
{
	struct ingest *ing = b->ing;
	for (int i = 0; i < b->n; i++) {
		struct ingest_call *c = b->slots[i].call;
		b->slots[i].call = NULL; /* done frees it */
		if (c->http_status == 0) {
			c->http_status = 503;
			c->code = "unavailable";
			c->message_id = 0;
			c->outcome_unknown = unknown;
			ing->stats.failed_calls++;
		} else {
			ing->stats.calls++;
		}
		c->done(c, c->arg);
	}
}

static void batch_finish(struct ingest_batch *b, bool unknown)
{
	batch_answer(b, unknown);
	free(b);
}

static const char *static_code(const char *code)
{
	static const char *const known[] = { "token_invalid", "token_disabled", "forbidden",
					     "not_found" };
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
}

static void batch_log_failure(const struct ingest_batch *b, const PGresult *res,
			      enum db_outcome outcome)
{
	switch (outcome) {
	case DB_OUTCOME_NOT_SENT:
		log_debug("ingest batch of %d calls not sent to PostgreSQL: nothing stored", b->n);
		return;
	case DB_OUTCOME_LOST:
		log_warn("ingest batch of %d calls: the connection failed before PostgreSQL "
			 "answered; answered 503, whether it was stored stays unknown",
			 b->n);
		return;
	case DB_OUTCOME_LATE:
		log_warn("ingest batch of %d calls: no answer from PostgreSQL by the deadline; "
			 "answered 503 (outcome unknown), waiting for its result",
			 b->n);
		return;
	case DB_OUTCOME_ANSWERED:
		break;
	}
	if (res == NULL) {
		log_debug("ingest batch of %d calls: no answer from PostgreSQL", b->n);
		return;
	}
	/* The primary message only: DETAIL lines may quote a failing row (message bodies). */
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	/* 57014: the batch ran past its budget (a stalled server), not a bug. */
	log_msg(state && strcmp(state, "57014") == 0 ? LOG_LEVEL_WARN : LOG_LEVEL_ERROR,
		"ingest batch of %d calls failed: %s (SQLSTATE %s)", b->n,
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
		ok = db_query_params(b->ing->pool, fix_sql, 3, values, lengths, formats,
				     INGEST_FIX_TIMEOUT_MS, fix_done, NULL);
	}
	if (!ok)
		log_warn("late ingest batch: could not set its usage rows to 503 (no connection or "
			 "out of memory); they record what PostgreSQL decided");
	for (int k = 0; k < 3; k++)
		pgbin_free(&f[k]);
	free(ids);
}

/* The late result of an orphaned batch, whose callers were answered 503 (outcome unknown). */
static void orphan_done(struct ingest_batch *b, PGresult *res, enum db_outcome outcome)
{
	double late_s = (double)(mono_us() - b->orphaned_us) / 1e6;

	LIST_REMOVE(b, link);
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
		orphan_committed(b, res, late_s);
	}
	free(b);
}

/* b's statement still runs at the deadline: its callers are answered now (503, outcome
 * unknown) and b, keeping of each call only what finds its usage row, waits for its result in
 * ing->orphans. It no longer counts as the batch in flight: the next one may leave. */
static void batch_orphan(struct ingest_batch *b)
{
	struct ingest *ing = b->ing;

	for (int i = 0; i < b->n; i++) {
		b->slots[i].token_id = b->slots[i].call->token_id;
		b->slots[i].at_us = b->slots[i].call->at_us;
	}
	b->orphaned = true;
	b->orphaned_us = mono_us();
	LIST_INSERT_HEAD(&ing->orphans, b, link);
	ing->stats.late_batches++;
	batch_answer(b, true);
}

static void batch_done(PGresult *res, enum db_outcome outcome, void *arg)
{
	struct ingest_batch *b = arg;
	struct ingest *ing = b->ing;

	if (b->orphaned) {
		orphan_done(b, res, outcome);
		return;
	}
	LIST_REMOVE(b, link);
	ing->ninflight--;
	if (outcome == DB_OUTCOME_ANSWERED && res != NULL &&
	    PQresultStatus(res) == PGRES_TUPLES_OK) {
		for (int row = 0; row < PQntuples(res); row++)
			batch_apply_row(b, res, row);
	} else {
		ing->stats.failed_batches++;
		batch_log_failure(b, res, outcome);
	}
	int answered = b->n;
	if (outcome == DB_OUTCOME_LATE)
		batch_orphan(b);
	else
		batch_finish(b, outcome == DB_OUTCOME_LOST);
	/* The next batch waits (delay_us at most) for the clients just answered to send their
	 * next calls. Sent at once, it would hold only what queued meanwhile: the connections
	 * would split into two halves taking turns, in batches half as big as they can be, and
	 * each batch costs PostgreSQL a fixed price (statements, commit) besides its calls.
	 * Measured: 17-18 calls per batch without, 25 with; one hot token 11-15k -> 15-17k/s. */
	ing->want = ing->nqueued + answered;
	if (ing->want > ing->max_batch)
		ing->want = ing->max_batch;
	ing->want_until_us = mono_us() + ing->delay_us;
	evtimer_del(ing->timer);
	ingest_pump(ing, true);
}

/* Takes up to max_batch calls from the head of the queue. */
static struct ingest_batch *batch_take(struct ingest *ing)
{
	int n = ing->nqueued < ing->max_batch ? ing->nqueued : ing->max_batch;
	struct ingest_batch *b = calloc(1, sizeof(*b) + (size_t)n * sizeof(b->slots[0]));
	if (b == NULL)
		return NULL;
	b->ing = ing;
	b->n = n;
	for (int i = 0; i < n; i++) {
		b->slots[i].call = ing->head;
		ing->head = ing->head->next;
	}
	ing->nqueued -= n;
	if (ing->head == NULL)
		ing->tail = &ing->head;
	ing->queued_since_us = mono_us();
	return b;
}

/* Milliseconds left before the batch's oldest call must be answered; <= 0 when none. */
static int batch_time_left_ms(const struct ingest_batch *b)
{
	int64_t oldest = 0, now = mono_us();
	for (int i = 0; i < b->n; i++) {
		int64_t s = b->slots[i].call->started_us;
		if (s != 0 && (oldest == 0 || s < oldest))
			oldest = s;
	}
	if (oldest == 0)
		return INGEST_DEADLINE_MS;
	return (int)((oldest + INGEST_DEADLINE_MS * 1000 - now) / 1000);
}

static void batch_send(struct ingest *ing, struct ingest_batch *b)
{
	int left_ms = batch_time_left_ms(b);
	struct pgbin_array f[F_COUNT];
	const char *values[F_COUNT + 1];
	int lengths[F_COUNT + 1], formats[F_COUNT + 1];
	char budget[16];
	bool built = left_ms > INGEST_COMMIT_MARGIN_MS && batch_fields(b, f);

	for (int k = 0; built && k < F_COUNT; k++) {
		values[k] = (const char *)f[k].data;
		lengths[k] = (int)f[k].len;
		formats[k] = 1;
	}
	snprintf(budget, sizeof(budget), "%d", left_ms - INGEST_COMMIT_MARGIN_MS);
	values[F_COUNT] = budget;
	lengths[F_COUNT] = 0;
	formats[F_COUNT] = 0;
	LIST_INSERT_HEAD(&ing->inflight, b, link);
	ing->ninflight++;
	ing->stats.batches++;
	/* db_query_prepared_graced may fail the statement before returning (connection lost
	 * while sending): batch_done then already ran, which is why b is in the list before. */
	if (!built ||
	    !db_query_prepared_graced(ing->pool, ingest_stmt, F_COUNT + 1, values, lengths, formats,
				      left_ms, INGEST_LATE_LIMIT_MS, batch_done, b)) {
		LIST_REMOVE(b, link);
		ing->ninflight--;
		ing->stats.failed_batches++;
		batch_finish(b, false);
	}
	for (int k = 0; built && k < F_COUNT; k++)
		pgbin_free(&f[k]);
}

/* Answers 503 to the queued calls that started before limit_us (all of them for INT64_MAX):
 * calls that cannot be sent in time get their answer now rather than wait for a connection.
 * They are unlinked first, since a done callback may submit again. */
static void ingest_expire_queued(struct ingest *ing, int64_t limit_us)
{
	struct ingest_call **pp = &ing->head, *c, *expired = NULL, **etail = &expired;

	while ((c = *pp) != NULL) {
		if (limit_us != INT64_MAX && (c->started_us == 0 || c->started_us > limit_us)) {
			pp = &c->next;
			continue;
		}
		*pp = c->next;
		ing->nqueued--;
		c->next = NULL;
		*etail = c;
		etail = &c->next;
	}
	ing->tail = pp;
	while ((c = expired) != NULL) {
		expired = c->next;
		c->http_status = 503;
		c->code = "unavailable";
		c->message_id = 0;
		c->outcome_unknown = false;
		ing->stats.failed_calls++;
		c->done(c, c->arg);
	}
}

static void timer_arm(struct ingest *ing, int64_t us)
{
	struct timeval tv = { (time_t)(us / 1000000), (suseconds_t)(us % 1000000) };
	evtimer_add(ing->timer, &tv);
}

/* Whether the head of the queue leaves now: when it fills a batch, or when due (the delay has
 * passed, a batch was just answered, or enough calls arrived) unless batch_done asked to wait
 * for more calls and neither they nor the end of that wait have come. */
static bool batch_ready(const struct ingest *ing, bool due)
{
	if (ing->nqueued >= ing->max_batch)
		return true;
	if (!due)
		return false;
	return ing->want == 0 || ing->nqueued >= ing->want || mono_us() >= ing->want_until_us;
}

/* Sends what may be sent, one batch in flight at a time. Every batch locks its tokens' rows
 * until it commits, so two batches of one worker would mostly wait for each other (measured:
 * p99 191 ms with two, 48 ms with one); one bigger batch does the same work in one commit, and
 * the pool's other connection stays free for token look-ups and /healthz. With no connection
 * up, the batch fails at once instead of being held. */
static void ingest_pump(struct ingest *ing, bool due)
{
	const int limit = 1;

	while (ing->nqueued > 0 && ing->ninflight < limit && batch_ready(ing, due)) {
		struct ingest_batch *b = batch_take(ing);
		if (b == NULL)
			break;
		ing->want = 0;
		batch_send(ing, b);
	}
	if (ing->nqueued == 0) {
		evtimer_del(ing->timer);
	} else if (!evtimer_pending(ing->timer, NULL) && ing->want > 0) {
		int64_t left = ing->want_until_us - mono_us();
		timer_arm(ing, left > 0 ? left : 0);
	} else if (!evtimer_pending(ing->timer, NULL)) {
		int64_t waited = mono_us() - ing->queued_since_us;
		timer_arm(ing,
			  waited >= ing->delay_us ? INGEST_RECHECK_US : ing->delay_us - waited);
	}
}

static void ingest_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ingest *ing = arg;
	(void)fd;
	(void)what;
	ingest_expire_queued(ing, mono_us() - (int64_t)INGEST_DEADLINE_MS * 1000);
	ingest_pump(ing, true);
}

void ingest_submit(struct ingest *ing, struct ingest_call *call)
{
	call->http_status = 0;
	call->message_id = 0;
	call->outcome_unknown = false;
	call->next = NULL;
	if (ing->nqueued == 0)
		ing->queued_since_us = mono_us();
	*ing->tail = call;
	ing->tail = &call->next;
	ing->nqueued++;
	ingest_pump(ing, ing->want > 0 && ing->nqueued >= ing->want);
}

struct ingest *ingest_new(struct event_base *base, struct db_pool *pool, int max_batch,
			  int delay_us)
{
	struct ingest *ing = calloc(1, sizeof(*ing));

	if (ing == NULL)
		return NULL;
	ing->base = base;
	ing->pool = pool;
	ing->max_batch = max_batch > 0 ? max_batch : 1;
	ing->delay_us = delay_us > 0 ? delay_us : 0;
	ing->tail = &ing->head;
	LIST_INIT(&ing->inflight);
	LIST_INIT(&ing->orphans);
	ing->timer = evtimer_new(base, ingest_timer_cb, ing);
	/* Parsed and planned once per connection: per batch it was 4% of PostgreSQL's work. */
	if (ing->timer == NULL || !db_pool_prepare(pool, ingest_stmt, ingest_sql)) {
		ingest_free(ing);
		return NULL;
	}
	return ing;
}

void ingest_free(struct ingest *ing)
{
	struct ingest_batch *b;
	if (ing == NULL)
		return;
	/* A batch in flight may already be in PostgreSQL: its outcome is unknown. */
	while ((b = LIST_FIRST(&ing->inflight)) != NULL) {
		LIST_REMOVE(b, link);
		ing->ninflight--;
		log_warn("stopping: ingest batch of %d calls not answered by PostgreSQL yet; "
			 "answered 503, whether it was stored stays unknown",
			 b->n);
		for (int i = 0; i < b->n; i++)
			b->slots[i].call->http_status = 0;
		batch_finish(b, true);
	}
	while ((b = LIST_FIRST(&ing->orphans)) != NULL) {
		LIST_REMOVE(b, link);
		log_warn("stopping: ingest batch of %d calls answered 503 at its deadline has "
			 "had no answer from PostgreSQL; whether those calls were stored stays "
			 "unknown (message ids unknown)",
			 b->n);
		free(b);
	}
	ingest_expire_queued(ing, INT64_MAX);
	if (ing->timer)
		event_free(ing->timer);
	free(ing);
}

void ingest_get_stats(const struct ingest *ing, struct ingest_stats *out)
{
	*out = ing->stats;
}
