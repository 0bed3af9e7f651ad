/* SPDX-License-Identifier: Apache-2.0 */
/* token_table: see token_table.h. An open-addressing table (linear probing, backward-shift
 * deletion, so no tombstones) keyed by the 32-byte HMAC hash. HMAC output is uniform, so its
 * first bytes serve as the slot index directly. */
#include "webhook/token_table.h"
#include "lib/encoding.h"

#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#define TT_MIN_SLOTS 256
#define TT_MAX_SLOTS (2 * TOKEN_TABLE_MAX_ENTRIES)

enum tt_state { TT_EMPTY, TT_ACTIVE, TT_DISABLED, TT_UNKNOWN };

struct tt_entry {
	unsigned char hash[CRYPTO_HASH_LEN];
	struct token_info info;
	int64_t expires_ms; /* TT_UNKNOWN only */
	uint8_t state;
};

struct tt_waiter {
	struct tt_waiter *next;
	token_cache_cb cb;
	void *arg;
};

struct token_pending {
	LIST_ENTRY(token_pending) link;
	struct token_table *t;
	unsigned char hash[CRYPTO_HASH_LEN];
	uint64_t generation;
	struct tt_waiter *first;
	struct tt_waiter **last;
};

struct token_table {
	struct tt_entry *slots;
	size_t nslots; /* a power of two */
	size_t count;
	/* Bumped by every flush and notification: an answer to a query sent before may be stale,
	 * so it is passed on to its waiters but not cached. */
	uint64_t generation;
	LIST_HEAD(, token_pending) pending;
	int npending;
};

static size_t slot_home(const struct token_table *t, const unsigned char *hash)
{
	uint64_t v;
	memcpy(&v, hash, sizeof(v));
	return (size_t)v & (t->nslots - 1);
}

static struct tt_entry *tt_find(struct token_table *t, const unsigned char *hash)
{
	size_t mask = t->nslots - 1;
	for (size_t i = slot_home(t, hash);; i = (i + 1) & mask) {
		struct tt_entry *e = &t->slots[i];
		if (e->state == TT_EMPTY)
			return NULL;
		if (memcmp(e->hash, hash, CRYPTO_HASH_LEN) == 0)
			return e;
	}
}

/* Backward-shift deletion: later entries of the cluster move up unless that would put them
 * before their home slot, so every probe sequence stays unbroken. */
static void tt_remove_at(struct token_table *t, size_t i)
{
	size_t mask = t->nslots - 1;

	token_limits_unref(t->slots[i].info.limits);
	for (size_t j = (i + 1) & mask; t->slots[j].state != TT_EMPTY; j = (j + 1) & mask) {
		size_t home = slot_home(t, t->slots[j].hash);
		if (((j - home) & mask) >= ((j - i) & mask)) {
			t->slots[i] = t->slots[j];
			i = j;
		}
	}
	t->slots[i].state = TT_EMPTY;
	t->count--;
}

static void tt_place(struct token_table *t, const struct tt_entry *entry)
{
	size_t mask = t->nslots - 1, i = slot_home(t, entry->hash);
	while (t->slots[i].state != TT_EMPTY)
		i = (i + 1) & mask;
	t->slots[i] = *entry;
	t->count++;
}

static bool tt_grow(struct token_table *t)
{
	struct tt_entry *old = t->slots;
	size_t oldn = t->nslots;
	struct tt_entry *slots = calloc(oldn * 2, sizeof(*slots));
	if (slots == NULL)
		return false;
	t->slots = slots;
	t->nslots = oldn * 2;
	t->count = 0;
	for (size_t i = 0; i < oldn; i++) {
		if (old[i].state != TT_EMPTY)
			tt_place(t, &old[i]);
	}
	free(old);
	return true;
}

/* Makes room for one more entry: grow while allowed, else evict the first entry found from
 * the new entry's home slot on, which is as good as a random victim (hashes are uniform). */
static void tt_make_room(struct token_table *t, const unsigned char *hash)
{
	if ((t->count + 1) * 2 <= t->nslots)
		return;
	if (t->nslots < TT_MAX_SLOTS && tt_grow(t))
		return;
	size_t mask = t->nslots - 1, i = slot_home(t, hash);
	while (t->slots[i].state == TT_EMPTY)
		i = (i + 1) & mask;
	tt_remove_at(t, i);
}

static enum tt_state tt_state_of(enum token_cache_result r)
{
	return r == TOKEN_CACHE_ACTIVE	   ? TT_ACTIVE
	       : r == TOKEN_CACHE_DISABLED ? TT_DISABLED
					   : TT_UNKNOWN;
}

static void tt_store(struct token_table *t, const unsigned char *hash, enum token_cache_result r,
		     const struct token_info *info, int64_t now_ms)
{
	struct tt_entry entry = { .info = *info, .state = (uint8_t)tt_state_of(r) };
	struct tt_entry *e = tt_find(t, hash);

	memcpy(entry.hash, hash, CRYPTO_HASH_LEN);
	if (entry.state == TT_UNKNOWN)
		entry.expires_ms = now_ms + TOKEN_TABLE_NEGATIVE_TTL_MS;
	token_limits_ref(entry.info.limits); /* the entry's own reference */
	if (e != NULL) {
		token_limits_unref(e->info.limits);
		*e = entry;
		return;
	}
	tt_make_room(t, hash);
	tt_place(t, &entry);
}

