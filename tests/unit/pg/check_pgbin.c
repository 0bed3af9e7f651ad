/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of pg/pgbin.c: byte-exact arrays as array_send writes them (the layouts were
 * checked against PostgreSQL 15: SELECT array_send(...)). The integration tests send such
 * arrays to a real server with every batch. */
#include "suites.h"

#include "lib/encoding.h"
#include "pg/pgbin.h"

#include <stdlib.h>
#include <string.h>

/* The finished array as lowercase hex. */
static char *hex_of(struct pgbin_array *a)
{
	ck_assert(pgbin_finish(a));
	char *out = malloc(a->len * 2 + 1);
	ck_assert_ptr_nonnull(out);
	hex_encode(a->data, a->len, out);
	return out;
}

static void assert_hex(struct pgbin_array *a, const char *want)
{
	char *got = hex_of(a);
	ck_assert_str_eq(got, want);
	free(got);
	pgbin_free(a);
}

START_TEST(test_int4_array)
{
	struct pgbin_array a;
	pgbin_init(&a, PGBIN_INT4);
	pgbin_add_int4(&a, 1);
	pgbin_add_int4(&a, -2);
	/* SELECT array_send(ARRAY[1, -2]) */
	assert_hex(&a, "00000001"
		       "00000000"
		       "00000017"
		       "00000002"
		       "00000001"
		       "00000004"
		       "00000001"
		       "00000004"
		       "fffffffe");
}
END_TEST

START_TEST(test_int8_beyond_double)
{
	struct pgbin_array a;
	pgbin_init(&a, PGBIN_INT8);
	pgbin_add_int8(&a, INT64_C(9007199254740993)); /* 2^53 + 1 */
	/* SELECT array_send(ARRAY[9007199254740993]) */
	assert_hex(&a, "00000001"
		       "00000000"
		       "00000014"
		       "00000001"
		       "00000001"
		       "00000008"
		       "0020000000000001");
}
END_TEST

START_TEST(test_text_with_null)
{
	struct pgbin_array a;
	pgbin_init(&a, PGBIN_TEXT);
	pgbin_add_text(&a, "h\xc3\xa9");
	pgbin_add_text(&a, NULL);
	pgbin_add_text(&a, "");
	/* SELECT array_send(ARRAY['hé', NULL, '']): the flag says the array has a NULL */
	assert_hex(&a, "00000001"
		       "00000001"
		       "00000019"
		       "00000003"
		       "00000001"
		       "00000003"
		       "68c3a9"
		       "ffffffff"
		       "00000000");
}
END_TEST

START_TEST(test_inet)
{
	struct pgbin_array a;
	pgbin_init(&a, PGBIN_INET);
	pgbin_add_inet(&a, "192.0.2.7");
	pgbin_add_inet(&a, "2001:db8::1");
	pgbin_add_inet(&a, "not an address");
	pgbin_add_inet(&a, NULL);
	/* SELECT array_send(ARRAY['192.0.2.7'::inet, '2001:db8::1', NULL, NULL]) */
	assert_hex(&a, "00000001"
		       "00000001"
		       "00000365"
		       "00000004"
		       "00000001"
		       "00000008"
		       "02200004"
		       "c0000207"
		       "00000014"
		       "03800010"
		       "20010db8000000000000000000000001"
		       "ffffffff"
		       "ffffffff");
}
END_TEST

START_TEST(test_timestamptz)
{
	struct pgbin_array a;
	pgbin_init(&a, PGBIN_TIMESTAMPTZ);
	pgbin_add_timestamptz(&a, INT64_C(946684800000000));  /* 2000-01-01T00:00:00Z */
	pgbin_add_timestamptz(&a, INT64_C(1795737600123456)); /* 2026-11-27T00:00:00.123456Z */
	pgbin_add_timestamptz(&a, 0);			      /* 1970-01-01T00:00:00Z */
	/* SELECT array_send(ARRAY['2000-01-01Z'::timestamptz, '2026-11-27 00:00:00.123456Z',
	 *                         '1970-01-01Z']) */
	assert_hex(&a, "00000001"
		       "00000000"
		       "000004a0"
		       "00000003"
		       "00000001"
		       "00000008"
		       "0000000000000000"
		       "00000008"
		       "00030435828c0240"
		       "00000008"
		       "fffca2fec4c82000");
}
END_TEST

/* Found by tests/fuzz/pgbin.c: times before INT64_MIN µs after 2000 overflowed the shift to
 * PostgreSQL's epoch; they are -infinity (INT64_MIN), as is INT64_MIN after 2000 itself. */
START_TEST(test_timestamptz_before_range)
{
	struct pgbin_array a;
	pgbin_init(&a, PGBIN_TIMESTAMPTZ);
	pgbin_add_timestamptz(&a, INT64_MIN);
	pgbin_add_timestamptz(&a, INT64_MIN + INT64_C(946684800000000) - 1);
	pgbin_add_timestamptz(&a, INT64_MIN + INT64_C(946684800000000));
	pgbin_add_timestamptz(&a, INT64_MIN + INT64_C(946684800000000) + 1);
	pgbin_add_timestamptz(&a, INT64_MAX);
	assert_hex(&a, "00000001"
		       "00000000"
		       "000004a0"
		       "00000005"
		       "00000001"
		       "00000008"
		       "8000000000000000"
		       "00000008"
		       "8000000000000000"
		       "00000008"
		       "8000000000000000"
		       "00000008"
		       "8000000000000001"
		       "00000008"
		       "7ffca2fec4c81fff");
}
END_TEST

START_TEST(test_int8_with_null)
{
	struct pgbin_array a;
	pgbin_init(&a, PGBIN_INT8);
	pgbin_add_int8(&a, 17);
	pgbin_add_null(&a);
	/* SELECT array_send(ARRAY[17, NULL]::bigint[]) */
	assert_hex(&a, "00000001"
		       "00000001"
		       "00000014"
		       "00000002"
		       "00000001"
		       "00000008"
		       "0000000000000011"
		       "ffffffff");
}
END_TEST

START_TEST(test_empty_array)
{
	struct pgbin_array a;
	pgbin_init(&a, PGBIN_INT8);
	/* SELECT array_send('{}'::bigint[]): no dimension at all */
	assert_hex(&a, "00000000"
		       "00000000"
		       "00000014");
}
END_TEST

START_TEST(test_grows)
{
	struct pgbin_array a;
	pgbin_init(&a, PGBIN_INT4);
	for (int i = 0; i < 10000; i++)
		pgbin_add_int4(&a, i);
	ck_assert(pgbin_finish(&a));
	ck_assert_uint_eq(a.len, 20 + 10000 * 8);
	ck_assert_int_eq(a.count, 10000);
	/* the last element: length 4, value 9999 */
	ck_assert_mem_eq(a.data + a.len - 8, "\x00\x00\x00\x04\x00\x00\x27\x0f", 8);
	pgbin_free(&a);
}
END_TEST

Suite *make_suite_pgbin(void)
{
	Suite *s = suite_create("pgbin");
	TCase *tc = tcase_create("arrays");
	tcase_add_test(tc, test_int4_array);
	tcase_add_test(tc, test_int8_beyond_double);
	tcase_add_test(tc, test_text_with_null);
	tcase_add_test(tc, test_inet);
	tcase_add_test(tc, test_timestamptz);
	tcase_add_test(tc, test_timestamptz_before_range);
	tcase_add_test(tc, test_int8_with_null);
	tcase_add_test(tc, test_empty_array);
	tcase_add_test(tc, test_grows);
	suite_add_tcase(s, tc);
	return s;
}
