/* SPDX-License-Identifier: Apache-2.0 */
/* netpolicy: which addresses a delivery may connect to. Global unicast only, unless an address
 * lies in one of the operator's allowed networks (delivery.allow_networks): the check that keeps
 * a webhook URL from reaching loopback, private networks or a cloud's metadata service. It judges
 * the address actually connected to (after DNS), so a name that resolves elsewhere later
 * (DNS rebinding) is judged again. */
#ifndef HG_DELIVERY_NETPOLICY_H
#define HG_DELIVERY_NETPOLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct netpolicy;

/* Parses allow_list: CIDRs ("10.0.0.0/8", "fd00::/8") or single addresses, IPv4 or IPv6,
 * separated by commas and/or white space; NULL or empty allows nothing beyond global unicast.
 * A CIDR with host bits set ("10.0.0.1/8") is refused as a likely mistake. NULL, with the first
 * problem written into err ("bad network \"10.0.0.0/33\": prefix length must be 0..32"), when
 * the list does not parse or memory runs out. */
struct netpolicy *netpolicy_new(const char *allow_list, char *err, size_t errlen);

/* Whether a connection to sa (AF_INET or AF_INET6; anything else is refused) is allowed.
 * Refused unless inside an allowed network: 0/8, 10/8, 100.64/10 (CGNAT), 127/8, 169.254/16
 * (link-local and the metadata address 169.254.169.254), 172.16/12, 192.0.0/24, 192.0.2/24,
 * 192.168/16, 198.18/15, 198.51.100/24, 203.0.113/24, 224/4 (multicast), 240/4 (with the
 * broadcast address); every IPv6 address outside 2000::/3 (::, ::1, fc00::/7, fe80::/10,
 * ff00::/8, ...), 2001::/32 (Teredo), 2001:2::/48, 2001:db8::/32 and 3fff::/20. An IPv6 address
 * that carries an IPv4 one, IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d), NAT64
 * (64:ff9b::/96) or 6to4 (2002:AABB:CCDD::/48), is judged as that IPv4 address in both steps. */
bool netpolicy_allows(const struct netpolicy *p, const struct sockaddr *sa);

void netpolicy_free(struct netpolicy *p);

#endif
