/* SPDX-License-Identifier: Apache-2.0 */
/* dest: the delivery worker's cache of hookgate.destinations — each destination's URL, whether it
 * is enabled, and its signing secrets opened into memory (the current one, and the previous one
 * while a rotation's overlap lasts). A row is reloaded when NOTIFY hookgate_destinations names
 * it, and every row after a reconnect (notifications may have been missed meanwhile). Secrets
 * are wiped when a row is dropped and never logged. */
#ifndef HG_DELIVERY_DEST_H
#define HG_DELIVERY_DEST_H

#include <stdbool.h>
#include <stdint.h>

#include "core/crypto.h"
#include "pg/db.h"

struct dest {
	int64_t id;
	char *module, *target, *url;
	bool enabled;
	char *secret;		   /* "whsec_..." */
	char *previous_secret;	   /* NULL when none */
	int64_t previous_until_ms; /* unix ms: the previous secret signs until then */
};

struct dest_cache;

/* Told after a row changed (d is its new state) or disappeared (d NULL). */
typedef void (*dest_changed_cb)(int64_t id, const struct dest *d, void *arg);

/* Loads from pool (which must run LISTEN hookgate_destinations: this registers it). */
struct dest_cache *dest_cache_new(struct db_pool *pool, const struct crypto_keys *keys,
				  dest_changed_cb changed, void *arg);
void dest_cache_free(struct dest_cache *c);
/* Every row must be loaded again (from the pool's on_connect, which must not query: the
 * connection's LISTEN is not sent yet); dest_cache_tick does it. */
void dest_cache_invalidate(struct dest_cache *c);
/* From the worker's timer: load every row when they are not (start, reconnect, a failed load). */
void dest_cache_tick(struct dest_cache *c);
/* Whether a whole load has completed since the last reconnect. */
bool dest_cache_loaded(const struct dest_cache *c);
const struct dest *dest_find(const struct dest_cache *c, int64_t id);
/* The secrets to sign with at now_ms (unix ms), the current one first; how many (1 or 2). */
int dest_secrets(const struct dest *d, int64_t now_ms, const char *out[2]);

#endif
