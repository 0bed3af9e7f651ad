/* SPDX-License-Identifier: Apache-2.0 */
/* pgbin: one-dimensional arrays in PostgreSQL's binary wire format (what array_recv reads), for
 * statement parameters sent with format 1. The webhook workers send each batch as one array per
 * field: PostgreSQL copies a binary bigint[] where it would parse text or JSON. */
#ifndef HG_PGBIN_H
#define HG_PGBIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Element type OIDs (pg_type.oid of the built-in types, fixed since PostgreSQL 7). */
#define PGBIN_INT8 20u
#define PGBIN_INT4 23u
#define PGBIN_TEXT 25u
#define PGBIN_INET 869u
#define PGBIN_TIMESTAMPTZ 1184u

/* An array being built. After any failed allocation every call is a no-op and pgbin_finish
 * returns false, so a caller adds all elements and checks once. */
struct pgbin_array {
	unsigned char *data;
	size_t len;
	size_t cap;
	uint32_t elem_oid;
	int32_t count;
	bool has_null;
	bool failed;
};

void pgbin_init(struct pgbin_array *a, uint32_t elem_oid);
void pgbin_add_int4(struct pgbin_array *a, int32_t v);
void pgbin_add_int8(struct pgbin_array *a, int64_t v);
/* NULL is SQL NULL. The bytes go as they are: PostgreSQL refuses the whole parameter if they
 * are not valid in its encoding or hold a NUL, so check text before. */
void pgbin_add_text(struct pgbin_array *a, const char *s);
/* An IPv4 or IPv6 address in text form; NULL, or anything else, is SQL NULL. */
void pgbin_add_inet(struct pgbin_array *a, const char *addr);
/* SQL NULL, in an array of any type. */
void pgbin_add_null(struct pgbin_array *a);
/* Microseconds since the Unix epoch; a time more than 2^63 µs before 2000 is -infinity. */
void pgbin_add_timestamptz(struct pgbin_array *a, int64_t unix_us);
/* Writes the header. Then data holds len bytes of the array; false after a failed allocation. */
bool pgbin_finish(struct pgbin_array *a);
void pgbin_free(struct pgbin_array *a);

#endif
