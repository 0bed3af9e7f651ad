/* SPDX-License-Identifier: Apache-2.0 */
/* session: session ids and CSRF tokens, recovery codes, and the session cookie. */
#include "admin/credential.h"

#include "lib/encoding.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

static const char recovery_alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
#define RECOVERY_ALPHABET_LEN 36
/* The largest multiple of 36 not above 256: bytes from here up would favour the first letters. */
#define RECOVERY_BYTE_LIMIT (256 / RECOVERY_ALPHABET_LEN * RECOVERY_ALPHABET_LEN)
#define RECOVERY_HALF 5

/* ---- ids ------------------------------------------------------------------------------------ */

bool session_id_generate(char out[SESSION_ID_TEXT_MAX])
{
	unsigned char raw[SESSION_ID_RAW_LEN];
	if (!crypto_random(raw, sizeof(raw)))
		return false;
	size_t n = base64url_encode(raw, sizeof(raw), out, SESSION_ID_TEXT_MAX);
	OPENSSL_cleanse(raw, sizeof(raw));
	return n == SESSION_ID_TEXT_LEN;
}

/* 43 characters carry 258 bits: base64url_decode wants the last character's two low bits
 * zero, otherwise four spellings would decode to the same id. */
bool session_id_decode(const char *text, unsigned char out[SESSION_ID_RAW_LEN])
{
	return text != NULL && strnlen(text, SESSION_ID_TEXT_MAX) == SESSION_ID_TEXT_LEN &&
	       base64url_decode(text, SESSION_ID_TEXT_LEN, out, SESSION_ID_RAW_LEN) ==
		       SESSION_ID_RAW_LEN;
}

bool session_id_hash(const char *text, unsigned char out[CRYPTO_HASH_LEN])
{
	unsigned char raw[SESSION_ID_RAW_LEN];
	if (!session_id_decode(text, raw))
		return false;
	crypto_sha256(raw, sizeof(raw), out);
	OPENSSL_cleanse(raw, sizeof(raw));
	return true;
}

/* ---- recovery codes ------------------------------------------------------------------------- */

bool recovery_code_generate(char out[RECOVERY_CODE_MAX])
{
	unsigned char pool[32];
	size_t used = sizeof(pool), o = 0;

	while (o < RECOVERY_CODE_LEN) {
		if (o == RECOVERY_HALF) {
			out[o++] = '-';
			continue;
		}
		if (used == sizeof(pool)) {
			if (!crypto_random(pool, sizeof(pool)))
				return false;
			used = 0;
		}
		unsigned char b = pool[used++];
		if (b >= RECOVERY_BYTE_LIMIT)
			continue;
		out[o++] = recovery_alphabet[b % RECOVERY_ALPHABET_LEN];
	}
	out[o] = '\0';
	OPENSSL_cleanse(pool, sizeof(pool));
	return true;
}

static bool recovery_blank(char c)
{
	return c == ' ' || c == '\t';
}

static char recovery_fold(char c)
{
	if (c >= 'A' && c <= 'Z')
		return (char)(c - 'A' + 'a');
	if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
		return c;
	return '\0';
}

bool recovery_code_normalize(const char *in, char out[RECOVERY_CODE_MAX])
{
	size_t o = 0;

	if (in == NULL)
		return false;
	while (recovery_blank(*in))
		in++;
	for (; *in && !recovery_blank(*in); in++) {
		if (o == RECOVERY_HALF) {
			out[o++] = '-';
			if (*in == '-')
				continue;
		}
		char c = recovery_fold(*in);
		if (c == '\0' || o >= RECOVERY_CODE_LEN)
			return false;
		out[o++] = c;
	}
	while (recovery_blank(*in))
		in++;
	out[o] = '\0';
	return *in == '\0' && o == RECOVERY_CODE_LEN;
}

bool recovery_code_hash(const struct crypto_keys *keys, const char *in,
			unsigned char out[CRYPTO_HASH_LEN])
{
	char code[RECOVERY_CODE_MAX];
	if (!recovery_code_normalize(in, code))
		return false;
	crypto_lookup_hash(keys, RECOVERY_HASH_PURPOSE, code, RECOVERY_CODE_LEN, out);
	OPENSSL_cleanse(code, sizeof(code));
	return true;
}

/* ---- the cookie ----------------------------------------------------------------------------- */

/* RFC 6265 §4.1.1 cookie-octet: no CTLs, whitespace, DQUOTE, comma, semicolon or backslash. */
static bool cookie_octets(const char *v)
{
	for (const unsigned char *c = (const unsigned char *)v; *c; c++) {
		if (*c < 0x21 || *c > 0x7e || *c == '"' || *c == ',' || *c == ';' || *c == '\\')
			return false;
	}
	return true;
}

bool session_cookie(const char *value, int max_age_s, bool secure, char *out, size_t outlen)
{
	if (value == NULL || max_age_s < 0 || !cookie_octets(value) || outlen == 0)
		return false;
	int n = snprintf(out, outlen, "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d%s",
			 SESSION_COOKIE_NAME, value, max_age_s, secure ? "; Secure" : "");
	if (n < 0 || (size_t)n >= outlen) {
		out[0] = '\0';
		return false;
	}
	return true;
}

bool session_cookie_clear(bool secure, char *out, size_t outlen)
{
	return session_cookie("", 0, secure, out, outlen);
}

/* One "name=value" pair of a Cookie header, [start, end) with surrounding blanks removed. */
static void cookie_trim(const char **start, const char **end)
{
	while (*start < *end && recovery_blank(**start))
		(*start)++;
	while (*end > *start && recovery_blank((*end)[-1]))
		(*end)--;
}

static bool cookie_copy_value(const char *v, const char *end, char *out, size_t outlen)
{
	cookie_trim(&v, &end);
	if (end - v >= 2 && *v == '"' && end[-1] == '"') {
		v++;
		end--;
	}
	size_t n = (size_t)(end - v);
	if (n >= outlen)
		return false;
	memcpy(out, v, n);
	out[n] = '\0';
	return true;
}

bool session_cookie_find(const char *cookie_header, char *out, size_t outlen)
{
	static const size_t namelen = sizeof(SESSION_COOKIE_NAME) - 1;
	const char *p = cookie_header;

	if (p == NULL || outlen == 0)
		return false;
	while (*p) {
		const char *end = strchr(p, ';');
		if (end == NULL)
			end = p + strlen(p);
		const char *name = p, *eq = memchr(p, '=', (size_t)(end - p));
		if (eq != NULL) {
			const char *name_end = eq;
			cookie_trim(&name, &name_end);
			if ((size_t)(name_end - name) == namelen &&
			    memcmp(name, SESSION_COOKIE_NAME, namelen) == 0)
				return cookie_copy_value(eq + 1, end, out, outlen);
		}
		p = *end ? end + 1 : end;
	}
	return false;
}
