/* SPDX-License-Identifier: Apache-2.0 */
/* fdio: writing a buffer whole to a file descriptor, through short writes and EINTR. The log
 * writes its lines with it and hookgatectl keygen the secret key file; a write(2) alone may
 * write part of a buffer and leave a torn line or a short key. */
#ifndef HG_FDIO_H
#define HG_FDIO_H

#include <stdbool.h>
#include <stddef.h>

/* True when all len bytes were written; false on the first error (errno says which) or when
 * write(2) writes nothing. */
bool fdio_write_all(int fd, const void *buf, size_t len);

#endif
