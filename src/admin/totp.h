/* SPDX-License-Identifier: Apache-2.0 */
/* totp: RFC 4226 HOTP and RFC 6238 TOTP through OpenSSL HMAC, the admin login's verification
 * rule (SHA-1, 6 digits, 30 s steps, ±1 step, no replay) and enrollment secrets (base32 and
 * the otpauth URI). Pure functions on caller-owned buffers; the last used step lives in SQL. */
#ifndef HG_TOTP_H
#define HG_TOTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOTP_PERIOD 30
#define TOTP_DIGITS 6
#define TOTP_DIGITS_MIN 6
#define TOTP_DIGITS_MAX 8
/* Buffer for a code of up to TOTP_DIGITS_MAX digits and its NUL. */
#define TOTP_CODE_MAX (TOTP_DIGITS_MAX + 1)
/* 160-bit secrets (RFC 4226 §4 recommends 160 bits): 32 base32 characters, no padding. */
#define TOTP_SECRET_LEN 20
#define TOTP_SECRET_BASE32_LEN 32
#define TOTP_SECRET_BASE32_MAX (TOTP_SECRET_BASE32_LEN + 1)
/* Enough for any login of the users table (percent-encoded) and a 32-character secret. */
#define TOTP_URI_MAX 512

enum totp_hash {
	TOTP_HASH_SHA1,
	TOTP_HASH_SHA256,
	TOTP_HASH_SHA512,
};

enum totp_result {
	TOTP_OK,      /* matched a step after last_step; *matched_step holds it */
	TOTP_INVALID, /* malformed code (not exactly 6 ASCII digits) or no step matches */
	TOTP_REUSED,  /* matches only steps <= last_step: a replay */
};

/* HOTP (RFC 4226) of counter step: the digits-long decimal code (6 to 8) into out, which needs
 * digits + 1 bytes. TOTP (RFC 6238) is this with step = totp_step(time). False on a bad digits
 * value, an empty key or an OpenSSL failure. */
bool totp_code(enum totp_hash hash, const unsigned char *key, size_t keylen, uint64_t step,
	       int digits, char *out);

/* The 30-second time step of a Unix time (0 for times before the epoch). */
uint64_t totp_step(int64_t unix_time);

/* The login rule: SHA-1, 6 digits, steps now-1, now and now+1. Every candidate is computed and
 * compared in constant time, without an early exit. When codes of several steps match, the
 * latest step after last_step wins. matched_step is written only on TOTP_OK. The caller must
 * still record the step atomically (hookgate.totp_accept_step) before trusting the result. */
enum totp_result totp_verify(const unsigned char *key, size_t keylen, const char *code, int64_t now,
			     uint64_t last_step, uint64_t *matched_step);

/* A new random secret (crypto_random). */
bool totp_secret_generate(unsigned char out[TOTP_SECRET_LEN]);
/* Base32 (RFC 4648, uppercase, no padding) of a secret; out needs ceil(len * 8 / 5) + 1 bytes
 * (TOTP_SECRET_BASE32_MAX for a TOTP_SECRET_LEN secret). False if out is too small. */
bool totp_secret_base32(const unsigned char *secret, size_t len, char *out, size_t outlen);
/* otpauth://totp/hookgate:LOGIN?secret=B32&issuer=hookgate&algorithm=SHA1&digits=6&period=30
 * with LOGIN and the issuer percent-encoded (RFC 3986 unreserved characters kept). False if
 * out is too small or base32 is not [A-Z2-7]+. */
bool totp_otpauth_uri(const char *login, const char *base32, char *out, size_t outlen);

#endif
