/* SPDX-License-Identifier: Apache-2.0 */
/* percent: see percent.h. */
#include "lib/percent.h"

#include "lib/encoding.h"

#include <stdbool.h>

int percent_escape(const char *s, size_t avail)
{
	if (avail < 3 || s[0] != '%')
		return -1;
	int hi = hex_digit_value((unsigned char)s[1]);
	int lo = hi >= 0 ? hex_digit_value((unsigned char)s[2]) : -1;
	return lo >= 0 ? hi << 4 | lo : -1;
}

static bool is_control(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

enum percent_result percent_decode(const char *src, size_t len, unsigned int flags, char *out,
				   size_t outcap, size_t *outlen)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)src[i];
		if (c == '%') {
			int v = percent_escape(src + i, len - i);
			if (v < 0)
				return PERCENT_BAD;
			if (v == 0)
				return PERCENT_NUL;
			c = (unsigned char)v;
			i += 2;
		} else if (c == '+' && (flags & PERCENT_PLUS_SPACE)) {
			c = ' ';
		}
		if ((flags & PERCENT_REFUSE_CTL) && is_control(c))
			return PERCENT_CTL;
		if (out != NULL && n + 1 < outcap)
			out[n] = (char)c;
		n++;
	}
	if (out != NULL && outcap > 0)
		out[n < outcap ? n : outcap - 1] = '\0';
	*outlen = n;
	return PERCENT_OK;
}
