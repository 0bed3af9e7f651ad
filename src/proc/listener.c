/* SPDX-License-Identifier: Apache-2.0 */
/* listener: see listener.h. */
#include "proc/listener.h"
#include "core/config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define LISTEN_BACKLOG 1024

static int fail(int fd, const char *addr, const char *call, int err_no, char *err, size_t errlen)
{
	snprintf(err, errlen, "cannot listen on %s: %s: %s", addr, call, strerror(err_no));
	if (fd >= 0)
		close(fd);
	return -1;
}

int listener_open(const char *addr, char *err, size_t errlen)
{
	char host[256], port_text[16];
	int port, one = 1;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV },
			*ai = NULL;

	if (!cfg_parse_addr(addr, host, sizeof(host), &port))
		return fail(-1, addr, "address", EINVAL, err, errlen);
	snprintf(port_text, sizeof(port_text), "%d", port);
	int rc = getaddrinfo(host, port_text, &hints, &ai);
	if (rc != 0) {
		snprintf(err, errlen, "cannot listen on %s: getaddrinfo(): %s", addr,
			 gai_strerror(rc));
		return -1;
	}
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		freeaddrinfo(ai);
		return fail(-1, addr, "socket()", errno, err, errlen);
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ai->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		int e = errno;
		freeaddrinfo(ai);
		return fail(fd, addr, "bind()", e, err, errlen);
	}
	freeaddrinfo(ai);
	if (listen(fd, LISTEN_BACKLOG) < 0)
		return fail(fd, addr, "listen()", errno, err, errlen);
	return fd;
}
