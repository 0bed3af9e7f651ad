/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes the binary array encoder (src/pg/pgbin.c): the input is a program that picks an
 * element type and adds elements (values and NULLs, taken from the input); the encoded array
 * is then read back the way PostgreSQL's array_recv reads it, and every element must be the one
 * added. */
#include "fuzz.h"

#include "pg/pgbin.h"

#include <arpa/inet.h>
#include <stdbool.h>

#define FUZZ_MAX_ELEMS 512
#define FUZZ_MAX_TEXT 64
#define FUZZ_EPOCH_US INT64_C(946684800000000) /* 2000-01-01, PostgreSQL's epoch */

/* What an element must read back as: len -1 for NULL, else len bytes. */
struct expected {
	int32_t len;
	unsigned char bytes[4 + 16 > FUZZ_MAX_TEXT ? 4 + 16 : FUZZ_MAX_TEXT];
};

struct program {
	const uint8_t *p;
	size_t left;
};

static uint8_t take(struct program *prog)
{
	if (prog->left == 0)
		return 0;
	prog->left--;
	return *prog->p++;
}

static uint64_t take_be(struct program *prog, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v = v << 8 | take(prog);
	return v;
}

static void be_bytes(unsigned char *out, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		out[i] = (unsigned char)v;
}

/* A text element: up to FUZZ_MAX_TEXT - 1 bytes of the input, ended by a NUL byte. */
static void add_text(struct pgbin_array *a, struct program *prog, struct expected *e)
{
	char s[FUZZ_MAX_TEXT];
	size_t n = 0;
	uint8_t c;
	while (n < sizeof(s) - 1 && prog->left && (c = take(prog)) != 0)
		s[n++] = (char)c;
	s[n] = '\0';
	pgbin_add_text(a, s);
	e->len = (int32_t)n;
	memcpy(e->bytes, s, n);
}

/* An inet element: the input's text is the address; what inet_pton refuses is NULL. */
static void add_inet(struct pgbin_array *a, struct program *prog, struct expected *e)
{
	struct expected text;
	struct pgbin_array scratch;
	unsigned char addr[16];
	int nb = 0, family = 0;

	pgbin_init(&scratch, PGBIN_TEXT);
	add_text(&scratch, prog, &text);
	pgbin_free(&scratch);
	text.bytes[text.len] = '\0';
	if (inet_pton(AF_INET, (char *)text.bytes, addr) == 1)
		nb = 4, family = 2;
	else if (inet_pton(AF_INET6, (char *)text.bytes, addr) == 1)
		nb = 16, family = 3;
	pgbin_add_inet(a, (char *)text.bytes);
	e->len = nb ? 4 + nb : -1;
	e->bytes[0] = (unsigned char)family;
	e->bytes[1] = (unsigned char)(nb * 8);
	e->bytes[2] = 0;
	e->bytes[3] = (unsigned char)nb;
	memcpy(e->bytes + 4, addr, (size_t)nb);
}

/* PostgreSQL's timestamp: microseconds since 2000, -infinity (INT64_MIN) when out of reach. */
static uint64_t timestamp_of(int64_t unix_us)
{
	if (unix_us < INT64_MIN + FUZZ_EPOCH_US)
		return (uint64_t)INT64_MIN;
	return (uint64_t)(unix_us - FUZZ_EPOCH_US);
}

static void add_one(struct pgbin_array *a, uint32_t oid, struct program *prog, struct expected *e)
{
	if (take(prog) % 5 == 0) { /* one element in five is NULL */
		pgbin_add_null(a);
		e->len = -1;
	} else if (oid == PGBIN_INT4) {
		uint32_t v = (uint32_t)take_be(prog, 4);
		pgbin_add_int4(a, (int32_t)v);
		e->len = 4;
		be_bytes(e->bytes, v, 4);
	} else if (oid == PGBIN_INT8 || oid == PGBIN_TIMESTAMPTZ) {
		uint64_t v = take_be(prog, 8);
		if (oid == PGBIN_INT8)
			pgbin_add_int8(a, (int64_t)v);
		else
			pgbin_add_timestamptz(a, (int64_t)v);
		e->len = 8;
		be_bytes(e->bytes, oid == PGBIN_INT8 ? v : timestamp_of((int64_t)v), 8);
	} else if (oid == PGBIN_TEXT) {
		add_text(a, prog, e);
	} else {
		add_inet(a, prog, e);
	}
}

static uint32_t read32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* array_recv's reading: header, then each element's length and bytes, nothing left over. */
static void check_layout(const struct pgbin_array *a, uint32_t oid, const struct expected *e, int n)
{
	bool has_null = false;
	for (int i = 0; i < n; i++)
		has_null |= e[i].len < 0;
	FUZZ_CHECK(a->len >= 12 && read32(a->data) == (n ? 1u : 0u));
	FUZZ_CHECK(read32(a->data + 4) == (has_null ? 1u : 0u) && read32(a->data + 8) == oid);
	if (n == 0) {
		FUZZ_CHECK(a->len == 12);
		return;
	}
	FUZZ_CHECK(a->len >= 20 && read32(a->data + 12) == (uint32_t)n &&
		   read32(a->data + 16) == 1);
	size_t at = 20;
	for (int i = 0; i < n; i++) {
		FUZZ_CHECK(at + 4 <= a->len);
		int32_t len = (int32_t)read32(a->data + at);
		at += 4;
		FUZZ_CHECK(len == e[i].len);
		if (len < 0)
			continue;
		FUZZ_CHECK(at + (size_t)len <= a->len);
		FUZZ_CHECK(memcmp(a->data + at, e[i].bytes, (size_t)len) == 0);
		at += (size_t)len;
	}
	FUZZ_CHECK(at == a->len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t oids[] = { PGBIN_INT4, PGBIN_INT8, PGBIN_TEXT, PGBIN_INET,
					 PGBIN_TIMESTAMPTZ };
	static struct expected e[FUZZ_MAX_ELEMS];
	struct program prog = { data, size };
	struct pgbin_array a;
	uint32_t oid = oids[take(&prog) % (sizeof(oids) / sizeof(oids[0]))];
	int n = 0;

	pgbin_init(&a, oid);
	while (prog.left && n < FUZZ_MAX_ELEMS)
		add_one(&a, oid, &prog, &e[n++]);
	FUZZ_CHECK(pgbin_finish(&a));
	check_layout(&a, oid, e, n);
	pgbin_free(&a);
	return 0;
}
