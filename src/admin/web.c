/* SPDX-License-Identifier: Apache-2.0 */
/* admin_web: see admin_web.h. The files are few and small, so each request reads its file
 * whole (a local read, not a network wait); only names on the list below are ever opened, so
 * no request path can reach outside server.web_dir. */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include "admin/web.h"
#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <qrencode.h>

#define WEB_FILE_MAX (1024 * 1024)
#define QR_QUIET_ZONE 4

/* No inline script or style and no other origin; images may be data: URIs (the QR code). */
#define WEB_CSP                                                                                    \
	"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "          \
	"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

struct web_file {
	const char *name;
	const char *content_type;
};

static const struct web_file web_files[] = {
	{ "index.html", "text/html; charset=utf-8" },
	{ "app.js", "text/javascript; charset=utf-8" },
	{ "app.css", "text/css; charset=utf-8" },
	{ "token-life.js", "text/javascript; charset=utf-8" },
	{ "org.js", "text/javascript; charset=utf-8" },
};
#define NWEB_FILES (sizeof(web_files) / sizeof(web_files[0]))

bool admin_web_path(const char *path)
{
	if (strcmp(path, "/admin") == 0 || strcmp(path, "/admin/") == 0)
		return true;
	if (strncmp(path, "/admin/", 7) != 0)
		return false;
	path += 7;
	return strcmp(path, "api") != 0 && strncmp(path, "api/", 4) != 0;
}

static const struct web_file *web_file_find(const char *path)
{
	const char *name = path + strlen("/admin/");

	if (*name == '\0')
		name = "index.html";
	for (size_t i = 0; i < NWEB_FILES; i++) {
		if (strcmp(name, web_files[i].name) == 0)
			return &web_files[i];
	}
	return NULL;
}

/* The whole file (a regular file of at most WEB_FILE_MAX bytes); NULL with errno set. */
static char *web_file_read(const char *dir, const char *name, size_t *len)
{
	char path[4096];
	struct stat st;
	char *data = NULL;
	size_t got = 0;
	int fd, n = snprintf(path, sizeof(path), "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size <= WEB_FILE_MAX)
		data = malloc((size_t)st.st_size + 1);
	else
		errno = EFBIG;
	while (data && got < (size_t)st.st_size) {
		ssize_t r = read(fd, data + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	if (data && got != (size_t)st.st_size) {
		free(data);
		errno = EIO;
		return NULL;
	}
	*len = got;
	return data;
}

static void web_security_headers(struct http_request *req)
{
	http_add_header(req, "Content-Security-Policy", WEB_CSP);
	http_add_header(req, "X-Content-Type-Options", "nosniff");
	http_add_header(req, "X-Frame-Options", "DENY");
	http_add_header(req, "Referrer-Policy", "no-referrer");
}

void admin_web_serve(struct worker *w, struct http_request *req)
{
	const struct web_file *f;
	size_t len = 0;
	char *data;

	if (req->method != HTTP_METHOD_GET && req->method != HTTP_METHOD_HEAD) {
		http_add_header(req, "Allow", "GET, HEAD");
		http_respond_error(req, 405, "method_not_allowed", "method not allowed here");
		return;
	}
	if (strcmp(req->path, "/admin") == 0) {
		http_add_header(req, "Location", "/admin/");
		http_respond(req, 301, NULL, NULL, 0);
		return;
	}
	http_add_header(req, "Cache-Control", "no-cache");
	f = web_file_find(req->path);
	if (f == NULL) {
		http_respond_error(req, 404, "not_found", "no such page");
		return;
	}
	data = web_file_read(w->cfg->web_dir, f->name, &len);
	if (data == NULL) {
		log_error("admin: cannot read the dashboard file %s/%s: %s", w->cfg->web_dir,
			  f->name, strerror(errno));
		http_respond_error(req, 404, "not_found", "the dashboard is not installed");
		return;
	}
	web_security_headers(req);
	http_respond(req, 200, f->content_type, data, len);
	free(data);
}

/* ---- the enrollment QR code ------------------------------------------------------------------ */

/* Appends one path segment per horizontal run of dark modules: "M<x> <y>h<n>v1h-<n>z". */
static size_t qr_row_path(const QRcode *qr, int y, char *out, size_t cap)
{
	size_t o = 0;
	int w = qr->width;

	for (int x = 0; x < w; x++) {
		int run = 0;
		while (x + run < w && (qr->data[y * w + x + run] & 1))
			run++;
		if (run == 0)
			continue;
		int n = snprintf(out + o, cap - o, "M%d %dh%dv1h-%dz", x + QR_QUIET_ZONE,
				 y + QR_QUIET_ZONE, run, run);
		if (n < 0 || (size_t)n >= cap - o)
			return cap;
		o += (size_t)n;
		x += run;
	}
	return o;
}

static char *qr_svg(const QRcode *qr)
{
	int size = qr->width + 2 * QR_QUIET_ZONE;
	/* A run writes at most 24 bytes and covers at least 2 modules (itself and a light one). */
	size_t cap = 512 + (size_t)qr->width * (size_t)qr->width * 16, o;
	char *svg = malloc(cap);
	int n;

	if (svg == NULL)
		return NULL;
	n = snprintf(svg, cap,
		     "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
		     "shape-rendering=\"crispEdges\"><rect width=\"%d\" height=\"%d\" "
		     "fill=\"#fff\"/><path fill=\"#000\" d=\"",
		     size, size, size, size);
	o = (size_t)n;
	for (int y = 0; y < qr->width && o < cap; y++)
		o += qr_row_path(qr, y, svg + o, cap - o);
	if (o >= cap || (size_t)snprintf(svg + o, cap - o, "\"/></svg>") >= cap - o) {
		free(svg);
		return NULL;
	}
	return svg;
}

char *admin_web_qr_svg(const char *text)
{
	QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	char *svg;

	if (qr == NULL)
		return NULL;
	svg = qr_svg(qr);
	QRcode_free(qr);
	return svg;
}
