/* SPDX-License-Identifier: Apache-2.0 */
/* percent: percent-decoding (RFC 3986 section 2.1, with '+' as a space where HTML forms put one),
 * the one reading of "%XX" for the webhook router and query string, the admin API's query
 * parameters and the secret scan of redact.c. Pure functions on caller-owned text. */
#ifndef HG_PERCENT_H
#define HG_PERCENT_H

#include <stddef.h>

enum percent_result {
	PERCENT_OK,
	PERCENT_BAD, /* '%' not followed by two hex digits */
	PERCENT_NUL, /* %00: no C string (nor PostgreSQL text) can hold it */
	PERCENT_CTL, /* a control character, with PERCENT_REFUSE_CTL */
};

/* Flags of percent_decode. */
#define PERCENT_PLUS_SPACE 1u /* '+' is a space (query strings) */
#define PERCENT_REFUSE_CTL 2u /* a control character, encoded or not, is PERCENT_CTL */

/* The byte the escape at s[0, avail) encodes ("%41": 0x41), or -1 when s does not start with
 * '%' and two hex digits. */
int percent_escape(const char *s, size_t avail);

/* Decodes src[0, len) into out (outcap bytes with the NUL; out may be NULL to validate only).
 * Bytes past outcap - 1 are checked and counted in *outlen but not stored, so *outlen >
 * outcap - 1 tells the caller that the value did not fit. *outlen is set on PERCENT_OK only. */
enum percent_result percent_decode(const char *src, size_t len, unsigned int flags, char *out,
				   size_t outcap, size_t *outlen);

#endif
