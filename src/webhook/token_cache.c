/* token_cache: see token_cache.h. An open-addressing table (linear probing, backward-shift
 * deletion, so no tombstones) keyed by the 32-byte HMAC hash. HMAC output is uniform, so its
 * first bytes serve as the slot index directly. */
#include "webhook/token_cache.h"
#include "lib/encoding.h"
#include "core/log.h"
#include "core/token.h"
#include "lib/clock.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#define TC_MIN_SLOTS 256
#define TC_MAX_SLOTS 131072 /* kept at most half full: 65,536 entries, 5 MiB */
#define TC_NEGATIVE_TTL_MS 5000
#define TC_QUERY_TIMEOUT_MS 900
/* A flood of well-formed unknown tokens costs one query each: cap what may be in flight. */
#define TC_MAX_PENDING 1024

static const char tc_sql[] = "SELECT id, user_id, status FROM hookgate.webhook_tokens"
			     " WHERE token_hash = $1 AND deleted_at IS NULL";

enum tc_state { TC_EMPTY, TC_ACTIVE, TC_DISABLED, TC_UNKNOWN };

struct tc_entry {
	unsigned char hash[CRYPTO_HASH_LEN];
	int64_t id;
	int64_t user_id;
	int64_t expires_ms; /* TC_UNKNOWN only */
	uint8_t state;
};

struct tc_waiter {
	struct tc_waiter *next;
	token_cache_cb cb;
	void *arg;
};

/* One query in flight and every look-up of the same hash waiting for it. */
struct tc_pending {
	LIST_ENTRY(tc_pending) link;
	struct token_cache *tc;
	unsigned char hash[CRYPTO_HASH_LEN];
	uint64_t generation;
	struct tc_waiter *first;
	struct tc_waiter **last;
};

struct token_cache {
	struct db_pool *pool;
	const struct crypto_keys *keys;
	struct tc_entry *slots;
	size_t nslots; /* a power of two */
	size_t count;
	/* Bumped by every flush and notification: an answer to a query sent before may be stale,
	 * so it is passed on to its waiters but not cached. */
	uint64_t generation;
	LIST_HEAD(, tc_pending) pending;
	int npending;
};

static size_t slot_home(const struct token_cache *tc, const unsigned char *hash)
{
	uint64_t v;
	memcpy(&v, hash, sizeof(v));
	return (size_t)v & (tc->nslots - 1);
}

static struct tc_entry *tc_find(struct token_cache *tc, const unsigned char *hash)
{
	size_t mask = tc->nslots - 1;
	for (size_t i = slot_home(tc, hash);; i = (i + 1) & mask) {
		struct tc_entry *e = &tc->slots[i];
		if (e->state == TC_EMPTY)
			return NULL;
		if (memcmp(e->hash, hash, CRYPTO_HASH_LEN) == 0)
			return e;
	}
}

/* Backward-shift deletion: later entries of the cluster move up unless that would put them
 * before their home slot, so every probe sequence stays unbroken. */
static void tc_remove_at(struct token_cache *tc, size_t i)
{
	size_t mask = tc->nslots - 1;
	for (size_t j = (i + 1) & mask; tc->slots[j].state != TC_EMPTY; j = (j + 1) & mask) {
		size_t home = slot_home(tc, tc->slots[j].hash);
		if (((j - home) & mask) >= ((j - i) & mask)) {
			tc->slots[i] = tc->slots[j];
			i = j;
		}
	}
	tc->slots[i].state = TC_EMPTY;
	tc->count--;
}

static void tc_place(struct token_cache *tc, const struct tc_entry *entry)
{
	size_t mask = tc->nslots - 1, i = slot_home(tc, entry->hash);
	while (tc->slots[i].state != TC_EMPTY)
		i = (i + 1) & mask;
	tc->slots[i] = *entry;
	tc->count++;
}

static bool tc_grow(struct token_cache *tc)
{
	struct tc_entry *old = tc->slots;
	size_t oldn = tc->nslots;
	struct tc_entry *slots = calloc(oldn * 2, sizeof(*slots));
	if (slots == NULL)
		return false;
	tc->slots = slots;
	tc->nslots = oldn * 2;
	tc->count = 0;
	for (size_t i = 0; i < oldn; i++) {
		if (old[i].state != TC_EMPTY)
			tc_place(tc, &old[i]);
	}
	free(old);
	return true;
}

