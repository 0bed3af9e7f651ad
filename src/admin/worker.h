/* admin_worker: the admin worker process — login, the token dashboard API and the dashboard
 * page of README "Admin API" on server.admin_listen. */
#ifndef HG_ADMIN_WORKER_H
#define HG_ADMIN_WORKER_H

#include "daemon/roles.h"

/* Runs in the forked child; returns the exit status. */
int admin_worker_main(const struct role_args *args);

#endif
