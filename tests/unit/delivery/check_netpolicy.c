/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of delivery/netpolicy.c: every refused range (its edges too), the IPv6 forms that
 * carry an IPv4 address, the allow list inside and outside its networks, and lists that must
 * not parse. */
#include "suites.h"

#include "delivery/netpolicy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/un.h>

/* Whether policy p lets a connection go to the address text (IPv4 or IPv6). */
static bool allows(const struct netpolicy *p, const char *text)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	if (strchr(text, ':') != NULL) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		sin6->sin6_family = AF_INET6;
		ck_assert_int_eq(inet_pton(AF_INET6, text, &sin6->sin6_addr), 1);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		sin->sin_family = AF_INET;
		ck_assert_int_eq(inet_pton(AF_INET, text, &sin->sin_addr), 1);
	}
	return netpolicy_allows(p, (const struct sockaddr *)&ss);
}

/* Every address of list allowed (want) or refused (!want) by p. */
#define EXPECT_ALL(p, list, want) expect_all(p, list, sizeof(list) / sizeof(list[0]), want)
static void expect_all(const struct netpolicy *p, const char *const *list, size_t n, bool want)
{
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(allows(p, list[i]) == want, "%s %s", want ? "refused" : "allowed",
			      list[i]);
}

static struct netpolicy *policy(const char *list)
{
	char err[256] = "";
	struct netpolicy *p = netpolicy_new(list, err, sizeof(err));
	ck_assert_msg(p != NULL, "\"%s\": %s", list ? list : "(null)", err);
	return p;
}

/* Inside each refused range, at both of its ends; global neighbours just outside. */
static const char *const refused[] = {
	"0.0.0.0",
	"0.255.255.255",
	"10.0.0.0",
	"10.255.255.255",
	"100.64.0.0",
	"100.127.255.255",
	"127.0.0.1",
	"127.255.255.254",
	"169.254.0.1",
	"169.254.169.254",
	"169.254.255.255",
	"172.16.0.0",
	"172.31.255.255",
	"192.0.0.1",
	"192.0.0.255",
	"192.0.2.1",
	"192.168.0.1",
	"192.168.255.255",
	"198.18.0.1",
	"198.19.255.255",
	"198.51.100.7",
	"203.0.113.9",
	"224.0.0.1",
	"239.255.255.255",
	"240.0.0.1",
	"255.255.255.255",
	"::",
	"::1",
	"fc00::1",
	"fd12:3456::1",
	"fe80::1",
	"febf:ffff::1",
	"ff02::1",
	"ff0e::1",
	"2001:db8::1",
	"2001:db8:ffff::1",
	"2001::1",
	"2001:2::1",
	"3fff::1",
	"3fff:fff::1",
	"100::1",
	"fec0::1",
	"64:ff9b:1::1",
	"1fff:ffff::1",
	"4000::1",
	"::2:1",
};
static const char *const global[] = {
	"1.1.1.1",	   "8.8.8.8",	   "9.255.255.255",   "11.0.0.0",
	"100.63.255.255",  "100.128.0.0",  "126.255.255.255", "128.0.0.0",
	"169.253.255.255", "169.255.0.0",  "172.15.255.255",  "172.32.0.0",
	"192.0.1.0",	   "192.0.3.0",	   "192.167.255.255", "192.169.0.0",
	"198.17.255.255",  "198.20.0.0",   "198.51.99.255",   "198.51.101.0",
	"203.0.112.255",   "203.0.114.0",  "223.255.255.255", "2000::1",
	"2606:4700::1111", "2a00:1450::1", "2001:4860::8888", "2001:db7:ffff::1",
	"2001:db9::1",	   "3ffe::1",	   "3fff:1000::1",    "2001:1::1",
};

START_TEST(test_refused_ranges)
{
	struct netpolicy *p = policy(NULL);
	EXPECT_ALL(p, refused, false);
	EXPECT_ALL(p, global, true);
	netpolicy_free(p);
}
END_TEST

/* An IPv6 address carrying an IPv4 one is judged as that IPv4 address. */
START_TEST(test_embedded_ipv4)
{
	static const char *const bad[] = {
		"::ffff:127.0.0.1",   "::ffff:10.1.2.3",   "::ffff:169.254.169.254",
		"::ffff:192.168.1.1", "::ffff:0.0.0.0",	   "::ffff:255.255.255.255",
		"::127.0.0.1",	      "::10.0.0.1",	   "::169.254.169.254",
		"64:ff9b::127.0.0.1", "64:ff9b::10.0.0.1", "64:ff9b::a9fe:a9fe",
		"2002:7f00:1::1",     "2002:a00:1::",	   "2002:c0a8:101::1",
	};
	static const char *const good[] = {
		"::ffff:8.8.8.8",   "::ffff:1.1.1.1",  "::8.8.8.8",
		"64:ff9b::8.8.8.8", "2002:808:808::1",
	};
	struct netpolicy *p = policy("");
	EXPECT_ALL(p, bad, false);
	EXPECT_ALL(p, good, true);
	netpolicy_free(p);
}
END_TEST