/* Makes room for one more entry: grow while allowed, else evict the first entry found from
 * the new entry's home slot on, which is as good as a random victim (hashes are uniform). */
static void tc_make_room(struct token_cache *tc, const unsigned char *hash)
{
	if ((tc->count + 1) * 2 <= tc->nslots)
		return;
	if (tc->nslots < TC_MAX_SLOTS && tc_grow(tc))
		return;
	size_t mask = tc->nslots - 1, i = slot_home(tc, hash);
	while (tc->slots[i].state == TC_EMPTY)
		i = (i + 1) & mask;
	tc_remove_at(tc, i);
}

static void tc_store(struct token_cache *tc, const unsigned char *hash, enum tc_state state,
		     int64_t id, int64_t user_id)
{
	struct tc_entry entry = { .id = id, .user_id = user_id, .state = (uint8_t)state };
	struct tc_entry *e = tc_find(tc, hash);

	memcpy(entry.hash, hash, CRYPTO_HASH_LEN);
	if (state == TC_UNKNOWN)
		entry.expires_ms = clock_mono_ms() + TC_NEGATIVE_TTL_MS;
	if (e != NULL) {
		*e = entry;
		return;
	}
	tc_make_room(tc, hash);
	tc_place(tc, &entry);
}

static void tc_answer(const struct tc_entry *e, token_cache_cb cb, void *arg)
{
	if (e->state == TC_ACTIVE)
		cb(TOKEN_CACHE_ACTIVE, e->id, e->user_id, arg);
	else if (e->state == TC_DISABLED)
		cb(TOKEN_CACHE_DISABLED, e->id, e->user_id, arg);
	else
		cb(TOKEN_CACHE_UNKNOWN, 0, 0, arg);
}

static void tc_pending_free(struct tc_pending *p)
{
	struct tc_waiter *w = p->first, *next;
	for (; w != NULL; w = next) {
		next = w->next;
		free(w);
	}
	free(p);
}

static enum token_cache_result tc_parse(const PGresult *res, int64_t *id, int64_t *user_id)
{
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
		log_debug("token look-up failed: %s",
			  res ? PQresultErrorMessage(res) : "no answer from PostgreSQL");
		return TOKEN_CACHE_UNAVAILABLE;
	}
	if (PQntuples(res) == 0)
		return TOKEN_CACHE_UNKNOWN;
	*id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	*user_id = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	return strcmp(PQgetvalue(res, 0, 2), "active") == 0 ? TOKEN_CACHE_ACTIVE
							    : TOKEN_CACHE_DISABLED;
}

static enum tc_state tc_state_of(enum token_cache_result r)
{
	return r == TOKEN_CACHE_ACTIVE	   ? TC_ACTIVE
	       : r == TOKEN_CACHE_DISABLED ? TC_DISABLED
					   : TC_UNKNOWN;
}

static void tc_query_done(PGresult *res, void *arg)
{
	struct tc_pending *p = arg;
	struct token_cache *tc = p->tc;
	int64_t id = 0, user_id = 0;
	enum token_cache_result r = tc_parse(res, &id, &user_id);

	if (r != TOKEN_CACHE_UNAVAILABLE && p->generation == tc->generation)
		tc_store(tc, p->hash, tc_state_of(r), id, user_id);
	LIST_REMOVE(p, link);
	tc->npending--;
	/* Waiters may look up again (even this hash): p is already out of the list. */
	for (struct tc_waiter *w = p->first; w != NULL; w = w->next)
		w->cb(r, id, user_id, w->arg);
	tc_pending_free(p);
}

static struct tc_pending *tc_pending_find(struct token_cache *tc, const unsigned char *hash)
{
	struct tc_pending *p;
	LIST_FOREACH(p, &tc->pending, link)
	{
		if (memcmp(p->hash, hash, CRYPTO_HASH_LEN) == 0)
			return p;
	}
	return NULL;
}

static bool tc_wait(struct tc_pending *p, token_cache_cb cb, void *arg)
{
	struct tc_waiter *w = calloc(1, sizeof(*w));
	if (w == NULL)
		return false;
	w->cb = cb;
	w->arg = arg;
	*p->last = w;
	p->last = &w->next;
	return true;
}

