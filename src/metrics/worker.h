/* SPDX-License-Identifier: Apache-2.0 */
/* metrics_worker: the metrics process ("hookgated: metrics"), started only when
 * server.metrics_listen is set. It serves GET /metrics — the sums of every process's slot of
 * the shared metrics region (proc/metrics.h) in Prometheus's text format — and /healthz on its
 * own listener, so that scrapes never queue behind webhook calls or admin logins. */
#ifndef HG_METRICS_WORKER_H
#define HG_METRICS_WORKER_H

#include "proc/roles.h"

/* Runs in the forked child; returns the exit status. */
int metrics_worker_main(const struct role_args *args);

#endif
