/* SPDX-License-Identifier: Apache-2.0 */
/* hosts: the host list of a multi-host conninfo (host=a,b port=1,2), and which host a new
 * asynchronous connection tries first. libpq moves to the next host when one refuses or is
 * not what target_session_attrs asks for, but in PQconnectPoll mode it ignores connect_timeout:
 * a host that never answers holds the attempt until the caller gives up, and the next attempt
 * would start with it again. Here the caller says which host hung, and the next attempts start
 * after it. */
#ifndef HG_PG_HOSTS_H
#define HG_PG_HOSTS_H

#include <stdbool.h>

struct db_hosts;

/* NULL when out of memory. A conninfo libpq cannot parse, or with one host, gives a list that
 * never reorders anything. */
struct db_hosts *db_hosts_new(const char *conninfo);
void db_hosts_free(struct db_hosts *h);

/* How long one connection attempt may take: conninfo's connect_timeout per host (libpq's rule:
 * under 2 s counts as 2 s) when it sets one, else dflt_ms. */
int db_hosts_connect_timeout_ms(const struct db_hosts *h, int dflt_ms);

/* The attempt hung on host:port (PQhost, PQport of the attempt): later attempts start with
 * the host after it. False when nothing changed (one host, or not one of the list). */
bool db_hosts_skip(struct db_hosts *h, const char *host, const char *port);

/* The connection parameters that put the list in its current order, to be given after the
 * conninfo (later parameters win): up to 3 pairs written to keys/values, their number
 * returned (0 while the order is the conninfo's). Valid until the next db_hosts_skip. */
int db_hosts_params(const struct db_hosts *h, const char *keys[3], const char *values[3]);

#endif
