/* SPDX-License-Identifier: Apache-2.0 */
/* token_table: the token cache's memory, without PostgreSQL (README "Webhook endpoints"). It
 * owns what is known of each keyed token hash (a known token until a notification or a
 * reconnect drops it, an unknown one for 5 s) and the look-ups waiting for the one query per
 * missing hash. token_cache.c sends those queries and hands their answers here; kept apart so
 * that the cache's rules can be tested on their own. */
#ifndef HG_TOKEN_TABLE_H
#define HG_TOKEN_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/crypto.h"
#include "core/token.h"
#include "webhook/token_limits.h"

/* An unknown token is answered from memory this long after PostgreSQL said so. */
#define TOKEN_TABLE_NEGATIVE_TTL_MS 5000
/* A flood of well-formed unknown tokens costs one query each: cap what may be in flight. */
#define TOKEN_TABLE_MAX_PENDING 1024
/* Entries kept at most (the table is kept at most half full: 131,072 slots, 11 MiB); past it, a
 * new entry evicts an old one. */
#define TOKEN_TABLE_MAX_ENTRIES 65536

enum token_cache_result {
	TOKEN_CACHE_ACTIVE,
	TOKEN_CACHE_DISABLED,
	TOKEN_CACHE_UNKNOWN,	 /* unknown or deleted: 401 token_invalid */
	TOKEN_CACHE_UNAVAILABLE, /* database error, time-out or no connection: 503 */
};

/* What a look-up learns of a token: all zero unless the result is ACTIVE or DISABLED. The
 * public id is the name the access log shows (never the token). generation is that of the
 * secret that matched (the token's, or the one before for a rotated token's previous secret,
 * which is then valid until valid_until_ms); expires_ms is the token's expiry; both are wall
 * clock milliseconds, 0 = none. limits is NULL for a token without any; it belongs to the table
 * and is valid only while the callback runs. */
struct token_info {
	int64_t id;
	int64_t user_id;
	char public_id[TOKEN_PUBLIC_ID_LEN + 1];
	int generation;
	int64_t valid_until_ms;
	int64_t expires_ms;
	struct token_limits *limits;
	bool exposed; /* disabled because it was reported leaked (sql/010_token_revoke.sql) */
};
typedef void (*token_cache_cb)(enum token_cache_result result, const struct token_info *info,
			       void *arg);

struct token_table;
/* The query under way for one hash, and the look-ups waiting for it. */
struct token_pending;

struct token_table *token_table_new(void);
/* Look-ups still waiting are answered UNAVAILABLE. */
void token_table_free(struct token_table *t);

/* The cached answer for hash at now_ms (monotonic): true on a hit, with *result and *info set
 * as token_cache_cb takes them. */
bool token_table_get(struct token_table *t, const unsigned char hash[CRYPTO_HASH_LEN],
		     int64_t now_ms, enum token_cache_result *result, struct token_info *info);

/* After a miss: cb waits for the query under way for hash, or for a new one (*is_new: the
 * caller sends it, then hands its answer to token_table_answer). NULL when it cannot wait (out
 * of memory, or TOKEN_TABLE_MAX_PENDING queries under way): the caller answers UNAVAILABLE. */
struct token_pending *token_table_wait(struct token_table *t,
				       const unsigned char hash[CRYPTO_HASH_LEN], token_cache_cb cb,
				       void *arg, bool *is_new);
const unsigned char *token_pending_hash(const struct token_pending *p);
/* The query's answer goes to every look-up waiting on p, in order, and is cached unless it is
 * UNAVAILABLE or the table was flushed or notified since p began (it may be stale then). Frees
 * p; a waiter may look up again, even the same hash. Takes over the reference info->limits
 * holds. */
void token_table_answer(struct token_pending *p, enum token_cache_result result,
			const struct token_info *info, int64_t now_ms);

/* Forget everything (after a reconnect: notifications may have been missed). */
void token_table_flush(struct token_table *t);
/* A hookgate_tokens payload "<id>:<hex hash>": drops the entry of that hash (negative ones
 * too) and the entry of that id. False when the payload is malformed: everything is flushed
 * then. Idempotent. */
bool token_table_notify(struct token_table *t, const char *payload);

int token_table_size(const struct token_table *t);

#endif
