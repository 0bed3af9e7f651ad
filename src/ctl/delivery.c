/* SPDX-License-Identifier: Apache-2.0 */
/* ctl_delivery: "hookgatectl delivery status|list|replay" (docs/hookgatectl.md, "Delivery"):
 * what the delivery workers did and have still to do, read from hookgate.destinations,
 * delivery_queue and delivery_attempts, and the replay of a time window to one destination
 * (hookgate.delivery_replay queues it and writes its audit row in the same statement). */
#include "ctl/ctl.h"
#include "core/config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define LIST_LIMIT_DEFAULT 50
#define LIST_LIMIT_MAX 1000
#define REPLAY_MAX_DAYS 14

/* ---- status --------------------------------------------------------------------------------- */

// clang-format off
static const char status_sql[] =
	"SELECT " CTL_SQL_DEST_LABEL("d") " AS destination,"
	" CASE WHEN NOT d.enabled THEN 'disabled (' || d.disabled_reason || ')'"
	"  WHEN d.failing_since IS NOT NULL THEN 'failing' ELSE 'ok' END AS state,"
	" " CTL_SQL_TIME("d.failing_since") " AS failing_since,"
	" (SELECT count(*) FROM hookgate.delivery_queue q WHERE q.destination_id = d.id) AS queued,"
	" " CTL_SQL_TIME("a.at") " AS last_attempt, a.outcome AS last_outcome,"
	" a.http_status AS last_status"
	" FROM hookgate.destinations d LEFT JOIN LATERAL (SELECT at, outcome, http_status"
	"   FROM hookgate.delivery_attempts x WHERE x.destination_id = d.id"
	"   ORDER BY x.at DESC LIMIT 1) a ON true"
	" ORDER BY d.module, d.target";
// clang-format on

static int delivery_status(struct ctl_ctx *ctx, int argc, char **argv)
{
	int rc = ctl_args(ctx, "delivery status", argc - 1, argv + 1, NULL, 0, NULL, 0);

	if (rc != CTL_OK)
		return rc;
	if (!ctl_db_open(ctx))
		return CTL_REFUSED;

	PGresult *res = ctl_db_exec(ctx, status_sql, 0, NULL);

	if (!res)
		return ctl_db_fail(ctx);
	return ctl_out_listing(ctx, res, NULL, "destinations");
}

/* ---- list ----------------------------------------------------------------------------------- */

/* The answer's first KiB only with --json: it does not fit a table. */
#define LIST_COLS(extra)                                                                           \
	"SELECT " CTL_SQL_TIME("a.at") " AS at, a.message_id, a.attempt, a.outcome,"               \
				       " a.http_status, a.error, round(a.latency_us / 1000.0, "    \
				       "1)::text AS latency_ms,"                                   \
				       " " CTL_SQL_TIME(                                           \
					       "a.next_at") " AS next_at" extra                    \
							    " FROM hookgate.delivery_attempts a "  \
							    "WHERE a.destination_id = $1"          \
							    " ORDER BY a.at DESC LIMIT $2"

static const char list_sql[] = LIST_COLS("");
static const char list_json_sql[] = LIST_COLS(", a.response");

/* Positive decimal, at most max; "" or anything else is refused. */
static bool parse_count(const char *text, long max, long *out)
{
	char *end;
	long v;

	if (!isdigit((unsigned char)text[0]))
		return false;
	v = strtol(text, &end, 10);
	if (*end != '\0' || v < 1 || v > max)
		return false;
	*out = v;
	return true;
}

/* --destination D: its row id, connected (and the channel, bot or extension checked). */
static int find_destination(struct ctl_ctx *ctx, const char *spec, struct ctl_dest *d,
			    char id[CTL_ID_LEN])
{
	int rc = ctl_dest_parse(ctx, spec, d);

	if (rc != CTL_OK)
		return rc;
	if (!ctl_db_open(ctx) || !ctl_dest_target_exists(ctx, d) || !ctl_dest_find(ctx, d, id))
		return CTL_REFUSED;
	return CTL_OK;
}

