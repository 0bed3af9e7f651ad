/* text: see text.h. */
#include "lib/text.h"

/* Length of the UTF-8 sequence starting at s and its code point; 0 when invalid (overlong,
 * surrogate, beyond U+10FFFF or truncated). */
static size_t utf8_next(const unsigned char *s, unsigned long *cp)
{
	static const unsigned long min_cp[] = { 0, 0, 0x80, 0x800, 0x10000 };
	size_t len = s[0] < 0x80	     ? 1
		     : (s[0] & 0xE0) == 0xC0 ? 2
		     : (s[0] & 0xF0) == 0xE0 ? 3
		     : (s[0] & 0xF8) == 0xF0 ? 4
					     : 0;

	if (len == 0)
		return 0;
	*cp = len == 1 ? s[0] : s[0] & (0x7F >> len);
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		*cp = (*cp << 6) | (s[i] & 0x3F);
	}
	if (*cp < min_cp[len] || *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF))
		return 0;
	return len;
}

bool text_valid(const char *text, size_t max_chars)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t chars = 0;

	while (*s) {
		unsigned long cp;
		size_t len = utf8_next(s, &cp);

		/* Unicode general category Cc: C0 controls, DEL and the C1 controls. */
		if (len == 0 || cp < 0x20 || (cp >= 0x7F && cp <= 0x9F))
			return false;
		s += len;
		chars++;
	}
	return chars >= 1 && chars <= max_chars;
}
