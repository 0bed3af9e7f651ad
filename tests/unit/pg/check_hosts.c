/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of pg/hosts.c: which host of a multi-host conninfo a connection attempt tries
 * first after one hung, and the connect time-out. The reconnect itself, with a host that does
 * not answer, is tests/integration/t_failover.sh's. */
#include "suites.h"

#include "pg/hosts.h"

#include <stdio.h>
#include <string.h>

/* The parameters db_hosts_params gives, as "key=value key=value". */
static void assert_params(const struct db_hosts *h, const char *want)
{
	const char *keys[3], *values[3];
	char got[256] = "";
	int n = db_hosts_params(h, keys, values);
	for (int i = 0; i < n; i++) {
		size_t used = strlen(got);
		snprintf(got + used, sizeof(got) - used, "%s%s=%s", i ? " " : "", keys[i],
			 values[i]);
	}
	ck_assert_str_eq(got, want);
}

START_TEST(test_three_hosts_turn)
{
	struct db_hosts *h = db_hosts_new("host=a,b,c port=1,2,3 dbname=x");
	ck_assert_ptr_nonnull(h);
	assert_params(h, "");
	ck_assert(db_hosts_skip(h, "a", "1"));
	assert_params(h, "host=b,c,a port=2,3,1");
	/* b hung too: the attempt had started with b, so c comes first now. */
	ck_assert(db_hosts_skip(h, "b", "2"));
	assert_params(h, "host=c,a,b port=3,1,2");
	ck_assert(db_hosts_skip(h, "c", "3"));
	assert_params(h, "");
	db_hosts_free(h);
}
END_TEST

/* The test's own set-up: one address, two ports. */
START_TEST(test_same_host_two_ports)
{
	struct db_hosts *h = db_hosts_new("host=127.0.0.1,127.0.0.1 port=5001,5002");
	ck_assert(db_hosts_skip(h, "127.0.0.1", "5001"));
	assert_params(h, "host=127.0.0.1,127.0.0.1 port=5002,5001");
	/* Another connection that hung on the same host changes nothing more. */
	ck_assert(db_hosts_skip(h, "127.0.0.1", "5001"));
	assert_params(h, "host=127.0.0.1,127.0.0.1 port=5002,5001");
	ck_assert(!db_hosts_skip(h, "127.0.0.1", "5003"));
	db_hosts_free(h);
}
END_TEST

START_TEST(test_one_port_for_all)
{
	struct db_hosts *h = db_hosts_new("host=10.0.0.1,10.0.0.2 port=5432");
	ck_assert(db_hosts_skip(h, "10.0.0.1", "5432"));
	assert_params(h, "host=10.0.0.2,10.0.0.1");
	db_hosts_free(h);
}
END_TEST

START_TEST(test_uri_and_hostaddr)
{
	struct db_hosts *h =
		db_hosts_new("postgresql://u@a:1,b:2/db?target_session_attrs=read-write");
	ck_assert(db_hosts_skip(h, "a", "1"));
	assert_params(h, "host=b,a port=2,1");
	db_hosts_free(h);
	h = db_hosts_new("host=pg1,pg2 hostaddr=10.0.0.1,10.0.0.2");
	ck_assert(db_hosts_skip(h, "pg1", NULL));
	assert_params(h, "host=pg2,pg1 hostaddr=10.0.0.2,10.0.0.1");
	db_hosts_free(h);
}
END_TEST

START_TEST(test_nothing_to_turn)
{
	struct db_hosts *h = db_hosts_new("host=a port=1");
	ck_assert(!db_hosts_skip(h, "a", "1"));
	assert_params(h, "");
	db_hosts_free(h);
	h = db_hosts_new("host='unterminated");
	ck_assert_ptr_nonnull(h);
	ck_assert(!db_hosts_skip(h, "a", "1"));
	db_hosts_free(h);
}
END_TEST

START_TEST(test_connect_timeout)
{
	struct db_hosts *h = db_hosts_new("host=a,b connect_timeout=3");
	ck_assert_int_eq(db_hosts_connect_timeout_ms(h, 5000), 3000);
	db_hosts_free(h);
	h = db_hosts_new("host=a connect_timeout=1"); /* libpq: under 2 s counts as 2 s */
	ck_assert_int_eq(db_hosts_connect_timeout_ms(h, 5000), 2000);
	db_hosts_free(h);
	h = db_hosts_new("host=a");
	ck_assert_int_eq(db_hosts_connect_timeout_ms(h, 5000), 5000);
	db_hosts_free(h);
}
END_TEST

Suite *make_suite_hosts(void)
{
	Suite *s = suite_create("hosts");
	TCase *tc = tcase_create("order");
	tcase_add_test(tc, test_three_hosts_turn);
	tcase_add_test(tc, test_same_host_two_ports);
	tcase_add_test(tc, test_one_port_for_all);
	tcase_add_test(tc, test_uri_and_hostaddr);
	tcase_add_test(tc, test_nothing_to_turn);
	tcase_add_test(tc, test_connect_timeout);
	suite_add_tcase(s, tc);
	return s;
}
