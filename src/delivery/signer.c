/* SPDX-License-Identifier: Apache-2.0 */
/* signer: Standard Webhooks signatures and signing secrets (see signer.h). */
#include "delivery/signer.h"

#include "core/crypto.h"
#include "lib/encoding.h"

#include <inttypes.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#define SIGNER_PREFIX "whsec_"
#define SIGNER_HMAC_LEN 32
/* Longer keys than this are refused rather than silently hashed down: the spec's secrets are
 * 24 to 64 bytes. */
#define SIGNER_KEY_MAX 128

/* Standard base64 with '=' padding, as the spec writes signatures and secrets. Returns the
 * length written or 0 when out is too small. */
static size_t signer_b64_padded(const unsigned char *in, size_t inlen, char *out, size_t outlen)
{
	size_t n = base64_encode(in, inlen, out, outlen);

	if (n == 0)
		return 0;
	while (n % 4 != 0) {
		if (n + 1 >= outlen)
			return 0;
		out[n++] = '=';
	}
	out[n] = '\0';
	return n;
}

/* The key inside a secret: optional "whsec_", then base64 with at most two '=' of padding
 * (the padding must make a multiple of four). Returns the key length, 0 when it does not
 * decode. */
static size_t signer_secret_key(const char *secret, unsigned char key[SIGNER_KEY_MAX])
{
	size_t len, pad = 0, n;

	if (strncmp(secret, SIGNER_PREFIX, strlen(SIGNER_PREFIX)) == 0)
		secret += strlen(SIGNER_PREFIX);
	len = strlen(secret);
	while (pad < 2 && len > pad && secret[len - pad - 1] == '=')
		pad++;
	if (pad > 0 && len % 4 != 0)
		return 0;
	n = base64_decode(secret, len - pad, key, SIGNER_KEY_MAX);
	return n == (size_t)-1 ? 0 : n;
}

/* HMAC-SHA-256 of "<msg_id>.<ts>.<body>" with key. */
static bool signer_hmac(const unsigned char *key, size_t keylen, const char *msg_id, const char *ts,
			const unsigned char *body, size_t len, unsigned char out[SIGNER_HMAC_LEN])
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	const unsigned char dot = '.';
	size_t outl = 0;
	bool ok = ctx && EVP_MAC_init(ctx, key, keylen, params) == 1 &&
		  EVP_MAC_update(ctx, (const unsigned char *)msg_id, strlen(msg_id)) == 1 &&
		  EVP_MAC_update(ctx, &dot, 1) == 1 &&
		  EVP_MAC_update(ctx, (const unsigned char *)ts, strlen(ts)) == 1 &&
		  EVP_MAC_update(ctx, &dot, 1) == 1 && EVP_MAC_update(ctx, body, len) == 1 &&
		  EVP_MAC_final(ctx, out, &outl, SIGNER_HMAC_LEN) == 1 && outl == SIGNER_HMAC_LEN;

	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return ok;
}

/* Appends " v1,<base64>" (no space before the first) at out + *used. */
static bool signer_append(const unsigned char *key, size_t keylen, const char *msg_id,
			  const char *ts, const unsigned char *body, size_t len, char *out,
			  size_t outlen, size_t *used)
{
	unsigned char digest[SIGNER_HMAC_LEN];
	const char *lead = *used > 0 ? " v1," : "v1,";
	size_t leadlen = strlen(lead), n;

	if (!signer_hmac(key, keylen, msg_id, ts, body, len, digest) || outlen - *used <= leadlen)
		return false;
	memcpy(out + *used, lead, leadlen);
	n = signer_b64_padded(digest, sizeof(digest), out + *used + leadlen,
			      outlen - *used - leadlen);
	if (n == 0)
		return false;
	*used += leadlen + n;
	return true;
}

bool signer_sign(const char *msg_id, int64_t ts, const unsigned char *body, size_t len,
		 const char *const *secrets, int nsecrets, char *out, size_t outlen)
{
	unsigned char key[SIGNER_KEY_MAX];
	char tstext[24];
	size_t used = 0;
	bool ok = nsecrets > 0 && outlen > 0;

	snprintf(tstext, sizeof(tstext), "%" PRId64, ts);
	for (int i = 0; ok && i < nsecrets; i++) {
		size_t keylen = signer_secret_key(secrets[i], key);

		ok = keylen > 0 &&
		     signer_append(key, keylen, msg_id, tstext, body, len, out, outlen, &used);
	}
	OPENSSL_cleanse(key, sizeof(key));
	if (outlen > 0)
		out[ok ? used : 0] = '\0';
	return ok;
}

bool signer_secret_new(char *out, size_t outlen)
{
	unsigned char key[SIGNER_SECRET_BYTES];
	size_t plen = strlen(SIGNER_PREFIX);
	bool ok = outlen > plen && crypto_random(key, sizeof(key));

	if (ok) {
		memcpy(out, SIGNER_PREFIX, plen);
		ok = signer_b64_padded(key, sizeof(key), out + plen, outlen - plen) > 0;
	}
	OPENSSL_cleanse(key, sizeof(key));
	if (!ok && outlen > 0)
		out[0] = '\0';
	return ok;
}
