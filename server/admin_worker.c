/* admin_worker: see admin_worker.h. */
#include "admin_worker.h"
#include "httputil.h"
#include "worker.h"

#include <string.h>

static void admin_route(struct worker *w, struct http_request *req)
{
	const char *path = req->path;

	if (strcmp(path, "/healthz") == 0 && req->method == HTTP_METHOD_GET) {
		worker_healthz(w, req);
		return;
	}
	http_respond_error(req, 404, "not_found", "no such endpoint");
}

int admin_worker_main(const struct hg_config *cfg, int listen_fd, int parent_fd)
{
	struct worker w = {
		.kind = WORKER_KIND_ADMIN,
		.index = 0,
		.cfg = cfg,
		.listen_fd = listen_fd,
		.parent_fd = parent_fd,
		.route = admin_route,
	};
	return worker_run(&w);
}
