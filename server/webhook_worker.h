/* webhook_worker: a webhook worker process — the Cliq-compatible endpoints of SPEC §3 on
 * server.listen. */
#ifndef HG_WEBHOOK_WORKER_H
#define HG_WEBHOOK_WORKER_H

#include "config.h"

/* Runs in the forked child; returns the exit status. */
int webhook_worker_main(const struct hg_config *cfg, int index, int listen_fd, int parent_fd);

#endif