static int delivery_list(struct ctl_ctx *ctx, int argc, char **argv)
{
	const char *spec = NULL, *limit_arg = NULL;
	const struct ctl_opt opts[] = { { "--destination", &spec, NULL },
					{ "--limit", &limit_arg, NULL } };
	struct ctl_dest d;
	char id[CTL_ID_LEN], limit[CTL_ID_LEN];
	long n = LIST_LIMIT_DEFAULT;
	int rc = ctl_args(ctx, "delivery list", argc - 1, argv + 1, opts, 2, NULL, 0);

	if (rc != CTL_OK)
		return rc;
	if (!spec)
		return ctl_usage_error(ctx, "delivery list: --destination D is required");
	if (limit_arg && !parse_count(limit_arg, LIST_LIMIT_MAX, &n))
		return ctl_usage_error(ctx, "delivery list: --limit takes 1 to %d", LIST_LIMIT_MAX);
	rc = find_destination(ctx, spec, &d, id);
	if (rc != CTL_OK)
		return rc;
	snprintf(limit, sizeof(limit), "%ld", n);

	const char *params[] = { id, limit };
	PGresult *res = ctl_db_exec(ctx, ctx->json ? list_json_sql : list_sql, 2, params);

	if (!res)
		return ctl_db_fail(ctx);

	cJSON *obj = cJSON_CreateObject();

	cJSON_AddStringToObject(obj, "destination", d.label);
	return ctl_out_listing(ctx, res, obj, "attempts");
}

/* ---- replay --------------------------------------------------------------------------------- */