/* A new query for hash, with cb as its first waiter; false when it cannot be sent. */
static bool tc_query(struct token_cache *tc, const unsigned char *hash, token_cache_cb cb,
		     void *arg)
{
	char param[2 + 2 * CRYPTO_HASH_LEN + 1] = "\\x";
	const char *params[] = { param };
	struct tc_pending *p;

	if (tc->npending >= TC_MAX_PENDING || (p = calloc(1, sizeof(*p))) == NULL)
		return false;
	p->tc = tc;
	memcpy(p->hash, hash, CRYPTO_HASH_LEN);
	p->generation = tc->generation;
	p->last = &p->first;
	hex_encode(hash, CRYPTO_HASH_LEN, param + 2);
	if (!tc_wait(p, cb, arg)) {
		free(p);
		return false;
	}
	LIST_INSERT_HEAD(&tc->pending, p, link);
	tc->npending++;
	if (!db_query(tc->pool, tc_sql, 1, params, TC_QUERY_TIMEOUT_MS, tc_query_done, p)) {
		LIST_REMOVE(p, link);
		tc->npending--;
		tc_pending_free(p);
		return false;
	}
	return true;
}

void token_cache_lookup(struct token_cache *tc, const char *token, token_cache_cb cb, void *arg)
{
	unsigned char hash[CRYPTO_HASH_LEN];
	struct tc_entry *e;
	struct tc_pending *p;

	token_hash(tc->keys, token, hash);
	e = tc_find(tc, hash);
	if (e != NULL && e->state == TC_UNKNOWN && e->expires_ms <= clock_mono_ms()) {
		tc_remove_at(tc, (size_t)(e - tc->slots));
		e = NULL;
	}
	if (e != NULL) {
		tc_answer(e, cb, arg);
		return;
	}
	p = tc_pending_find(tc, hash);
	if (p != NULL ? tc_wait(p, cb, arg) : tc_query(tc, hash, cb, arg))
		return;
	cb(TOKEN_CACHE_UNAVAILABLE, 0, 0, arg);
}

void token_cache_flush(struct token_cache *tc)
{
	memset(tc->slots, 0, tc->nslots * sizeof(*tc->slots));
	tc->count = 0;
	tc->generation++;
}

/* Removing at i may shift a later entry into i, so i is examined again before moving on;
 * entries shifted into slots already passed had been examined where they were. */
static void tc_remove_id(struct token_cache *tc, int64_t id)
{
	size_t i = 0;
	while (i < tc->nslots) {
		struct tc_entry *e = &tc->slots[i];
		if (e->state != TC_EMPTY && e->state != TC_UNKNOWN && e->id == id)
			tc_remove_at(tc, i);
		else
			i++;
	}
}

void token_cache_notify(struct token_cache *tc, const char *payload)
{
	unsigned char hash[CRYPTO_HASH_LEN];
	char *end;
	long long id = strtoll(payload, &end, 10);
	bool id_done = false;

	tc->generation++;
	if (end == payload || *end != ':') {
		log_warn("unexpected %s payload; flushing the token cache", TOKEN_CACHE_CHANNEL);
		token_cache_flush(tc);
		return;
	}
	if (strlen(end + 1) == 2 * sizeof(hash) &&
	    hex_decode(end + 1, 2 * sizeof(hash), hash, sizeof(hash))) {
		struct tc_entry *e = tc_find(tc, hash);
		if (e != NULL) {
			id_done = e->id == id;
			tc_remove_at(tc, (size_t)(e - tc->slots));
		}
	}
	/* Usually the entry of that id was the one under that hash; else look for it. */
	if (!id_done)
		tc_remove_id(tc, id);
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
	tc->nslots = TC_MIN_SLOTS;
	tc->slots = calloc(tc->nslots, sizeof(*tc->slots));
	LIST_INIT(&tc->pending);
	if (tc->slots == NULL || !db_pool_listen(pool, TOKEN_CACHE_CHANNEL, tc_on_notify, tc)) {
		free(tc->slots);
		free(tc);
		return NULL;
	}
	return tc;
}

void token_cache_free(struct token_cache *tc)
{
	struct tc_pending *p;
	if (tc == NULL)
		return;
	while ((p = LIST_FIRST(&tc->pending)) != NULL) {
		LIST_REMOVE(p, link);
		for (struct tc_waiter *w = p->first; w != NULL; w = w->next)
			w->cb(TOKEN_CACHE_UNAVAILABLE, 0, 0, w->arg);
		tc_pending_free(p);
	}
	free(tc->slots);
	free(tc);
}
