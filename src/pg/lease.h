/* SPDX-License-Identifier: Apache-2.0 */
/* lease: one leader among processes and nodes that share a database, as a session-level
 * advisory lock (pg_try_advisory_lock) taken on a pool's only connection. The lock lives exactly
 * as long as that session: when the process dies or its connection drops, PostgreSQL releases
 * it and another process can take it. The holder runs its jobs on that same connection, so the
 * jobs and the lock always go together. Without the lock, a process tries again every
 * LEASE_RETRY_MS (sooner right after it starts or loses it); it logs once that it stands by and
 * once that it leads. Asynchronous, like
 * everything on a worker's loop. */
#ifndef HG_LEASE_H
#define HG_LEASE_H

#include <stdbool.h>

#include <event2/event.h>

#include "pg/db.h"

#define LEASE_RETRY_MS 2000

struct lease;

/* Told each time the lease is taken (held) or lost (!held). */
typedef void (*lease_change_cb)(bool held, void *arg);

/* The lock (key1, key2) on pool, whose size must be 1 (every statement of the holder then runs
 * in the session that holds the lock). name is the lease's in log lines. The first try comes once
 * the connection is up and first_try_ms have passed. */
struct lease *lease_new(struct event_base *base, struct db_pool *pool, int key1, int key2,
			const char *name, int first_try_ms, lease_change_cb cb, void *arg);
/* From the pool's on_connect: a new session holds no lock. */
void lease_reconnected(struct lease *l);
bool lease_held(const struct lease *l);
/* Free only once the loop has stopped (a try in flight calls back into it otherwise). */
void lease_free(struct lease *l);

#endif
