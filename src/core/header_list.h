/* SPDX-License-Identifier: Apache-2.0 */
/* header_list: a list of HTTP header names as a config value holds it ("Idempotency-Key,
 * webhook-id"), checked and split once: limits.idempotency_headers (docs/configuration.md). */
#ifndef HG_HEADER_LIST_H
#define HG_HEADER_LIST_H

#include <stdbool.h>
#include <stddef.h>

#define HEADER_LIST_MAX 8
#define HEADER_NAME_MAX 64

struct header_list {
	int n;
	char names[HEADER_LIST_MAX][HEADER_NAME_MAX + 1];
};

/* Names (RFC 9110 tokens, 1-64 characters) separated by commas and/or blanks, 1 to
 * HEADER_LIST_MAX of them, none twice (case-insensitively); must_hold (NULL: none) must be one
 * of them. False with the reason in err otherwise. */
bool header_list_parse(const char *text, const char *must_hold, struct header_list *out, char *err,
		       size_t errlen);

#endif
