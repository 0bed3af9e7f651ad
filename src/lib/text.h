/* SPDX-License-Identifier: Apache-2.0 */
/* text: the rule for human-given names and titles (docs/api-admin.md, "Token module": token names
 * of 1-64 characters, no control characters), shared by hookgatectl and the admin API so both
 * refuse the same input. */
#ifndef HG_TEXT_H
#define HG_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Valid UTF-8 (no overlongs, surrogates or code points above U+10FFFF), 1..max_chars code
 * points, none of them a control character (Unicode Cc: C0, DEL and C1). */
bool text_valid(const char *text, size_t max_chars);

#endif
