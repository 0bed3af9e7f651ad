/* SPDX-License-Identifier: Apache-2.0 */
/* listener: the listening sockets, opened by the master before it forks so that every
 * worker generation accepts from the same sockets and a reload drops no connection. */
#ifndef HG_LISTENER_H
#define HG_LISTENER_H

#include <stdbool.h>
#include <stddef.h>

/* Opens a non-blocking, close-on-exec TCP listening socket on "host:port" / "[v6]:port".
 * On failure returns -1 and writes e.g.
 * "cannot listen on 127.0.0.1:8080: bind(): Address already in use" into err. */
int listener_open(const char *addr, char *err, size_t errlen);

#endif
