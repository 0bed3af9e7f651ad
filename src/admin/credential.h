/* SPDX-License-Identifier: Apache-2.0 */
/* session: the pure pieces of admin sessions: random ids and CSRF tokens (base64url text, only
 * their SHA-256 stored), recovery codes (generation, normalization, keyed hash) and the
 * hookgate_session cookie (building and finding it in a Cookie header). No I/O, no SQL. */
#ifndef HG_SESSION_H
#define HG_SESSION_H

#include <stdbool.h>
#include <stddef.h>

#include "core/crypto.h"

/* 256-bit ids as unpadded base64url: 43 characters (+ NUL). CSRF tokens use the same
 * functions: session_id_generate for a fresh token, session_id_hash for what is stored and
 * for checking the X-CSRF-Token header (compare hashes with crypto_equal). */
#define SESSION_ID_RAW_LEN 32
#define SESSION_ID_TEXT_LEN 43
#define SESSION_ID_TEXT_MAX (SESSION_ID_TEXT_LEN + 1)

#define SESSION_COOKIE_NAME "hookgate_session"
/* Enough for the cookie with a session id, the largest Max-Age and "; Secure". */
#define SESSION_COOKIE_MAX 192

/* Values of hookgate.admin_sessions.stage and the pre-2FA session's fixed life
 * (docs/api-admin.md). */
#define SESSION_STAGE_PASSWORD "password"
#define SESSION_STAGE_FULL "full"
#define SESSION_PRE2FA_TTL_S 300

/* Recovery codes: "xxxxx-xxxxx" of [a-z0-9], ten per enrollment, hashed with purpose
 * "recovery" over the normalized form. */
#define RECOVERY_CODE_LEN 11
#define RECOVERY_CODE_MAX (RECOVERY_CODE_LEN + 1)
#define RECOVERY_CODE_COUNT 10
#define RECOVERY_HASH_PURPOSE "recovery"

/* 32 bytes from crypto_random as base64url text. False only if the CSPRNG fails. */
bool session_id_generate(char out[SESSION_ID_TEXT_MAX]);
/* Strict: exactly 43 characters of [A-Za-z0-9_-] whose unused low bits are zero (so each
 * id has one spelling); false otherwise. */
bool session_id_decode(const char *text, unsigned char out[SESSION_ID_RAW_LEN]);
/* crypto_sha256 of the decoded 32 bytes: the value stored in admin_sessions.id_hash (and
 * csrf_hash). False for text that session_id_decode refuses. */
bool session_id_hash(const char *text, unsigned char out[CRYPTO_HASH_LEN]);

/* A new code, 10 characters drawn without modulo bias (rejection sampling). */
bool recovery_code_generate(char out[RECOVERY_CODE_MAX]);
/* What a user typed into the canonical "xxxxx-xxxxx": upper case folded, the dash optional,
 * surrounding spaces/tabs ignored; anything else refused (false). */
bool recovery_code_normalize(const char *in, char out[RECOVERY_CODE_MAX]);
/* crypto_lookup_hash(keys, "recovery", normalized code): what recovery_codes.code_hash holds.
 * False if the input does not normalize. */
bool recovery_code_hash(const struct crypto_keys *keys, const char *in,
			unsigned char out[CRYPTO_HASH_LEN]);

/* Set-Cookie value: "hookgate_session=VALUE; Path=/; HttpOnly; SameSite=Strict; Max-Age=N"
 * plus "; Secure" when secure. False if VALUE holds characters a cookie value cannot (RFC 6265
 * cookie-octet), max_age_s < 0, or out is too small. */
bool session_cookie(const char *value, int max_age_s, bool secure, char *out, size_t outlen);
/* The cookie that makes the browser drop the session: empty value, Max-Age=0. */
bool session_cookie_clear(bool secure, char *out, size_t outlen);
/* The value of the first hookgate_session pair of a Cookie header ("a=b; c=d"; exact name).
 * False if absent, or if that value (quotes excluded) does not fit in outlen. */
bool session_cookie_find(const char *cookie_header, char *out, size_t outlen);

#endif
