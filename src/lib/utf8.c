/* SPDX-License-Identifier: Apache-2.0 */
/* utf8: see utf8.h. The second byte of a sequence carries all of RFC 3629's exclusions (table
 * in section 4), so one range check there and plain continuation checks after it suffice. */
#include "lib/utf8.h"

#include <string.h>

#define ONES_8 UINT64_C(0x0101010101010101)
#define HIGH_8 UINT64_C(0x8080808080808080)

/* Length of the multi-byte sequence a lead byte announces and the range its second byte must
 * fall in; 0 for a continuation byte, an overlong C0/C1 lead or one beyond U+10FFFF. */
static size_t utf8_lead(unsigned char c, unsigned char *lo, unsigned char *hi)
{
	*lo = 0x80;
	*hi = 0xbf;
	if (c == 0xe0)
		*lo = 0xa0; /* overlong below U+0800 */
	else if (c == 0xed)
		*hi = 0x9f; /* surrogates */
	else if (c == 0xf0)
		*lo = 0x90; /* overlong below U+10000 */
	else if (c == 0xf4)
		*hi = 0x8f; /* beyond U+10FFFF */
	if (c >= 0xc2 && c <= 0xdf)
		return 2;
	if (c >= 0xe0 && c <= 0xef)
		return 3;
	if (c >= 0xf0 && c <= 0xf4)
		return 4;
	return 0;
}

size_t utf8_decode(const unsigned char *s, size_t avail, uint32_t *cp)
{
	unsigned char lo, hi;
	if (avail == 0)
		return 0;
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	size_t n = utf8_lead(s[0], &lo, &hi);
	if (n == 0 || avail < n || s[1] < lo || s[1] > hi)
		return 0;
	uint32_t v = s[0] & (0x7fu >> n);
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3fu);
	}
	*cp = v;
	return n;
}

bool utf8_valid(const unsigned char *s, size_t len)
{
	size_t i = 0;
	while (i < len) {
		if (len - i >= 8) {
			uint64_t v;
			memcpy(&v, s + i, 8);
			/* Eight ASCII bytes, none of them NUL (the classic has-zero-byte test). */
			if (((v | ((v - ONES_8) & ~v)) & HIGH_8) == 0) {
				i += 8;
				continue;
			}
		}
		uint32_t cp;
		size_t n = utf8_decode(s + i, len - i, &cp);
		if (n == 0 || cp == 0)
			return false;
		i += n;
	}
	return true;
}

bool utf8_valid_str(const char *s)
{
	return utf8_valid((const unsigned char *)s, strlen(s));
}

size_t utf8_count(const char *s)
{
	size_t n = 0;
	for (; *s != '\0'; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}
