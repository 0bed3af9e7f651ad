/* SPDX-License-Identifier: Apache-2.0 */
/* netpolicy: the outbound address policy of deliveries (see netpolicy.h). Addresses are
 * compared as bytes in network order against prefix tables; IPv4 and IPv6 stay apart, and an
 * IPv6 address carrying an IPv4 one is reduced to it first. */
/* inet_pton is POSIX, not C11. */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include "delivery/netpolicy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One network: family AF_INET (the first 4 bytes of addr used) or AF_INET6. */
struct netpolicy_net {
	int family;
	unsigned char addr[16];
	int bits;
};

struct netpolicy {
	size_t count;
	struct netpolicy_net nets[];
};

#define V4(a, b, c, d, bits)                                                                       \
	{                                                                                          \
		AF_INET, { a, b, c, d }, bits                                                      \
	}
#define V6(a, b, c, d, bits)                                                                       \
	{                                                                                          \
		AF_INET6, { a, b, c, d }, bits                                                     \
	}

/* Not global unicast (RFC 6890 and the IANA special-purpose registries). */
static const struct netpolicy_net netpolicy_refused[] = {
	V4(0, 0, 0, 0, 8),
	V4(10, 0, 0, 0, 8),
	V4(100, 64, 0, 0, 10),
	V4(127, 0, 0, 0, 8),
	V4(169, 254, 0, 0, 16),
	V4(172, 16, 0, 0, 12),
	V4(192, 0, 0, 0, 24),
	V4(192, 0, 2, 0, 24),
	V4(192, 168, 0, 0, 16),
	V4(198, 18, 0, 0, 15),
	V4(198, 51, 100, 0, 24),
	V4(203, 0, 113, 0, 24),
	V4(224, 0, 0, 0, 4),
	V4(240, 0, 0, 0, 4),
	V6(0x20, 0x01, 0x00, 0x00, 32),
	V6(0x20, 0x01, 0x00, 0x02, 48),
	V6(0x20, 0x01, 0x0d, 0xb8, 32),
	V6(0x3f, 0xff, 0x00, 0x00, 20),
};

/* Global unicast IPv6 is 2000::/3; everything else is loopback, unspecified, ULA, link-local,
 * multicast or reserved. */
static const struct netpolicy_net netpolicy_global6 = V6(0x20, 0, 0, 0, 3);

static bool netpolicy_in(const unsigned char *addr, int family, const struct netpolicy_net *net)
{
	int whole = net->bits / 8, rest = net->bits % 8;

	if (family != net->family || memcmp(addr, net->addr, (size_t)whole) != 0)
		return false;
	return rest == 0 || ((addr[whole] ^ net->addr[whole]) & (0xff00 >> rest) & 0xff) == 0;
}

/* The IPv4 address inside an IPv6 one, if it carries one: IPv4-mapped ::ffff:0:0/96,
 * IPv4-compatible ::/96 (but :: and ::1 are IPv6's own), NAT64 64:ff9b::/96, 6to4 2002::/16. */
static bool netpolicy_embedded_v4(const unsigned char *a, unsigned char v4[4])
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	static const unsigned char nat64[12] = { 0, 0x64, 0xff, 0x9b };
	static const unsigned char zero[12] = { 0 };
	const unsigned char *inside = a + 12;

	if (a[0] == 0x20 && a[1] == 0x02)
		inside = a + 2;
	else if (memcmp(a, zero, 12) == 0)
		inside = memcmp(a + 12, "\0\0\0", 3) == 0 && a[15] <= 1 ? NULL : a + 12;
	else if (memcmp(a, mapped, 12) != 0 && memcmp(a, nat64, 12) != 0)
		inside = NULL;
	if (inside == NULL)
		return false;
	memmove(v4, inside, 4); /* v4 may be a itself */
	return true;
}

static bool netpolicy_global(const unsigned char *addr, int family)
{
	if (family == AF_INET6 && !netpolicy_in(addr, family, &netpolicy_global6))
		return false;
	for (size_t i = 0; i < sizeof(netpolicy_refused) / sizeof(netpolicy_refused[0]); i++) {
		if (netpolicy_in(addr, family, &netpolicy_refused[i]))
			return false;
	}
	return true;
}

