/* SPDX-License-Identifier: Apache-2.0 */
/* utf8: the one reading of UTF-8 (RFC 3629) in hookgate, strict everywhere: no overlong forms, no
 * surrogates, nothing above U+10FFFF, no truncated sequence. JSON bodies, token and channel names,
 * titles and the header values ingest stores all go through it, so they refuse the same bytes.
 * Pure functions on caller-owned text: safe on hostile input. */
#ifndef HG_UTF8_H
#define HG_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Length (1 to 4) of the valid sequence at s[0, avail) with its code point in *cp; 0 when the
 * bytes there are not one (or avail is 0). A NUL byte is a sequence of length 1 here. */
size_t utf8_decode(const unsigned char *s, size_t avail, uint32_t *cp);
/* Whether s[0, len) is strict UTF-8 without a NUL byte: nothing downstream (cJSON strings,
 * PostgreSQL text) can carry one. */
bool utf8_valid(const unsigned char *s, size_t len);
/* The same for a NUL-terminated string (which holds no NUL by construction). */
bool utf8_valid_str(const char *s);
/* The code points of valid UTF-8 text; of other text, the bytes that are not continuation bytes
 * (10xxxxxx). Used for length limits and display widths. */
size_t utf8_count(const char *s);

#endif
