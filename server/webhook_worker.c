/* webhook_worker: see webhook_worker.h. */
#include "webhook_worker.h"
#include "httputil.h"
#include "worker.h"

#include <string.h>

static void webhook_route(struct worker *w, struct evhttp_request *req)
{
	char buf[1024];
	const char *path = http_request_path(req, buf, sizeof(buf));

	if (path && strcmp(path, "/healthz") == 0) {
		if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
			evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET");
			http_reply_error(w, req, 405, "method_not_allowed", "use GET");
			return;
		}
		worker_healthz(w, req);
		return;
	}
	http_reply_error(w, req, 404, "not_found", "no such endpoint");
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
