/* SPDX-License-Identifier: Apache-2.0 */
/* lease: see lease.h. One timer, re-armed at each turn: while the lease is free it tries to
 * take it, while held it checks that the connection holding it is still up; a second one tries
 * at once on a new connection. A try answered on a session that has since been replaced (a
 * generation behind) takes nothing: that session and its lock are gone. */
#include "pg/lease.h"
#include "core/log.h"

#include <stdio.h>
#include <stdlib.h>

#define LEASE_TRY_TIMEOUT_MS 5000
/* Right after a start or a loss the lease is most likely held by a process on its way out (the
 * previous generation after a reload, or a dropped session of our own): the first retries come
 * sooner, 250 ms, 500 ms, 1 s, then every LEASE_RETRY_MS. */
#define LEASE_FIRST_RETRY_MS 250

static const char try_sql[] = "SELECT pg_try_advisory_lock($1::integer, $2::integer)";

struct lease {
	struct db_pool *pool;
	const char *name;
	char key1[16], key2[16];
	struct event *timer;
	struct event *kick;
	bool waiting; /* first_try_ms has not passed yet */
	int retry_ms; /* until the next try */
	bool held;
	bool trying;
	bool standby_logged;
	unsigned generation;	 /* sessions seen (lease_reconnected) */
	unsigned try_generation; /* of the try in flight */
	lease_change_cb cb;
	void *arg;
};

static void lease_arm(struct event *ev, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	evtimer_add(ev, &tv);
}

static void lease_lose(struct lease *l, const char *why)
{
	l->held = false;
	l->standby_logged = false;
	l->retry_ms = LEASE_FIRST_RETRY_MS;
	log_warn("lost the %s lease (advisory lock %s,%s): %s", l->name, l->key1, l->key2, why);
	l->cb(false, l->arg);
}

static void lease_take(struct lease *l)
{
	l->held = true;
	l->standby_logged = false;
	log_info("leading: took the %s lease (advisory lock %s,%s)", l->name, l->key1, l->key2);
	l->cb(true, l->arg);
}

static void try_done(PGresult *res, void *arg)
{
	struct lease *l = arg;

	l->trying = false;
	if (res == NULL) /* the connection failed: the pool logs it, the next turn tries again */
		return;
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		log_warn("taking the %s lease failed: %s", l->name, PQresultErrorMessage(res));
		return;
	}
	if (l->try_generation != l->generation)
		return;
	if (PQgetvalue(res, 0, 0)[0] == 't') {
		lease_take(l);
	} else if (!l->standby_logged) {
		log_info("standing by: another process holds the %s lease (advisory lock %s,%s); "
			 "trying again every %d s",
			 l->name, l->key1, l->key2, LEASE_RETRY_MS / 1000);
		l->standby_logged = true;
	}
}

static void lease_try(struct lease *l)
{
	const char *params[] = { l->key1, l->key2 };

	if (l->held || l->trying || l->waiting || db_pool_ready(l->pool) == 0)
		return;
	l->try_generation = l->generation;
	l->trying = db_query(l->pool, try_sql, 2, params, LEASE_TRY_TIMEOUT_MS, try_done, l);
}

static void lease_tick(evutil_socket_t fd, short what, void *arg)
{
	struct lease *l = arg;
	(void)fd;
	(void)what;
	l->waiting = false;
	if (l->held && db_pool_ready(l->pool) == 0)
		lease_lose(l, "its connection to PostgreSQL is gone");
	else
		lease_try(l);
	if (l->held) {
		lease_arm(l->timer, LEASE_RETRY_MS);
		return;
	}
	lease_arm(l->timer, l->retry_ms);
	l->retry_ms = l->retry_ms * 2 < LEASE_RETRY_MS ? l->retry_ms * 2 : LEASE_RETRY_MS;
}

static void lease_kick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	lease_try(arg);
}

struct lease *lease_new(struct event_base *base, struct db_pool *pool, int key1, int key2,
			const char *name, int first_try_ms, lease_change_cb cb, void *arg)
{
	struct lease *l = calloc(1, sizeof(*l));
	if (l == NULL)
		return NULL;
	l->pool = pool;
	l->name = name;
	snprintf(l->key1, sizeof(l->key1), "%d", key1);
	snprintf(l->key2, sizeof(l->key2), "%d", key2);
	l->waiting = first_try_ms > 0;
	l->retry_ms = LEASE_FIRST_RETRY_MS;
	l->cb = cb;
	l->arg = arg;
	l->timer = evtimer_new(base, lease_tick, l);
	l->kick = evtimer_new(base, lease_kick, l);
	if (l->timer == NULL || l->kick == NULL) {
		lease_free(l);
		return NULL;
	}
	lease_arm(l->timer, l->waiting ? first_try_ms : l->retry_ms);
	return l;
}

/* The try waits for the next turn of the loop: the pool is still setting the connection up. */
void lease_reconnected(struct lease *l)
{
	l->generation++;
	if (l->held)
		lease_lose(l, "its connection to PostgreSQL was replaced");
	lease_arm(l->kick, 0);
}

bool lease_held(const struct lease *l)
{
	return l->held;
}

void lease_free(struct lease *l)
{
	if (l == NULL)
		return;
	if (l->timer)
		event_free(l->timer);
	if (l->kick)
		event_free(l->kick);
	free(l);
}
