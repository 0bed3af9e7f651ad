/* SPDX-License-Identifier: Apache-2.0 */
/* token_cache: a webhook worker's look-up of tokens by their keyed hash (docs/schema.md,
 * "Secrets"). Known tokens stay cached until a NOTIFY on hookgate_tokens (sql/002_ingest.sql) or a
 * reconnect drops them; unknown ones for 5 s; concurrent misses for one hash share a query. The
 * memory and its rules are webhook/token_table.h's; this module asks PostgreSQL. */
#ifndef HG_TOKEN_CACHE_H
#define HG_TOKEN_CACHE_H

#include <stdint.h>

#include "core/crypto.h"
#include "pg/db.h"
#include "webhook/token_table.h" /* enum token_cache_result, token_cache_cb */

#define TOKEN_CACHE_CHANNEL "hookgate_tokens"

struct token_cache;

/* Registers the pool's LISTEN (db_pool_listen: one channel per pool), so call it right after
 * db_pool_new, before the loop runs. keys must outlive the cache. NULL when out of memory or
 * when the LISTEN cannot be registered. */
struct token_cache *token_cache_new(struct db_pool *pool, const struct crypto_keys *keys);
/* Look-ups still waiting are answered UNAVAILABLE. Free it only once the loop has stopped
 * (the pool, freed before or after, never calls back into it). */
void token_cache_free(struct token_cache *tc);

/* token: a format-checked token (token_check_format). cb may run before this returns (hit,
 * or no connection); it may call token_cache_lookup again. */
void token_cache_lookup(struct token_cache *tc, const char *token, token_cache_cb cb, void *arg);

/* Forget everything: the pool's on_connect must call it, since notifications may have been
 * missed while a connection was down. Answers of queries in flight are not cached either. */
void token_cache_flush(struct token_cache *tc);
/* A hookgate_tokens payload "<id>:<hex hash>": drops the entry of that id and the entry of
 * that hash (negative ones too). Idempotent: a payload arrives on every connection. */
void token_cache_notify(struct token_cache *tc, const char *payload);

#endif
