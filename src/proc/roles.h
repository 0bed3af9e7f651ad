/* SPDX-License-Identifier: Apache-2.0 */
/* roles: the table of process roles the master runs (docs/architecture.md), one row per role: its
 * name (the process title is "hookgated: <name>" or, for a numbered role, "hookgated: <name> N"),
 * how many processes the configuration asks for, which listening socket it takes, and the
 * function its forked child runs. The master and the worker skeleton know roles only through
 * this table, so a new role is one row here plus its own folder. */
#ifndef HG_ROLES_H
#define HG_ROLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"

struct ratelimit;

/* The sockets the master opens before forking; a role takes one of them or none. */
enum role_listener {
	ROLE_LISTENER_NONE,
	ROLE_LISTENER_WEBHOOK,
	ROLE_LISTENER_ADMIN,
	ROLE_LISTENER_METRICS, /* server.metrics_listen, when set */
};
#define ROLE_LISTENERS 4

/* What a role's main gets in the forked child. */
struct role_args {
	const struct hg_config *cfg;
	int index;     /* 1..N in a numbered role, else 0 */
	int listen_fd; /* the role's listening socket, -1 when it has none */
	int parent_fd; /* read end of the master's pipe: EOF means the master died */
	int ready_fd;  /* write end of the master's ready pipe: the worker writes its pid there
			* once its loop serves; -1 for none */
	struct ratelimit *ratelimit; /* token buckets the master shares between all processes */
	/* The webhook workers' buckets of leaked-token reports, by client address */
	struct ratelimit *revoke_budget;
	int64_t node_id; /* random, made once by the master: the same in every generation */
	bool restarted;	 /* replaces a process of the same slot that died */
};

struct role {
	const char *name;
	bool numbered; /* the title carries the process's index */
	int (*count)(const struct hg_config *cfg);
	enum role_listener listener;
	/* Runs in the forked child; returns its exit status. */
	int (*main)(const struct role_args *args);
};

extern const struct role roles[];
extern const size_t roles_count;

/* "webhook worker 2", "admin worker": the title without "hookgated: ", and the log's role. */
void role_title(const struct role *role, int index, char *buf, size_t len);

#endif
