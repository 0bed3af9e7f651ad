/* SPDX-License-Identifier: Apache-2.0 */
/* http_media: see media.h. */
#include "http/media.h"

#include "http/syntax.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

bool http_media_type_is(const char *value, const char *type, const char **params)
{
	const char *p = http_skip_ows(value);
	size_t tlen = http_token_len(p);
	if (p[tlen] == '/')
		tlen += 1 + http_token_len(p + tlen + 1);
	if (tlen != strlen(type) || strncasecmp(p, type, tlen) != 0)
		return false;
	if (p[tlen] != '\0' && p[tlen] != ';' && p[tlen] != ' ' && p[tlen] != '\t')
		return false;
	if (params != NULL)
		*params = p + tlen;
	return true;
}

static bool is_control(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/* A parameter value: a token or a quoted-string; copied (unquoted) into val, which is left
 * empty if it does not fit (no charset we accept is long). Returns the end, or NULL. */
static const char *param_value(const char *p, char *val, size_t valcap)
{
	size_t n = 0;
	bool fits = true;
	if (*p != '"') {
		size_t len = http_token_len(p);
		if (len == 0)
			return NULL;
		fits = len < valcap;
		if (fits)
			memcpy(val, p, len);
		val[fits ? len : 0] = '\0';
		return p + len;
	}
	for (p++; *p != '"'; p++) {
		if (*p == '\\')
			p++;
		if (*p == '\0' || (is_control((unsigned char)*p) && *p != '\t'))
			return NULL;
		if (n + 1 < valcap)
			val[n] = *p;
		else
			fits = false;
		n++;
	}
	val[fits ? n : 0] = '\0';
	return p + 1;
}

bool http_media_params_utf8(const char *p)
{
	char val[16];
	for (;;) {
		p = http_skip_ows(p);
		if (*p == '\0')
			return true;
		if (*p++ != ';')
			return false;
		p = http_skip_ows(p);
		if (*p == '\0')
			return true;
		size_t nlen = http_token_len(p);
		if (nlen == 0 || p[nlen] != '=')
			return false;
		bool charset = nlen == 7 && strncasecmp(p, "charset", 7) == 0;
		p = param_value(p + nlen + 1, val, sizeof(val));
		if (p == NULL || (charset && strcasecmp(val, "utf-8") != 0))
			return false;
	}
}
