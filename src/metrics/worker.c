/* SPDX-License-Identifier: Apache-2.0 */
/* metrics_worker: see metrics/worker.h. A scrape reads the shared region and formats it; it
 * never asks PostgreSQL, so it answers (and shows pg_connections down) while the database is
 * away. */
#include "metrics/worker.h"
#include "http/reply.h"
#include "proc/metrics.h"
#include "proc/metrics_text.h"
#include "proc/worker.h"

#include <stdlib.h>
#include <string.h>

#define METRICS_APPLICATION_NAME "hookgated metrics"

static void metrics_scrape(const struct worker *w, struct http_request *req)
{
	const char *names[METRICS_ROLES];
	int nroles = (int)(roles_count < METRICS_ROLES ? roles_count : METRICS_ROLES);
	for (int r = 0; r < nroles; r++)
		names[r] = roles[r].name;
	const struct metrics_labels labels = { PACKAGE_VERSION, names, nroles, w->cfg->node_name };
	struct metrics_totals *totals = malloc(sizeof(*totals));
	size_t len = 0;
	char *text = NULL;
	if (totals != NULL) {
		metrics_sum(metrics_region(), totals);
		text = metrics_text(totals, &labels, &len);
	}
	free(totals);
	if (text == NULL) {
		http_reply_unavailable(req, "out of memory");
		return;
	}
	http_respond(req, 200, METRICS_TEXT_CONTENT_TYPE, text, len);
	free(text);
}

static void metrics_route(struct worker *w, struct http_request *req)
{
	bool metrics = strcmp(req->path, "/metrics") == 0;
	if (!metrics && strcmp(req->path, "/healthz") != 0) {
		http_respond_error(req, 404, "not_found", "only /metrics and /healthz are here");
		return;
	}
	if (req->method != HTTP_METHOD_GET) {
		http_add_header(req, "Allow", "GET");
		http_respond_error(req, 405, "method_not_allowed", "use GET");
		return;
	}
	if (metrics)
		metrics_scrape(w, req);
	else
		worker_healthz(w, req);
}

int metrics_worker_main(const struct role_args *args)
{
	struct worker w = {
		.max_body = 1,	/* a scrape has no body */
		.pool_size = 1, /* only /healthz uses it */
		.application_name = METRICS_APPLICATION_NAME,
		.route = metrics_route,
	};
	return worker_run(&w, args);
}
