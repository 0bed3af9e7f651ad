/* admin_worker: see admin_worker.h. */
#include "admin_worker.h"
#include "httputil.h"
#include "worker.h"

#include <string.h>

static void admin_route(struct worker *w, struct evhttp_request *req)
{
	char buf[1024];
	const char *path = http_request_path(req, buf, sizeof(buf));

	if (path && strcmp(path, "/healthz") == 0 &&
	    evhttp_request_get_command(req) == EVHTTP_REQ_GET) {
		worker_healthz(w, req);
		return;
	}
	http_reply_error(w, req, 404, "not_found", "no such endpoint");
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
