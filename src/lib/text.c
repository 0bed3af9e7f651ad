/* SPDX-License-Identifier: Apache-2.0 */
/* text: see text.h. */
#include "lib/text.h"

#include "lib/utf8.h"

#include <string.h>

bool text_valid(const char *text, size_t max_chars)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t left = strlen(text), chars = 0;

	while (left > 0) {
		uint32_t cp;
		size_t len = utf8_decode(s, left, &cp);

		/* Unicode general category Cc: C0 controls, DEL and the C1 controls. */
		if (len == 0 || cp < 0x20 || (cp >= 0x7F && cp <= 0x9F))
			return false;
		s += len;
		left -= len;
		chars++;
	}
	return chars >= 1 && chars <= max_chars;
}
