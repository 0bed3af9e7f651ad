/* SPDX-License-Identifier: Apache-2.0 */
/* tls: the OpenSSL server context both listeners use when server.tls_cert and server.tls_key
 * are set. The master builds one at start-up (so a bad certificate fails there, with one
 * line) and each worker builds its own after fork. */
#ifndef HG_TLS_H
#define HG_TLS_H

#include <stddef.h>

#include <openssl/ssl.h>

#include "core/config.h"

/* NULL with err filled on failure; also NULL (err empty) when TLS is not configured. */
SSL_CTX *tls_context_new(const struct hg_config *cfg, char *err, size_t errlen);

#endif