/* s against pat, where 'd' is a digit and anything else itself: the length matched, or 0. */
static size_t match(const char *s, const char *pat)
{
	size_t i;

	for (i = 0; pat[i] != '\0'; i++) {
		if (pat[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != pat[i])
			return 0;
	}
	return i;
}

/* After "HH:MM": optional ":SS" with up to six fraction digits, then "Z", "+HH", "+HH:MM",
 * "+HHMM" (or '-') or nothing. */
static bool iso_clock_tail(const char *s)
{
	size_t n = match(s, ":dd");

	if (n > 0 && s[n] == '.') {
		size_t frac = strspn(s + n + 1, "0123456789");

		if (frac < 1 || frac > 6)
			return false;
		n += 1 + frac;
	}
	s += n;
	if (*s == 'Z')
		return s[1] == '\0';
	if (*s != '+' && *s != '-')
		return *s == '\0';
	if (!(n = match(s + 1, "dd")))
		return false;
	s += 1 + n;
	s += (n = match(s, ":dd")) ? n : match(s, "dd");
	return *s == '\0';
}

/* ISO 8601 as PostgreSQL reads it, and none of what it would also take ("now", "epoch",
 * "yesterday", "infinity"): YYYY-MM-DD, optionally followed by [T ]HH:MM[:SS[.frac]] and Z or
 * an offset. Without an offset the time is UTC (replay sets the session's time zone). */
static bool iso_time(const char *s)
{
	size_t n = match(s, "dddd-dd-dd");

	if (n == 0)
		return false;
	s += n;
	if (*s == '\0')
		return true;
	if ((*s != 'T' && *s != ' ') || !(n = match(s + 1, "dd:dd")))
		return false;
	return iso_clock_tail(s + 1 + n);
}

/* T of --since/--until into the two parameters of window_sql: an ISO 8601 time into *iso, or a
 * duration with its unit ("90m", "2h", "7d": that long ago) into *ago as an interval. */
static bool parse_when(const char *text, const char **iso, char *ago, size_t agolen)
{
	int64_t ms;
	size_t len = strlen(text);

	if (iso_time(text)) {
		*iso = text;
		return true;
	}
	if (len < 2 || !isalpha((unsigned char)text[len - 1]) || !cfg_parse_duration(text, &ms))
		return false;
	snprintf(ago, agolen, "%lld milliseconds", (long long)ms);
	return true;
}

#define SQL_UTC_US(x) "to_char((" x ") AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

/* The window as exact UTC times, whether it is not empty, and whether it is short enough. */
static const char window_sql[] = "SELECT " SQL_UTC_US("w.s") ", " SQL_UTC_US(
	"w.u") ", w.s < w.u,"
	       " w.u - w.s <= make_interval(days => 14)" /* REPLAY_MAX_DAYS */
	       " FROM (SELECT coalesce($1::timestamptz, now() - $2::interval) AS s,"
	       "   coalesce($3::timestamptz, now() - $4::interval, now()) AS u) w";

struct replay_window {
	const char *params[4]; /* of window_sql */
	char ago[2][48];
	char since[40], until[40]; /* the window as window_sql resolved it */
};

/* --since and --until into w->params; CTL_USAGE after reporting a malformed time. */
static int replay_args(struct ctl_ctx *ctx, const char *since, const char *until,
		       struct replay_window *w)
{
	memset(w, 0, sizeof(*w));
	if (!parse_when(since, &w->params[0], w->ago[0], sizeof(w->ago[0])) ||
	    (until && !parse_when(until, &w->params[2], w->ago[1], sizeof(w->ago[1]))))
		return ctl_usage_error(ctx,
				       "delivery replay: a time is an ISO 8601 date or time"
				       " (2024-05-01T12:00:00Z) or a duration ago (90m, 2h, 3d)");
	w->params[1] = w->params[0] ? NULL : w->ago[0];
	w->params[3] = w->params[2] || !until ? NULL : w->ago[1];
	return CTL_OK;
}

/* Resolves the window to exact times once, so the check and the replay see the same one. */
static bool replay_window(struct ctl_ctx *ctx, struct replay_window *w)
{
	PGresult *res;
	bool nonempty, short_enough;

	if (!ctl_db_run(ctx, "SET TIME ZONE 'UTC'", 0, NULL))
		return ctl_db_fail(ctx), false;
	res = ctl_db_exec(ctx, window_sql, 4, w->params);
	if (!res)
		return ctl_db_fail(ctx), false;
	snprintf(w->since, sizeof(w->since), "%s", PQgetvalue(res, 0, 0));
	snprintf(w->until, sizeof(w->until), "%s", PQgetvalue(res, 0, 1));
	nonempty = PQgetvalue(res, 0, 2)[0] == 't';
	short_enough = PQgetvalue(res, 0, 3)[0] == 't';
	PQclear(res);
	if (!nonempty)
		return ctl_fail(ctx, "delivery replay: --since must be before --until"), false;
	if (!short_enough)
		return ctl_fail(ctx, "delivery replay: at most %d days at once", REPLAY_MAX_DAYS),
		       false;
	return true;
}

static int delivery_replay(struct ctl_ctx *ctx, int argc, char **argv)
{
	const char *spec = NULL, *since = NULL, *until = NULL;
	const struct ctl_opt opts[] = { { "--destination", &spec, NULL },
					{ "--since", &since, NULL },
					{ "--until", &until, NULL } };
	struct ctl_dest d;
	struct replay_window w;
	char id[CTL_ID_LEN];
	int rc = ctl_args(ctx, "delivery replay", argc - 1, argv + 1, opts, 3, NULL, 0);

	if (rc != CTL_OK)
		return rc;
	if (!spec || !since)
		return ctl_usage_error(
			ctx, "delivery replay: --destination D and --since T are required");
	rc = replay_args(ctx, since, until, &w);
	if (rc == CTL_OK)
		rc = find_destination(ctx, spec, &d, id);
	if (rc != CTL_OK)
		return rc;
	if (!replay_window(ctx, &w))
		return CTL_REFUSED;

	const char *params[] = { id, w.since, w.until };
	PGresult *res = ctl_db_exec(ctx,
				    "SELECT hookgate.delivery_replay($1::bigint, $2::timestamptz,"
				    " $3::timestamptz, 'hookgatectl')",
				    3, params);

	if (!res)
		return ctl_db_fail(ctx);

	long long n = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	cJSON *obj = cJSON_CreateObject();

	PQclear(res);
	cJSON_AddStringToObject(obj, "destination", d.label);
	cJSON_AddStringToObject(obj, "since", w.since);
	cJSON_AddStringToObject(obj, "until", w.until);
	cJSON_AddNumberToObject(obj, "queued", (double)n);
	return ctl_done(ctx, obj, "queued %lld messages for %s (stored from %s until %s)", n,
			d.label, w.since, w.until);
}

int ctl_delivery_main(struct ctl_ctx *ctx, int argc, char **argv)
{
	static const struct ctl_command table[] = {
		{ "status", delivery_status },
		{ "list", delivery_list },
		{ "replay", delivery_replay },
	};

	return ctl_subcommand(ctx, "delivery", table, sizeof(table) / sizeof(table[0]), argc, argv);
}
