/* SPDX-License-Identifier: Apache-2.0 */
/* fdio: see fdio.h. */
#include "core/fdio.h"

#include <errno.h>
#include <unistd.h>

bool fdio_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}
