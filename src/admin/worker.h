/* SPDX-License-Identifier: Apache-2.0 */
/* admin_worker: the admin worker process — login, the token dashboard API and the dashboard
 * page of docs/api-admin.md on server.admin_listen. */
#ifndef HG_ADMIN_WORKER_H
#define HG_ADMIN_WORKER_H

#include "proc/roles.h"

/* Runs in the forked child; returns the exit status. */
int admin_worker_main(const struct role_args *args);

#endif
