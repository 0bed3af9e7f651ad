/* SPDX-License-Identifier: Apache-2.0 */
/* token_cache: see token_cache.h. What is known and who waits for what is token_table.c's;
 * here a miss becomes a query, its result an answer, and NOTIFY and reconnects reach the
 * table. */
#include "webhook/token_cache.h"
#include "webhook/token_table.h"
#include "lib/encoding.h"
#include "core/log.h"
#include "core/token.h"
#include "lib/clock.h"
#include "proc/metrics.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TC_QUERY_TIMEOUT_MS 900

/* The token whose current or previous secret has this hash (sql/009_token_lifecycle.sql): one
 * probe of each unique index, and at most one row. Times as wall clock milliseconds. A token
 * whose owner is disabled (sql/008_org.sql) is refused like a disabled one; one reported
 * exposed (sql/010_token_revoke.sql) says so in its refusal. */
#define TC_COLS(gen)                                                                               \
	"SELECT id, user_id, CASE WHEN owner_disabled THEN 'disabled' ELSE status END, "           \
	"public_id, " gen ", "                                                                     \
	"(extract(epoch FROM expires_at) * 1000)::bigint, networks::text[], targets, "             \
	"disabled_reason IS NOT DISTINCT FROM 'exposed', "
// clang-format off
static const char tc_sql[] =
	TC_COLS("generation") "NULL::bigint FROM hookgate.webhook_tokens"
	" WHERE token_hash = $1 AND deleted_at IS NULL"
	" UNION ALL "
	TC_COLS("generation - 1") "(extract(epoch FROM previous_until) * 1000)::bigint"
	" FROM hookgate.webhook_tokens"
	" WHERE previous_hash = $1 AND previous_until > now() AND deleted_at IS NULL";
// clang-format on

static int64_t tc_ms(const PGresult *res, int col)
{
	return PQgetisnull(res, 0, col) ? 0 : strtoll(PQgetvalue(res, 0, col), NULL, 10);
}

static const char *tc_text(const PGresult *res, int col)
{
	return PQgetisnull(res, 0, col) ? NULL : PQgetvalue(res, 0, col);
}

struct token_cache {
	struct db_pool *pool;
	const struct crypto_keys *keys;
	struct token_table *table;
};

static enum token_cache_result tc_parse(const PGresult *res, struct token_info *info)
{
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
		log_debug("token look-up failed: %s",
			  res ? PQresultErrorMessage(res) : "no answer from PostgreSQL");
		return TOKEN_CACHE_UNAVAILABLE;
	}
	if (PQntuples(res) == 0)
		return TOKEN_CACHE_UNKNOWN;
	/* A row this build cannot read refuses the token's calls rather than drop its limits. */
	if (!token_limits_parse(tc_text(res, 6), tc_text(res, 7), &info->limits)) {
		log_error("token look-up: cannot read the limits of token %s",
			  PQgetvalue(res, 0, 3));
		return TOKEN_CACHE_UNAVAILABLE;
	}
	info->id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	info->user_id = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	snprintf(info->public_id, sizeof(info->public_id), "%s", PQgetvalue(res, 0, 3));
	info->generation = (int)strtol(PQgetvalue(res, 0, 4), NULL, 10);
	info->expires_ms = tc_ms(res, 5);
	info->valid_until_ms = tc_ms(res, 9);
	info->exposed = strcmp(PQgetvalue(res, 0, 8), "t") == 0;
	return strcmp(PQgetvalue(res, 0, 2), "active") == 0 ? TOKEN_CACHE_ACTIVE
							    : TOKEN_CACHE_DISABLED;
}

static void tc_query_done(PGresult *res, void *arg)
{
	struct token_pending *p = arg;
	struct token_info info = { 0 };
	enum token_cache_result r = tc_parse(res, &info);
	token_table_answer(p, r, &info, clock_mono_ms());
}

/* The query p waits for; false when it cannot be sent. */
static bool tc_query(struct token_cache *tc, struct token_pending *p)
{
	char param[2 + 2 * CRYPTO_HASH_LEN + 1] = "\\x";
	const char *params[] = { param };

	hex_encode(token_pending_hash(p), CRYPTO_HASH_LEN, param + 2);
	return db_query(tc->pool, tc_sql, 1, params, TC_QUERY_TIMEOUT_MS, tc_query_done, p);
}

void token_cache_lookup(struct token_cache *tc, const char *token, token_cache_cb cb, void *arg)
{
	unsigned char hash[CRYPTO_HASH_LEN];
	static const struct token_info none;
	enum token_cache_result r;
	struct token_info info;
	struct token_pending *p;
	bool is_new;

	token_hash(tc->keys, token, hash);
	if (token_table_get(tc->table, hash, clock_mono_ms(), &r, &info)) {
		metrics_cache(r == TOKEN_CACHE_UNKNOWN ? METRICS_CACHE_NEGATIVE_HIT
						       : METRICS_CACHE_HIT);
		cb(r, &info, arg);
		return;
	}
	metrics_cache(METRICS_CACHE_MISS);
	p = token_table_wait(tc->table, hash, cb, arg, &is_new);
	if (p == NULL)
		cb(TOKEN_CACHE_UNAVAILABLE, &none, arg);
	else if (is_new && !tc_query(tc, p))
		token_table_answer(p, TOKEN_CACHE_UNAVAILABLE, &none, clock_mono_ms());
}

void token_cache_flush(struct token_cache *tc)
{
	token_table_flush(tc->table);
}

void token_cache_notify(struct token_cache *tc, const char *payload)
{
	if (!token_table_notify(tc->table, payload))
		log_warn("unexpected %s payload; flushing the token cache", TOKEN_CACHE_CHANNEL);
}

static void tc_on_notify(const char *channel, const char *payload, void *arg)
{
	if (strcmp(channel, TOKEN_CACHE_CHANNEL) == 0)
		token_cache_notify(arg, payload);
}

struct token_cache *token_cache_new(struct db_pool *pool, const struct crypto_keys *keys)
{
	struct token_cache *tc = calloc(1, sizeof(*tc));
	if (tc == NULL)
		return NULL;
	tc->pool = pool;
	tc->keys = keys;
	tc->table = token_table_new();
	if (tc->table == NULL || !db_pool_listen(pool, TOKEN_CACHE_CHANNEL, tc_on_notify, tc)) {
		token_table_free(tc->table);
		free(tc);
		return NULL;
	}
	return tc;
}

void token_cache_free(struct token_cache *tc)
{
	if (tc == NULL)
		return;
	token_table_free(tc->table);
	free(tc);
}
