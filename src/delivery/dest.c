/* SPDX-License-Identifier: Apache-2.0 */
/* dest: see dest.h. The rows live in an array sorted by id: a worker has few destinations
 * (hundreds), looks one up per delivery and changes one per NOTIFY. The pool has one connection,
 * so a reload of everything and a later reload of one row answer in the order they were sent. */
#include "delivery/dest.h"
#include "core/log.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEST_CHANNEL "hookgate_destinations"
#define DEST_TIMEOUT_MS 10000

static const char dest_sql[] =
	"SELECT id, module, target, url, enabled, secret_enc, previous_secret_enc, "
	"CASE WHEN previous_until > now() "
	"THEN (extract(epoch FROM previous_until) * 1000)::bigint END "
	"FROM hookgate.destinations WHERE $1::bigint IS NULL OR id = $1::bigint";

struct dest_cache {
	struct db_pool *pool;
	const struct crypto_keys *keys;
	dest_changed_cb changed;
	void *arg;
	struct dest **rows; /* sorted by id */
	size_t n, cap;
	bool loaded;
	bool loading_all; /* a load of every row is in flight */
};

/* What one load asked for: every row (id < 0) or one. */
struct dest_load {
	struct dest_cache *c;
	int64_t id;
};

static void dest_free(struct dest *d)
{
	if (d == NULL)
		return;
	if (d->secret)
		OPENSSL_clear_free(d->secret, strlen(d->secret));
	if (d->previous_secret)
		OPENSSL_clear_free(d->previous_secret, strlen(d->previous_secret));
	free(d->module);
	free(d->target);
	free(d->url);
	free(d);
}

/* Opens a sealed secret (bytea in hex text form) with aad "whsec:<module>:<target>". */
static char *dest_open_secret(const struct dest_cache *c, const struct dest *d, const char *hex)
{
	size_t len = 0;
	unsigned char *sealed = PQunescapeBytea((const unsigned char *)hex, &len);
	if (sealed == NULL)
		return NULL;
	char aad[160];
	snprintf(aad, sizeof(aad), "whsec:%s:%s", d->module, d->target);
	char *plain = malloc(len + 1);
	size_t plainlen = 0;
	bool ok = plain &&
		  crypto_open(c->keys, aad, sealed, len, (unsigned char *)plain, len, &plainlen);
	PQfreemem(sealed);
	if (!ok || memchr(plain, '\0', plainlen) != NULL) {
		if (plain)
			OPENSSL_clear_free(plain, len + 1);
		return NULL;
	}
	plain[plainlen] = '\0';
	return plain;
}

/* A row of dest_sql; a destination whose secret does not open is kept, disabled, so that its
 * deliveries wait in the queue rather than going out unsigned. */
static struct dest *dest_from_row(const struct dest_cache *c, PGresult *res, int i)
{
	struct dest *d = calloc(1, sizeof(*d));
	if (d == NULL)
		return NULL;
	d->id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
	d->module = strdup(PQgetvalue(res, i, 1));
	d->target = strdup(PQgetvalue(res, i, 2));
	d->url = strdup(PQgetvalue(res, i, 3));
	if (!d->module || !d->target || !d->url) {
		dest_free(d);
		return NULL;
	}
	d->enabled = PQgetvalue(res, i, 4)[0] == 't';
	d->secret = dest_open_secret(c, d, PQgetvalue(res, i, 5));
	if (!PQgetisnull(res, i, 6) && !PQgetisnull(res, i, 7)) {
		d->previous_secret = dest_open_secret(c, d, PQgetvalue(res, i, 6));
		d->previous_until_ms = strtoll(PQgetvalue(res, i, 7), NULL, 10);
	}
	if (d->secret == NULL) {
		log_warn("destination %s:%s: its signing secret does not open (another secret key "
			 "file?); its deliveries wait",
			 d->module, d->target);
		d->enabled = false;
	}
	return d;
}