bool token_table_get(struct token_table *t, const unsigned char hash[CRYPTO_HASH_LEN],
		     int64_t now_ms, enum token_cache_result *result, struct token_info *info)
{
	static const struct token_info none;
	struct tt_entry *e = tt_find(t, hash);
	if (e == NULL)
		return false;
	if (e->state == TT_UNKNOWN && e->expires_ms <= now_ms) {
		tt_remove_at(t, (size_t)(e - t->slots));
		return false;
	}
	*result = e->state == TT_ACTIVE	    ? TOKEN_CACHE_ACTIVE
		  : e->state == TT_DISABLED ? TOKEN_CACHE_DISABLED
					    : TOKEN_CACHE_UNKNOWN;
	*info = e->state == TT_UNKNOWN ? none : e->info;
	return true;
}

static void pending_free(struct token_pending *p)
{
	struct tt_waiter *w = p->first, *next;
	for (; w != NULL; w = next) {
		next = w->next;
		free(w);
	}
	free(p);
}

static struct token_pending *pending_find(struct token_table *t, const unsigned char *hash)
{
	struct token_pending *p;
	LIST_FOREACH(p, &t->pending, link)
	{
		if (memcmp(p->hash, hash, CRYPTO_HASH_LEN) == 0)
			return p;
	}
	return NULL;
}

static bool pending_add_waiter(struct token_pending *p, token_cache_cb cb, void *arg)
{
	struct tt_waiter *w = calloc(1, sizeof(*w));
	if (w == NULL)
		return false;
	w->cb = cb;
	w->arg = arg;
	*p->last = w;
	p->last = &w->next;
	return true;
}

static struct token_pending *pending_new(struct token_table *t, const unsigned char *hash)
{
	struct token_pending *p;
	if (t->npending >= TOKEN_TABLE_MAX_PENDING || (p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->t = t;
	memcpy(p->hash, hash, CRYPTO_HASH_LEN);
	p->generation = t->generation;
	p->last = &p->first;
	return p;
}

struct token_pending *token_table_wait(struct token_table *t,
				       const unsigned char hash[CRYPTO_HASH_LEN], token_cache_cb cb,
				       void *arg, bool *is_new)
{
	struct token_pending *p = pending_find(t, hash);

	*is_new = p == NULL;
	if (p != NULL)
		return pending_add_waiter(p, cb, arg) ? p : NULL;
	if ((p = pending_new(t, hash)) == NULL)
		return NULL;
	if (!pending_add_waiter(p, cb, arg)) {
		free(p);
		return NULL;
	}
	LIST_INSERT_HEAD(&t->pending, p, link);
	t->npending++;
	return p;
}

const unsigned char *token_pending_hash(const struct token_pending *p)
{
	return p->hash;
}

void token_table_answer(struct token_pending *p, enum token_cache_result result,
			const struct token_info *info, int64_t now_ms)
{
	struct token_table *t = p->t;

	if (result != TOKEN_CACHE_UNAVAILABLE && p->generation == t->generation)
		tt_store(t, p->hash, result, info, now_ms);
	LIST_REMOVE(p, link);
	t->npending--;
	/* Waiters may look up again (even this hash): p is already out of the list. */
	for (struct tt_waiter *w = p->first; w != NULL; w = w->next)
		w->cb(result, info, w->arg);
	/* The answer's own reference: the entry, if stored, holds another (and may be gone
	 * already, evicted by a waiter's look-up). */
	token_limits_unref(info->limits);
	pending_free(p);
}

static void tt_unref_all(struct token_table *t)
{
	for (size_t i = 0; i < t->nslots; i++) {
		if (t->slots[i].state != TT_EMPTY)
			token_limits_unref(t->slots[i].info.limits);
	}
}

void token_table_flush(struct token_table *t)
{
	tt_unref_all(t);
	memset(t->slots, 0, t->nslots * sizeof(*t->slots));
	t->count = 0;
	t->generation++;
}

/* Removing at i may shift a later entry into i, so i is examined again before moving on;
 * entries shifted into slots already passed had been examined where they were. */
static void tt_remove_id(struct token_table *t, int64_t id)
{
	size_t i = 0;
	while (i < t->nslots) {
		struct tt_entry *e = &t->slots[i];
		if (e->state != TT_EMPTY && e->state != TT_UNKNOWN && e->info.id == id)
			tt_remove_at(t, i);
		else
			i++;
	}
}

bool token_table_notify(struct token_table *t, const char *payload)
{
	unsigned char hash[CRYPTO_HASH_LEN];
	char *end;
	long long id = strtoll(payload, &end, 10);
	bool id_done = false;

	t->generation++;
	if (end == payload || *end != ':') {
		token_table_flush(t);
		return false;
	}
	if (strlen(end + 1) == 2 * sizeof(hash) &&
	    hex_decode(end + 1, 2 * sizeof(hash), hash, sizeof(hash))) {
		struct tt_entry *e = tt_find(t, hash);
		if (e != NULL) {
			id_done = e->info.id == id;
			tt_remove_at(t, (size_t)(e - t->slots));
		}
	}
	/* Usually the entry of that id was the one under that hash; else look for it. */
	if (!id_done)
		tt_remove_id(t, id);
	return true;
}

struct token_table *token_table_new(void)
{
	struct token_table *t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	t->nslots = TT_MIN_SLOTS;
	t->slots = calloc(t->nslots, sizeof(*t->slots));
	LIST_INIT(&t->pending);
	if (t->slots == NULL) {
		free(t);
		return NULL;
	}
	return t;
}

void token_table_free(struct token_table *t)
{
	static const struct token_info none;
	struct token_pending *p;
	if (t == NULL)
		return;
	while ((p = LIST_FIRST(&t->pending)) != NULL) {
		LIST_REMOVE(p, link);
		for (struct tt_waiter *w = p->first; w != NULL; w = w->next)
			w->cb(TOKEN_CACHE_UNAVAILABLE, &none, w->arg);
		pending_free(p);
	}
	tt_unref_all(t);
	free(t->slots);
	free(t);
}

int token_table_size(const struct token_table *t)
{
	return (int)t->count;
}
