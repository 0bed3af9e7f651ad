/* SPDX-License-Identifier: Apache-2.0 */
/* header_list: see header_list.h. */
#include "core/header_list.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define SEPARATORS ", \t"

/* RFC 9110 5.6.2 tchar: what a header name may hold. */
static bool name_char(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool header_list_add(struct header_list *out, const char *name, size_t len, char *err,
			    size_t errlen)
{
	for (size_t i = 0; i < len; i++) {
		if (!name_char((unsigned char)name[i])) {
			snprintf(err, errlen, "\"%.*s\" is not a header name", (int)len, name);
			return false;
		}
	}
	if (len > HEADER_NAME_MAX || out->n == HEADER_LIST_MAX) {
		snprintf(err, errlen, "at most %d names of at most %d characters", HEADER_LIST_MAX,
			 HEADER_NAME_MAX);
		return false;
	}
	memcpy(out->names[out->n], name, len);
	out->names[out->n][len] = '\0';
	for (int i = 0; i < out->n; i++) {
		if (strcasecmp(out->names[i], out->names[out->n]) == 0) {
			snprintf(err, errlen, "%s is listed twice", out->names[i]);
			return false;
		}
	}
	out->n++;
	return true;
}

bool header_list_parse(const char *text, const char *must_hold, struct header_list *out, char *err,
		       size_t errlen)
{
	bool held = must_hold == NULL;

	memset(out, 0, sizeof(*out));
	for (const char *p = text + strspn(text, SEPARATORS); *p != '\0';
	     p += strspn(p, SEPARATORS)) {
		size_t len = strcspn(p, SEPARATORS);
		if (!header_list_add(out, p, len, err, errlen))
			return false;
		held = held || strcasecmp(out->names[out->n - 1], must_hold) == 0;
		p += len;
	}
	if (out->n == 0) {
		snprintf(err, errlen, "no header name");
		return false;
	}
	if (!held) {
		snprintf(err, errlen, "%s must be one of the names", must_hold);
		return false;
	}
	return true;
}
