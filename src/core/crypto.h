/* SPDX-License-Identifier: Apache-2.0 */
/* crypto: the secret key file and everything keyed by it (docs/schema.md, "Secrets"): look-up
 * hashes (HMAC-SHA-256), sealed secrets (AES-256-GCM), passwords (scrypt), randomness, and
 * constant-time comparison. All of it through OpenSSL. */
#ifndef HG_CRYPTO_H
#define HG_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>

#define CRYPTO_KEY_LEN 32
#define CRYPTO_HASH_LEN 32
#define CRYPTO_KEYFILE_MIN 32

/* Two independent keys derived from the key file with HKDF-SHA-256 (distinct "info" labels),
 * so the look-up hash and the encryption never share a key. */
struct crypto_keys {
	unsigned char hash_key[CRYPTO_KEY_LEN];
	unsigned char enc_key[CRYPTO_KEY_LEN];
};

/* Reads the key file: refuses a file readable or writable by group/others, shorter than
 * CRYPTO_KEYFILE_MIN bytes, whose first CRYPTO_KEYFILE_MIN bytes are plainly not random (fewer
 * than 8 distinct values, or a pattern of up to 16 bytes repeated), or unreadable; the message
 * says which. */
bool crypto_load_keys(const char *path, struct crypto_keys *keys, char *err, size_t errlen);
/* keygen: writes 64 random bytes (hex encoded, one line) to a new file with mode 0600;
 * refuses to overwrite an existing file. */
bool crypto_write_keyfile(const char *path, char *err, size_t errlen);
void crypto_keys_wipe(struct crypto_keys *keys);

bool crypto_random(void *buf, size_t len);
/* HMAC-SHA-256 with keys->hash_key over a purpose label and the data, so a hash made for
 * one purpose ("token", "appkey", "session", ...) never matches another. */
void crypto_lookup_hash(const struct crypto_keys *keys, const char *purpose, const void *data,
			size_t len, unsigned char out[CRYPTO_HASH_LEN]);
/* Plain SHA-256 (for values that are already high-entropy random, like session ids). */
void crypto_sha256(const void *data, size_t len, unsigned char out[CRYPTO_HASH_LEN]);

/* AES-256-GCM with keys->enc_key. aad binds the ciphertext to its row ("token:tk_...").
 * Sealed layout: 1 version byte, 12-byte nonce, ciphertext, 16-byte tag.
 * crypto_seal_len(n) tells the size for a plaintext of n bytes. Both return false on error;
 * crypto_open also on a wrong key, wrong aad or tampering. */
size_t crypto_seal_len(size_t plainlen);
bool crypto_seal(const struct crypto_keys *keys, const char *aad, const void *plain,
		 size_t plainlen, unsigned char *out, size_t outlen);
/* out needs sealedlen bytes at least; *plainlen receives the plaintext length. */
bool crypto_open(const struct crypto_keys *keys, const char *aad, const unsigned char *sealed,
		 size_t sealedlen, unsigned char *out, size_t outlen, size_t *plainlen);

/* Constant-time equality of two buffers of the same length. */
bool crypto_equal(const void *a, const void *b, size_t len);

/* scrypt (OpenSSL EVP_PBE_scrypt), N=2^15 r=8 p=1, 16-byte salt. Stored form:
 * "$scrypt$ln=15,r=8,p=1$<base64 salt>$<base64 hash>" written into out (needs 128 bytes). */
#define CRYPTO_PASSWORD_HASH_MAX 128
bool crypto_password_hash(const char *password, char *out, size_t outlen);
/* Constant-time; false for a malformed stored hash. A NULL stored hash still burns the same
 * time (for unknown users) and returns false. */
bool crypto_password_verify(const char *password, const char *stored);

#endif
