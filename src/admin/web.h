/* SPDX-License-Identifier: Apache-2.0 */
/* admin_web: the dashboard page of the admin worker — GET /admin/ and its few static files,
 * read from server.web_dir by a fixed list of names, with a strict Content-Security-Policy —
 * and the enrollment QR code, an SVG of the otpauth URI made with libqrencode. */
#ifndef HG_ADMIN_WEB_H
#define HG_ADMIN_WEB_H

#include <stdbool.h>

#include "http/server.h"
#include "proc/worker.h"

/* Paths the dashboard answers: "/admin", "/admin/" and "/admin/<file>", not "/admin/api…". */
bool admin_web_path(const char *path);
/* Answers the request (200 with the file, 301 for "/admin", 404, 405 for other methods). */
void admin_web_serve(struct worker *w, struct http_request *req);

/* An SVG image (black modules on white, 4-module quiet zone) of text as a QR code; malloc'd,
 * NULL when out of memory or text is too long for a QR code. */
char *admin_web_qr_svg(const char *text);

#endif