bool netpolicy_allows(const struct netpolicy *p, const struct sockaddr *sa)
{
	unsigned char addr[16];
	int family = sa->sa_family;

	if (family == AF_INET) {
		memcpy(addr, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
	} else if (family == AF_INET6) {
		memcpy(addr, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
		if (netpolicy_embedded_v4(addr, addr))
			family = AF_INET;
	} else {
		return false;
	}
	for (size_t i = 0; p != NULL && i < p->count; i++) {
		if (netpolicy_in(addr, family, &p->nets[i]))
			return true;
	}
	return netpolicy_global(addr, family);
}

/* ---- the allow list ------------------------------------------------------------------ */

#define NETPOLICY_SEPARATORS ", \t\r\n"
/* The longest network text: a full IPv6 address with an IPv4 tail and "/128". */
#define NETPOLICY_TOKEN_MAX 64

static bool netpolicy_fail(char *err, size_t errlen, const char *token, size_t len, const char *why)
{
	if (errlen > 0)
		snprintf(err, errlen, "bad network \"%.*s\": %s", (int)(len > 64 ? 64 : len), token,
			 why);
	return false;
}

/* The prefix length after '/': 1 to 3 digits, at most max. */
static bool netpolicy_bits(const char *s, int max, int *bits)
{
	size_t n = strlen(s);
	int v = 0;

	if (n < 1 || n > 3)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*bits = v;
	return v <= max;
}

/* Parses one token ("addr" or "addr/len") into net. */
static bool netpolicy_parse_net(const char *token, size_t len, struct netpolicy_net *net, char *err,
				size_t errlen)
{
	char text[NETPOLICY_TOKEN_MAX + 1];
	char *slash;
	int max;

	if (len > NETPOLICY_TOKEN_MAX)
		return netpolicy_fail(err, errlen, token, len, "too long");
	memcpy(text, token, len);
	text[len] = '\0';
	slash = strchr(text, '/');
	if (slash != NULL)
		*slash = '\0';
	memset(net, 0, sizeof(*net));
	net->family = strchr(text, ':') != NULL ? AF_INET6 : AF_INET;
	if (inet_pton(net->family, text, net->addr) != 1)
		return netpolicy_fail(err, errlen, token, len,
				      net->family == AF_INET6 ? "not an IPv6 address"
							      : "not an IPv4 address");
	max = net->family == AF_INET6 ? 128 : 32;
	net->bits = max;
	if (slash != NULL && !netpolicy_bits(slash + 1, max, &net->bits))
		return netpolicy_fail(err, errlen, token, len,
				      max == 32 ? "prefix length must be 0..32"
						: "prefix length must be 0..128");
	return true;
}

/* A network whose address has bits set past its prefix is most likely a typo ("10.0.0.1/8"
 * for "10.0.0.0/8", or a wrong length); refusing it beats guessing what was meant. */
static bool netpolicy_host_bits(const struct netpolicy_net *net)
{
	struct netpolicy_net zeroed = *net;
	int whole = net->bits / 8, rest = net->bits % 8;
	size_t size = net->family == AF_INET6 ? 16 : 4;

	if ((size_t)whole < size) {
		zeroed.addr[whole] &= (unsigned char)(0xff00 >> rest);
		memset(zeroed.addr + whole + 1, 0, size - (size_t)whole - 1);
	}
	return memcmp(zeroed.addr, net->addr, size) != 0;
}

/* Parses each token of list into nets and counts them in *count; with nets NULL it only counts. */
static bool netpolicy_parse_list(const char *list, struct netpolicy_net *nets, size_t *count,
				 char *err, size_t errlen)
{
	*count = 0;
	while (list != NULL && *list != '\0') {
		size_t len;

		list += strspn(list, NETPOLICY_SEPARATORS);
		len = strcspn(list, NETPOLICY_SEPARATORS);
		if (len == 0)
			break;
		if (nets != NULL) {
			struct netpolicy_net *net = &nets[*count];

			if (!netpolicy_parse_net(list, len, net, err, errlen))
				return false;
			if (netpolicy_host_bits(net))
				return netpolicy_fail(err, errlen, list, len,
						      "address has bits set beyond the prefix "
						      "length");
		}
		(*count)++;
		list += len;
	}
	return true;
}

struct netpolicy *netpolicy_new(const char *allow_list, char *err, size_t errlen)
{
	struct netpolicy *p;
	size_t count;

	netpolicy_parse_list(allow_list, NULL, &count, err, errlen);
	p = calloc(1, sizeof(*p) + count * sizeof(p->nets[0]));
	if (p == NULL) {
		if (errlen > 0)
			snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (!netpolicy_parse_list(allow_list, p->nets, &p->count, err, errlen)) {
		free(p);
		return NULL;
	}
	return p;
}

void netpolicy_free(struct netpolicy *p)
{
	free(p);
}
