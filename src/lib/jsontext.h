/* SPDX-License-Identifier: Apache-2.0 */
/* jsontext: the strict reading of JSON text that every request body goes through before cJSON
 * sees it, on the webhook and the admin side alike. cJSON is lenient: any byte <= 0x20 is blank
 * to it, it takes "01" and raw control characters in strings, and it cuts a string at \u0000,
 * so that {"name":"ab\u0000cd"} would be read as "ab". Here the text must be UTF-8 (RFC 3629)
 * and JSON (RFC 8259) to the letter, without a \u0000 escape. Pure functions on caller-owned
 * text: safe on hostile input. */
#ifndef HG_JSONTEXT_H
#define HG_JSONTEXT_H

#include <stdbool.h>
#include <stddef.h>

#define JSONTEXT_NOT_UTF8 "body is not valid UTF-8 (or has a NUL byte)"
#define JSONTEXT_NOT_JSON "body is not valid JSON"

/* Strict JSON text of any value, without a \u0000 escape or an unpaired surrogate escape; the
 * grammar only (jsontext_check also wants UTF-8). */
bool jsontext_grammar_valid(const char *s, size_t len);
/* Both: NULL when s[0, len) is such JSON text, else JSONTEXT_NOT_UTF8 or JSONTEXT_NOT_JSON. */
const char *jsontext_check(const char *s, size_t len);

#endif
