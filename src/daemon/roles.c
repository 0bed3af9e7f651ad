/* SPDX-License-Identifier: Apache-2.0 */
/* roles: see roles.h. */
#include "proc/roles.h"
#include "admin/worker.h"
#include "delivery/worker.h"
#include "housekeeping/worker.h"
#include "metrics/worker.h"
#include "webhook/worker.h"

#include <stdio.h>

static int count_webhook(const struct hg_config *cfg)
{
	return cfg->workers;
}

static int count_delivery(const struct hg_config *cfg)
{
	return cfg->delivery_workers; /* 0: delivery is off */
}

static int count_metrics(const struct hg_config *cfg)
{
	return cfg->metrics_listen != NULL; /* unset: no /metrics */
}

static int count_one(const struct hg_config *cfg)
{
	(void)cfg;
	return 1;
}

/* In this order the master starts them, and ps lists them. */
const struct role roles[] = {
	{ "webhook worker", true, count_webhook, ROLE_LISTENER_WEBHOOK, webhook_worker_main },
	{ "admin worker", false, count_one, ROLE_LISTENER_ADMIN, admin_worker_main },
	{ "housekeeping", false, count_one, ROLE_LISTENER_NONE, housekeeping_main },
	{ "delivery worker", true, count_delivery, ROLE_LISTENER_NONE, delivery_worker_main },
	{ "metrics", false, count_metrics, ROLE_LISTENER_METRICS, metrics_worker_main },
};
const size_t roles_count = sizeof(roles) / sizeof(roles[0]);

void role_title(const struct role *role, int index, char *buf, size_t len)
{
	if (role->numbered)
		snprintf(buf, len, "%s %d", role->name, index);
	else
		snprintf(buf, len, "%s", role->name);
}
