/* admin_worker: the admin worker process — login, the token dashboard API and the dashboard
 * page of docs/api-admin.md on server.admin_listen. */
#ifndef HG_ADMIN_WORKER_H
#define HG_ADMIN_WORKER_H

#include "core/config.h"

/* Runs in the forked child; returns the exit status. */
int admin_worker_main(const struct hg_config *cfg, int listen_fd, int parent_fd);

#endif
