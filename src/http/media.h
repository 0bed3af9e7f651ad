/* SPDX-License-Identifier: Apache-2.0 */
/* http_media: media types of Content-Type values (RFC 9110 section 8.3): "type/subtype" compared
 * case-insensitively, then "; name=value" parameters, a value being a token or a quoted-string.
 * The webhook endpoints and the admin API read request bodies' types through it. Pure functions
 * on caller-owned text. */
#ifndef HG_HTTP_MEDIA_H
#define HG_HTTP_MEDIA_H

#include <stdbool.h>

/* Whether the value (optional white space first) has the media type type ("application/json"),
 * followed by its end, white space or ';'. *params (when params is not NULL) then points at
 * what follows it. */
bool http_media_type_is(const char *value, const char *type, const char **params);
/* Whether the parameters after a media type are well formed, with a charset, if one is given,
 * of UTF-8 (bodies that are stored and validated as UTF-8 cannot declare another). */
bool http_media_params_utf8(const char *params);

#endif