static size_t dest_index(const struct dest_cache *c, int64_t id, bool *found)
{
	size_t lo = 0, hi = c->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (c->rows[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < c->n && c->rows[lo]->id == id;
	return lo;
}

/* Puts d in place of the row with its id (d NULL: removes that row id). */
static void dest_put(struct dest_cache *c, int64_t id, struct dest *d)
{
	bool found;
	size_t i = dest_index(c, id, &found);
	if (found) {
		dest_free(c->rows[i]);
		if (d) {
			c->rows[i] = d;
		} else {
			memmove(&c->rows[i], &c->rows[i + 1], (c->n - i - 1) * sizeof(c->rows[0]));
			c->n--;
		}
	} else if (d) {
		if (c->n == c->cap) {
			size_t cap = c->cap ? 2 * c->cap : 64;
			struct dest **rows = realloc(c->rows, cap * sizeof(rows[0]));
			if (rows == NULL) {
				dest_free(d);
				return;
			}
			c->rows = rows;
			c->cap = cap;
		}
		memmove(&c->rows[i + 1], &c->rows[i], (c->n - i) * sizeof(c->rows[0]));
		c->rows[i] = d;
		c->n++;
	}
	c->changed(id, d, c->arg);
}

/* After a load of every row: the rows it did not return are gone. */
static void dest_drop_missing(struct dest_cache *c, PGresult *res)
{
	for (size_t i = c->n; i-- > 0;) {
		int64_t id = c->rows[i]->id;
		bool seen = false;
		for (int r = 0; r < PQntuples(res) && !seen; r++)
			seen = strtoll(PQgetvalue(res, r, 0), NULL, 10) == id;
		if (!seen)
			dest_put(c, id, NULL);
	}
}

static void dest_loaded(PGresult *res, void *arg)
{
	struct dest_load *load = arg;
	struct dest_cache *c = load->c;
	if (load->id < 0)
		c->loading_all = false;
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
		if (res)
			log_warn("loading destinations failed: %s",
				 PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
		c->loaded = false; /* the worker's tick tries again */
		free(load);
		return;
	}
	if (load->id < 0)
		dest_drop_missing(c, res);
	else if (PQntuples(res) == 0)
		dest_put(c, load->id, NULL);
	for (int r = 0; r < PQntuples(res); r++) {
		struct dest *d = dest_from_row(c, res, r);
		if (d)
			dest_put(c, d->id, d);
	}
	if (load->id < 0)
		c->loaded = true;
	free(load);
}

static void dest_load(struct dest_cache *c, int64_t id)
{
	struct dest_load *load = malloc(sizeof(*load));
	if (load == NULL)
		return;
	*load = (struct dest_load){ c, id };
	char idbuf[24];
	snprintf(idbuf, sizeof(idbuf), "%lld", (long long)id);
	const char *params[1] = { id < 0 ? NULL : idbuf };
	if (id < 0)
		c->loading_all = true;
	if (!db_query(c->pool, dest_sql, 1, params, DEST_TIMEOUT_MS, dest_loaded, load)) {
		c->loaded = false; /* not even sent: dest_cache_tick tries everything again */
		if (id < 0)
			c->loading_all = false;
		free(load);
	}
}

static void dest_notified(const char *channel, const char *payload, void *arg)
{
	struct dest_cache *c = arg;
	(void)channel;
	char *end;
	long long id = strtoll(payload, &end, 10);
	if (end != payload && *end == '\0' && id >= 0)
		dest_load(c, id);
}

struct dest_cache *dest_cache_new(struct db_pool *pool, const struct crypto_keys *keys,
				  dest_changed_cb changed, void *arg)
{
	struct dest_cache *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	*c = (struct dest_cache){ .pool = pool, .keys = keys, .changed = changed, .arg = arg };
	if (!db_pool_listen(pool, DEST_CHANNEL, dest_notified, c)) {
		free(c);
		return NULL;
	}
	return c;
}

void dest_cache_free(struct dest_cache *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n; i++)
		dest_free(c->rows[i]);
	free(c->rows);
	free(c);
}

void dest_cache_invalidate(struct dest_cache *c)
{
	c->loaded = false;
}

void dest_cache_tick(struct dest_cache *c)
{
	if (!c->loaded && !c->loading_all)
		dest_load(c, -1);
}

bool dest_cache_loaded(const struct dest_cache *c)
{
	return c->loaded;
}

const struct dest *dest_find(const struct dest_cache *c, int64_t id)
{
	bool found;
	size_t i = dest_index(c, id, &found);
	return found ? c->rows[i] : NULL;
}

int dest_secrets(const struct dest *d, int64_t now_ms, const char *out[2])
{
	int n = 0;
	out[n++] = d->secret;
	if (d->previous_secret && now_ms < d->previous_until_ms)
		out[n++] = d->previous_secret;
	return n;
}
