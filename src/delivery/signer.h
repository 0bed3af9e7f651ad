/* SPDX-License-Identifier: Apache-2.0 */
/* signer: Standard Webhooks 1.0 signatures (the webhook-signature header) and the signing secrets
 * they are made with ("whsec_" + padded standard base64 of the key). HMAC-SHA-256 of
 * "<webhook-id>.<webhook-timestamp>.<body>" through OpenSSL; nothing here logs a secret. */
#ifndef HG_DELIVERY_SIGNER_H
#define HG_DELIVERY_SIGNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One signature, "v1," + base64 of 32 bytes (44 characters), and the space before the next. */
#define SIGNER_SIGNATURE_LEN 47
/* What signer_sign needs for n secrets, the NUL included. */
#define SIGNER_HEADER_MAX(n) ((size_t)(n) * (SIGNER_SIGNATURE_LEN + 1) + 1)
/* "whsec_" + padded base64 of 32 random bytes, and the NUL. */
#define SIGNER_SECRET_BYTES 32
#define SIGNER_SECRET_MAX (6 + 44 + 1)

/* Writes the webhook-signature value for the message msg_id sent at ts (unix seconds) with body:
 * "v1,<base64>" for each secret, joined by one space, in the order given (the current secret
 * first during a rotation). A secret is "whsec_" (optional, as the reference libraries accept it)
 * followed by standard base64, padded or not. False, with out emptied, when nsecrets < 1, a
 * secret does not decode, or out is too small. */
bool signer_sign(const char *msg_id, int64_t ts, const unsigned char *body, size_t len,
		 const char *const *secrets, int nsecrets, char *out, size_t outlen)
	__attribute__((warn_unused_result));

/* Makes a new signing secret, "whsec_" + padded base64 of SIGNER_SECRET_BYTES random bytes
 * (for hookgatectl). False when the random source fails or out is too small. */
bool signer_secret_new(char *out, size_t outlen) __attribute__((warn_unused_result));

#endif
