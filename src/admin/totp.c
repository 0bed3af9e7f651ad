/* SPDX-License-Identifier: Apache-2.0 */
/* totp: HOTP/TOTP codes (RFC 4226, RFC 6238), the login's verification window and the
 * enrollment secret with its otpauth URI. */
#include "admin/totp.h"

#include "core/crypto.h"
#include "lib/encoding.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define TOTP_ISSUER "hookgate"
/* Steps before and after the current one that verification accepts (RFC 6238 §5.2). */
#define TOTP_WINDOW 1

static const EVP_MD *totp_md(enum totp_hash hash)
{
	switch (hash) {
	case TOTP_HASH_SHA1:
		return EVP_sha1();
	case TOTP_HASH_SHA256:
		return EVP_sha256();
	case TOTP_HASH_SHA512:
		return EVP_sha512();
	}
	return NULL;
}

/* RFC 4226 §5.3 dynamic truncation: the offset comes from the low nibble of the MAC's last
 * byte, whatever the MAC's length (RFC 6238 keeps it for SHA-256/512). */
static uint32_t totp_truncate(const unsigned char *mac, unsigned int maclen)
{
	unsigned int off = mac[maclen - 1] & 0x0f;
	return ((uint32_t)(mac[off] & 0x7f) << 24) | ((uint32_t)mac[off + 1] << 16) |
	       ((uint32_t)mac[off + 2] << 8) | (uint32_t)mac[off + 3];
}

bool totp_code(enum totp_hash hash, const unsigned char *key, size_t keylen, uint64_t step,
	       int digits, char *out)
{
	static const uint32_t modulus[] = { 1000000, 10000000, 100000000 };
	const EVP_MD *md = totp_md(hash);
	unsigned char counter[8], mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;

	if (md == NULL || key == NULL || keylen == 0 || keylen > INT32_MAX ||
	    digits < TOTP_DIGITS_MIN || digits > TOTP_DIGITS_MAX)
		return false;
	for (int i = 7; i >= 0; i--) {
		counter[i] = (unsigned char)(step & 0xff);
		step >>= 8;
	}
	if (HMAC(md, key, (int)keylen, counter, sizeof(counter), mac, &maclen) == NULL ||
	    maclen < 20)
		return false;
	uint32_t value = totp_truncate(mac, maclen) % modulus[digits - TOTP_DIGITS_MIN];
	OPENSSL_cleanse(mac, sizeof(mac));
	out[digits] = '\0';
	for (int i = digits - 1; i >= 0; i--) {
		out[i] = (char)('0' + value % 10);
		value /= 10;
	}
	return true;
}

uint64_t totp_step(int64_t unix_time)
{
	if (unix_time < 0)
		return 0;
	return (uint64_t)unix_time / TOTP_PERIOD;
}

/* Exactly TOTP_DIGITS ASCII digits and nothing else; reads no byte past the terminator. */
static bool totp_code_well_formed(const char *code)
{
	if (code == NULL)
		return false;
	for (int i = 0; i < TOTP_DIGITS; i++) {
		if (code[i] < '0' || code[i] > '9')
			return false;
	}
	return code[TOTP_DIGITS] == '\0';
}

/* Every candidate of the window is computed and compared, matched or not, so the time taken
 * says nothing about which step (if any) matched. The decision is made only afterwards. */
enum totp_result totp_verify(const unsigned char *key, size_t keylen, const char *code, int64_t now,
			     uint64_t last_step, uint64_t *matched_step)
{
	uint64_t current = totp_step(now), fresh_step = 0;
	bool fresh = false, stale = false;
	char candidate[TOTP_CODE_MAX];

	if (!totp_code_well_formed(code))
		return TOTP_INVALID;
	for (int delta = -TOTP_WINDOW; delta <= TOTP_WINDOW; delta++) {
		if (delta < 0 && current < (uint64_t)-delta)
			continue;
		uint64_t step = current + (uint64_t)(int64_t)delta;
		if (!totp_code(TOTP_HASH_SHA1, key, keylen, step, TOTP_DIGITS, candidate))
			return TOTP_INVALID;
		bool match = CRYPTO_memcmp(candidate, code, TOTP_DIGITS) == 0;
		if (match && step > last_step) {
			fresh = true;
			fresh_step = step;
		} else if (match) {
			stale = true;
		}
	}
	OPENSSL_cleanse(candidate, sizeof(candidate));
	if (fresh) {
		*matched_step = fresh_step;
		return TOTP_OK;
	}
	return stale ? TOTP_REUSED : TOTP_INVALID;
}

bool totp_secret_generate(unsigned char out[TOTP_SECRET_LEN])
{
	return crypto_random(out, TOTP_SECRET_LEN);
}

bool totp_secret_base32(const unsigned char *secret, size_t len, char *out, size_t outlen)
{
	if (len == 0 || outlen < (len * 8 + 4) / 5 + 1)
		return false;
	return base32_encode(secret, len, out, outlen) == (len * 8 + 4) / 5;
}

/* ---- otpauth URI (the "Key Uri Format" authenticator apps read from a QR code) -------------- */

struct uri_buf {
	char *p;
	size_t len, cap;
	bool ok;
};

static void uri_put(struct uri_buf *b, const char *s, size_t n)
{
	if (!b->ok || n >= b->cap - b->len) {
		b->ok = false;
		return;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void uri_put_str(struct uri_buf *b, const char *s)
{
	uri_put(b, s, strlen(s));
}

/* RFC 3986: unreserved characters as they are, every other byte as %XX. */
static void uri_put_encoded(struct uri_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		bool unreserved = (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
				  (*c >= '0' && *c <= '9') || *c == '-' || *c == '.' || *c == '_' ||
				  *c == '~';
		if (unreserved) {
			uri_put(b, (const char *)c, 1);
			continue;
		}
		char esc[3] = { '%', hex[*c >> 4], hex[*c & 0x0f] };
		uri_put(b, esc, sizeof(esc));
	}
}

static bool totp_base32_valid(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++) {
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= '2' && *s <= '7')))
			return false;
	}
	return true;
}

bool totp_otpauth_uri(const char *login, const char *base32, char *out, size_t outlen)
{
	struct uri_buf b = { out, 0, outlen, outlen > 0 };

	if (login == NULL || *login == '\0' || base32 == NULL || !totp_base32_valid(base32))
		return false;
	uri_put_str(&b, "otpauth://totp/");
	uri_put_encoded(&b, TOTP_ISSUER);
	uri_put_str(&b, ":");
	uri_put_encoded(&b, login);
	uri_put_str(&b, "?secret=");
	uri_put_str(&b, base32);
	uri_put_str(&b, "&issuer=");
	uri_put_encoded(&b, TOTP_ISSUER);
	uri_put_str(&b, "&algorithm=SHA1&digits=6&period=30");
	if (!b.ok && outlen > 0)
		out[0] = '\0';
	return b.ok;
}
