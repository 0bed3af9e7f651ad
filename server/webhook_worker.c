/* webhook_worker: see webhook_worker.h. */
#include "webhook_worker.h"
#include "httputil.h"
#include "worker.h"

#include <string.h>

static void webhook_route(struct worker *w, struct http_request *req)
{
	const char *path = req->path;

	if (strcmp(path, "/healthz") == 0) {
		if (req->method != HTTP_METHOD_GET) {
			http_add_header(req, "Allow", "GET");
			http_respond_error(req, 405, "method_not_allowed", "use GET");
			return;
		}
		worker_healthz(w, req);
		return;
	}
	http_respond_error(req, 404, "not_found", "no such endpoint");
}

int webhook_worker_main(const struct hg_config *cfg, int index, int listen_fd, int parent_fd)
{
	struct worker w = {
		.kind = WORKER_KIND_WEBHOOK,
		.index = index,
		.cfg = cfg,
		.listen_fd = listen_fd,
		.parent_fd = parent_fd,
		.route = webhook_route,
	};
	return worker_run(&w);
}
