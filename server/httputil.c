/* httputil: see httputil.h. */
#include "httputil.h"

#include <string.h>

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>

void http_reply_json(struct worker *w, struct evhttp_request *req, int status, const cJSON *body)
{
	char *text = cJSON_PrintUnformatted(body);
	if (text == NULL) {
		static const char oom[] = "{\"code\":\"internal\",\"message\":\"out of memory\"}";
		worker_reply(w, req, 500, "application/json", oom, sizeof(oom) - 1);
		return;
	}
	worker_reply(w, req, status, "application/json", text, strlen(text));
	cJSON_free(text);
}

void http_reply_error(struct worker *w, struct evhttp_request *req, int status, const char *code,
		      const char *message)
{
	cJSON *body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "code", code);
	cJSON_AddStringToObject(body, "message", message);
	http_reply_json(w, req, status, body);
	cJSON_Delete(body);
}

void http_reply_unavailable(struct worker *w, struct evhttp_request *req, const char *message)
{
	evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "1");
	http_reply_error(w, req, 503, "unavailable", message);
}

const char *http_request_path(struct evhttp_request *req, char *buf, size_t buflen)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	if (path == NULL || strlen(path) >= buflen)
		return NULL;
	memcpy(buf, path, strlen(path) + 1);
	return buf;
}
