/* lease: see lease.h. One timer: while the lease is free it tries to take it, while held it
 * checks that the connection holding it is still up; a second one, one-shot, tries at once on a
 * new connection. A try answered on a session that has since been replaced (a generation
 * behind) takes nothing: that session and its lock are gone. */
#include "pg/lease.h"
#include "core/log.h"

#include <stdio.h>
#include <stdlib.h>

#define LEASE_TRY_TIMEOUT_MS 5000

static const char try_sql[] = "SELECT pg_try_advisory_lock($1::integer, $2::integer)";

struct lease {
	struct db_pool *pool;
	const char *name;
	char key1[16], key2[16];
	struct event *timer;
	struct event *kick;
	int wait_ticks; /* no try before the timer has run this many more times */
	bool held;
	bool trying;
	bool standby_logged;
	unsigned generation;	 /* sessions seen (lease_reconnected) */
	unsigned try_generation; /* of the try in flight */
	lease_change_cb cb;
	void *arg;
};

static void lease_lose(struct lease *l, const char *why)
{
	l->held = false;
	l->standby_logged = false;
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
	if (res == NULL) /* the connection failed: the pool logs it, the next tick tries again */
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

	if (l->held || l->trying || l->wait_ticks > 0 || db_pool_ready(l->pool) == 0)
		return;
	l->try_generation = l->generation;
	l->trying = db_query(l->pool, try_sql, 2, params, LEASE_TRY_TIMEOUT_MS, try_done, l);
}

static void lease_tick(evutil_socket_t fd, short what, void *arg)
{
	struct lease *l = arg;
	(void)fd;
	(void)what;
	if (l->wait_ticks > 0)
		l->wait_ticks--;
	if (l->held && db_pool_ready(l->pool) == 0)
		lease_lose(l, "its connection to PostgreSQL is gone");
	else
		lease_try(l);
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
	struct timeval every = { LEASE_RETRY_MS / 1000, (LEASE_RETRY_MS % 1000) * 1000 };

	if (l == NULL)
		return NULL;
	l->pool = pool;
	l->name = name;
	snprintf(l->key1, sizeof(l->key1), "%d", key1);
	snprintf(l->key2, sizeof(l->key2), "%d", key2);
	l->wait_ticks = (first_try_ms + LEASE_RETRY_MS - 1) / LEASE_RETRY_MS;
	l->cb = cb;
	l->arg = arg;
	l->timer = event_new(base, -1, EV_PERSIST, lease_tick, l);
	l->kick = evtimer_new(base, lease_kick, l);
	if (l->timer == NULL || l->kick == NULL || event_add(l->timer, &every) != 0) {
		lease_free(l);
		return NULL;
	}
	return l;
}

/* The try waits for the next turn of the loop: the pool is still setting the connection up. */
void lease_reconnected(struct lease *l)
{
	const struct timeval now = { 0, 0 };

	l->generation++;
	if (l->held)
		lease_lose(l, "its connection to PostgreSQL was replaced");
	evtimer_add(l->kick, &now);
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
