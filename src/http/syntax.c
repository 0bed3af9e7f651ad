/* SPDX-License-Identifier: Apache-2.0 */
/* http_syntax: see syntax.h. Spelled out rather than with <ctype.h>, whose classes follow the
 * locale. */
#include "http/syntax.h"

#include <string.h>

bool http_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

size_t http_token_len(const char *p)
{
	size_t n = 0;
	while (http_tchar((unsigned char)p[n]))
		n++;
	return n;
}

const char *http_skip_ows(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}