/* The tests' own list: loopback in both families, and what it does not open. */
START_TEST(test_allow_list)
{
	struct netpolicy *p = policy("127.0.0.0/8, ::1/128");
	ck_assert(allows(p, "127.0.0.1"));
	ck_assert(allows(p, "127.9.9.9"));
	ck_assert(allows(p, "::1"));
	ck_assert(allows(p, "::ffff:127.0.0.1")); /* the same address, mapped */
	ck_assert(allows(p, "8.8.8.8"));	  /* global stays allowed */
	ck_assert(!allows(p, "10.0.0.1"));
	ck_assert(!allows(p, "::2"));
	ck_assert(!allows(p, "169.254.169.254"));
	ck_assert(!allows(p, "fe80::1"));
	netpolicy_free(p);

	/* Blanks and commas in any mix; prefixes that end inside a byte. */
	p = policy("  10.20.0.0/14\t,fd12:3456::/31 ,, 192.168.7.7\n169.254.169.254/32 ");
	ck_assert(allows(p, "10.20.0.0"));
	ck_assert(allows(p, "10.23.255.255"));
	ck_assert(!allows(p, "10.24.0.0"));
	ck_assert(!allows(p, "10.19.255.255"));
	ck_assert(allows(p, "fd12:3456::1"));
	ck_assert(allows(p, "fd12:3457:ffff::1"));
	ck_assert(!allows(p, "fd12:3458::1"));
	ck_assert(allows(p, "192.168.7.7"));
	ck_assert(!allows(p, "192.168.7.8"));
	ck_assert(allows(p, "169.254.169.254"));
	ck_assert(!allows(p, "169.254.169.253"));
	netpolicy_free(p);

	/* /0 opens a whole family, and only that family. */
	p = policy("0.0.0.0/0");
	ck_assert(allows(p, "127.0.0.1"));
	ck_assert(allows(p, "::ffff:10.0.0.1"));
	ck_assert(!allows(p, "::1"));
	ck_assert(!allows(p, "fd00::1"));
	netpolicy_free(p);
}
END_TEST

START_TEST(test_other_families)
{
	struct netpolicy *p = policy("0.0.0.0/0 ::/0");
	struct sockaddr_un local;
	memset(&local, 0, sizeof(local));
	local.sun_family = AF_UNIX;
	ck_assert(!netpolicy_allows(p, (const struct sockaddr *)&local));
	netpolicy_free(p);
}
END_TEST

START_TEST(test_bad_lists)
{
	static const struct {
		const char *list, *err;
	} bad[] = {
		{ "10.0.0.0/33", "bad network \"10.0.0.0/33\": prefix length must be 0..32" },
		{ "fd00::/129", "bad network \"fd00::/129\": prefix length must be 0..128" },
		{ "10.0.0.1/8",
		  "bad network \"10.0.0.1/8\": address has bits set beyond the prefix "
		  "length" },
		{ "fd00::1/8", "bad network \"fd00::1/8\": address has bits set beyond the prefix "
			       "length" },
		{ "127.0.0.0/8, 10.0.0.256/32",
		  "bad network \"10.0.0.256/32\": not an IPv4 address" },
		{ "localhost", "bad network \"localhost\": not an IPv4 address" },
		{ "fe80::1%eth0", "bad network \"fe80::1%eth0\": not an IPv6 address" },
		{ "10.0.0.0/", "bad network \"10.0.0.0/\": prefix length must be 0..32" },
		{ "10.0.0.0/-1", "bad network \"10.0.0.0/-1\": prefix length must be 0..32" },
		{ "10.0.0.0/0008", "bad network \"10.0.0.0/0008\": prefix length must be 0..32" },
		{ "10.0.0.0/8/8", "bad network \"10.0.0.0/8/8\": prefix length must be 0..32" },
		{ "10/8", "bad network \"10/8\": not an IPv4 address" },
		{ "10.0.0.0;8", "bad network \"10.0.0.0;8\": not an IPv4 address" },
		/* Echoed up to 64 characters. */
		{ "1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb:cccc:dddd:eeee/128",
		  "bad network "
		  "\"1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb:cccc:dddd\": too "
		  "long" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char err[256] = "";
		ck_assert_msg(netpolicy_new(bad[i].list, err, sizeof(err)) == NULL, "accepted %s",
			      bad[i].list);
		ck_assert_str_eq(err, bad[i].err);
	}
	/* Empty lists are fine: nothing beyond global unicast. */
	static const char *const empty[] = { NULL, "", " ", ",", " , \t\n" };
	for (size_t i = 0; i < sizeof(empty) / sizeof(empty[0]); i++) {
		struct netpolicy *p = policy(empty[i]);
		ck_assert(!allows(p, "127.0.0.1"));
		ck_assert(allows(p, "1.1.1.1"));
		netpolicy_free(p);
	}
}
END_TEST

Suite *make_suite_netpolicy(void)
{
	Suite *s = suite_create("netpolicy");
	TCase *tc = tcase_create("netpolicy");
	tcase_add_test(tc, test_refused_ranges);
	tcase_add_test(tc, test_embedded_ipv4);
	tcase_add_test(tc, test_allow_list);
	tcase_add_test(tc, test_other_families);
	tcase_add_test(tc, test_bad_lists);
	suite_add_tcase(s, tc);
	return s;
}
