/* SPDX-License-Identifier: Apache-2.0 */
/* pgbin: see pgbin.h. Layout (src/backend/utils/adt/arrayfuncs.c, array_send): int32 ndim,
 * int32 has-null flag, element type OID, then per dimension int32 length and lower bound, then
 * per element int32 byte length (-1 for NULL) and the element's own binary form. Everything is
 * big-endian. */
#include "pg/pgbin.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* ndim, flags, element type, length and lower bound of the one dimension */
#define PGBIN_HEADER 20
/* inet_send: PGSQL_AF_INET is AF_INET + 0, PGSQL_AF_INET6 is AF_INET + 1, whatever the OS. */
#define PGBIN_AF_INET 2
#define PGBIN_AF_INET6 3
/* 2000-01-01T00:00:00Z, PostgreSQL's epoch, in microseconds since the Unix epoch */
#define PGBIN_EPOCH_US INT64_C(946684800000000)

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* Room for n more bytes; false (and the array failed) when out of memory. */
static bool reserve(struct pgbin_array *a, size_t n)
{
	if (a->failed)
		return false;
	if (a->len + n <= a->cap)
		return true;
	size_t cap = a->cap ? a->cap : 256;
	while (cap < a->len + n)
		cap *= 2;
	unsigned char *p = realloc(a->data, cap);
	if (p == NULL) {
		a->failed = true;
		return false;
	}
	a->data = p;
	a->cap = cap;
	return true;
}

/* Appends one element of n bytes (n < 0: NULL) and returns where its bytes go. */
static unsigned char *element(struct pgbin_array *a, int32_t n)
{
	if (a->count == INT32_MAX || !reserve(a, 4 + (n > 0 ? (size_t)n : 0))) {
		a->failed = true;
		return NULL;
	}
	put32(a->data + a->len, (uint32_t)n);
	a->len += 4;
	a->count++;
	if (n < 0) {
		a->has_null = true;
		return NULL;
	}
	unsigned char *p = a->data + a->len;
	a->len += (size_t)n;
	return p;
}

void pgbin_init(struct pgbin_array *a, uint32_t elem_oid)
{
	memset(a, 0, sizeof(*a));
	a->elem_oid = elem_oid;
	if (reserve(a, PGBIN_HEADER))
		a->len = PGBIN_HEADER;
}

void pgbin_add_int4(struct pgbin_array *a, int32_t v)
{
	unsigned char *p = element(a, 4);
	if (p)
		put32(p, (uint32_t)v);
}

void pgbin_add_int8(struct pgbin_array *a, int64_t v)
{
	unsigned char *p = element(a, 8);
	if (p) {
		put32(p, (uint32_t)((uint64_t)v >> 32));
		put32(p + 4, (uint32_t)v);
	}
}

void pgbin_add_text(struct pgbin_array *a, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (s != NULL && n > INT32_MAX) {
		a->failed = true;
		return;
	}
	unsigned char *p = element(a, s ? (int32_t)n : -1);
	if (p && n)
		memcpy(p, s, n);
}

void pgbin_add_inet(struct pgbin_array *a, const char *addr)
{
	unsigned char buf[sizeof(struct in6_addr)];
	int family = 0, nb = 0;

	if (addr != NULL && inet_pton(AF_INET, addr, buf) == 1)
		family = PGBIN_AF_INET, nb = 4;
	else if (addr != NULL && inet_pton(AF_INET6, addr, buf) == 1)
		family = PGBIN_AF_INET6, nb = 16;
	unsigned char *p = element(a, family ? 4 + nb : -1);
	if (p == NULL)
		return;
	p[0] = (unsigned char)family;
	p[1] = (unsigned char)(nb * 8); /* a host address: all bits */
	p[2] = 0;			/* inet, not cidr */
	p[3] = (unsigned char)nb;
	memcpy(p + 4, buf, (size_t)nb);
}

void pgbin_add_null(struct pgbin_array *a)
{
	element(a, -1);
}

void pgbin_add_timestamptz(struct pgbin_array *a, int64_t unix_us)
{
	/* A time too early to count from 2000 in 64 bits is before anything PostgreSQL can hold:
	 * INT64_MIN, its -infinity (the subtraction would overflow). */
	if (unix_us < INT64_MIN + PGBIN_EPOCH_US)
		pgbin_add_int8(a, INT64_MIN);
	else
		pgbin_add_int8(a, unix_us - PGBIN_EPOCH_US);
}

bool pgbin_finish(struct pgbin_array *a)
{
	if (a->failed)
		return false;
	put32(a->data, a->count ? 1 : 0);
	put32(a->data + 4, a->has_null ? 1 : 0);
	put32(a->data + 8, a->elem_oid);
	if (a->count == 0) {
		a->len = 12; /* no dimension */
		return true;
	}
	put32(a->data + 12, (uint32_t)a->count);
	put32(a->data + 16, 1);
	return true;
}

void pgbin_free(struct pgbin_array *a)
{
	free(a->data);
	memset(a, 0, sizeof(*a));
}
