/* SPDX-License-Identifier: Apache-2.0 */
/* destination: what hookgatectl and the admin API share about a delivery destination — the
 * handler URL rule and the making of a signing secret sealed to its destination. The rows
 * themselves are created, rotated and enabled by the SQL functions of sql/005_admin_delivery.sql
 * (hookgate.destination_set, destination_rotate, destination_enable), which both callers run. */
#ifndef HG_DELIVERY_DESTINATION_H
#define HG_DELIVERY_DESTINATION_H

#include <stdbool.h>

#include "core/crypto.h"
#include "delivery/signer.h"
#include "lib/encoding.h"

#define DESTINATION_URL_MAX 2048

/* A new secret: its text (shown once) and its sealed form as a bytea parameter. */
struct destination_secret {
	char text[SIGNER_SECRET_MAX];
	char sealed_text[BYTEA_TEXT_MAX(SIGNER_SECRET_MAX + 64)];
};

/* Why url is not a handler URL (http:// or https://, a host, no user:password, at most
 * DESTINATION_URL_MAX bytes of printable ASCII), or NULL when it is one. The reason never
 * quotes the URL: a rejected one may carry a password. */
const char *destination_url_problem(const char *url);

/* Makes a secret and seals it with aad "whsec:<module>:<target>", as the delivery workers
 * open it. False when the random source or the sealing fails. Wipe s after use. */
bool destination_secret_new(const struct crypto_keys *keys, const char *module, const char *target,
			    struct destination_secret *s) __attribute__((warn_unused_result));

#endif
