/* SPDX-License-Identifier: Apache-2.0 */
/* encoding: base62, base32, base64 and hex on caller-owned buffers. */
#include "lib/encoding.h"

#include <string.h>

static const char base62_alphabet[] =
	"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
static const char base32_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
static const char base64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char base64url_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
static const char hex_alphabet[] = "0123456789abcdef";

bool base62_char(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int base62_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 36;
	return -1;
}

/* The digits are built in place in out (values 0..61, least significant last) by feeding the
 * bytes most significant first: digits = digits * 256 + byte. A carry out of the first digit
 * means the number needs more than width characters. No scratch buffer, so no allocation and
 * no limit on nbytes. */
bool base62_encode(const unsigned char *bytes, size_t nbytes, char *out, size_t width)
{
	memset(out, 0, width);
	for (size_t i = 0; i < nbytes; i++) {
		unsigned int carry = bytes[i];
		for (size_t j = width; j-- > 0;) {
			unsigned int v = (unsigned char)out[j] * 256u + carry;
			out[j] = (char)(v % 62);
			carry = v / 62;
		}
		if (carry != 0)
			return false;
	}
	for (size_t j = 0; j < width; j++)
		out[j] = base62_alphabet[(unsigned char)out[j]];
	out[width] = '\0';
	return true;
}

/* Same scheme in the other direction: bytes = bytes * 62 + digit, most significant first. */
bool base62_decode(const char *text, size_t len, unsigned char *bytes, size_t nbytes)
{
	memset(bytes, 0, nbytes);
	for (size_t i = 0; i < len; i++) {
		int d = base62_value((unsigned char)text[i]);
		if (d < 0)
			return false;
		unsigned int carry = (unsigned int)d;
		for (size_t j = nbytes; j-- > 0;) {
			unsigned int v = bytes[j] * 62u + carry;
			bytes[j] = (unsigned char)(v & 0xff);
			carry = v >> 8;
		}
		if (carry != 0)
			return false;
	}
	return true;
}

/* Bytes as characters of width bits each (5: base32, 6: base64), most significant first, the
 * last character padded with zero bits. The length written, or 0 when out is too small. */
static size_t bits_encode(const char *alphabet, int width, const unsigned char *in, size_t inlen,
			  char *out, size_t outlen)
{
	if (inlen > ((size_t)-1 - 1) / 2)
		return 0;
	size_t need = (inlen / (size_t)width) * 8 +
		      ((inlen % (size_t)width) * 8 + (size_t)width - 1) / (size_t)width;
	if (outlen < need + 1)
		return 0;
	size_t n = 0;
	unsigned int acc = 0, mask = (1u << width) - 1;
	int bits = 0;
	for (size_t i = 0; i < inlen; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= width) {
			bits -= width;
			out[n++] = alphabet[(acc >> bits) & mask];
		}
		acc &= (1u << bits) - 1;
	}
	if (bits > 0)
		out[n++] = alphabet[(acc << (width - bits)) & mask];
	out[n] = '\0';
	return n;
}

size_t base32_encode(const unsigned char *in, size_t inlen, char *out, size_t outlen)
{
	return bits_encode(base32_alphabet, 5, in, inlen, out, outlen);
}

size_t base64_encode(const unsigned char *in, size_t inlen, char *out, size_t outlen)
{
	return bits_encode(base64_alphabet, 6, in, inlen, out, outlen);
}

size_t base64url_encode(const unsigned char *in, size_t inlen, char *out, size_t outlen)
{
	return bits_encode(base64url_alphabet, 6, in, inlen, out, outlen);
}

/* The decoding side of bits_encode: characters of width bits go in, whole bytes come out. */
struct bit_reader {
	unsigned int acc;
	int bits; /* in acc, not yet a byte */
	size_t n; /* bytes written */
};

/* One character's value; false when it completes a byte that out has no room for. */
static bool bits_take(struct bit_reader *r, unsigned int v, int width, unsigned char *out,
		      size_t outlen)
{
	r->acc = ((r->acc << width) | v) & 0xfff;
	r->bits += width;
	if (r->bits < 8)
		return true;
	r->bits -= 8;
	if (r->n >= outlen)
		return false;
	out[r->n++] = (unsigned char)(r->acc >> r->bits);
	return true;
}

/* The reverse of bits_encode for 6-bit characters, strict (see encoding.h). */
static size_t b64_decode(const char *alphabet, const char *in, size_t inlen, unsigned char *out,
			 size_t outlen)
{
	struct bit_reader r = { 0, 0, 0 };
	if (inlen % 4 == 1)
		return (size_t)-1;
	for (size_t i = 0; i < inlen; i++) {
		const char *p = in[i] != '\0' ? strchr(alphabet, in[i]) : NULL;
		if (p == NULL || !bits_take(&r, (unsigned int)(p - alphabet), 6, out, outlen))
			return (size_t)-1;
	}
	return (r.acc & ((1u << r.bits) - 1)) == 0 ? r.n : (size_t)-1;
}

size_t base64_decode(const char *in, size_t inlen, unsigned char *out, size_t outlen)
{
	return b64_decode(base64_alphabet, in, inlen, out, outlen);
}

size_t base64url_decode(const char *in, size_t inlen, unsigned char *out, size_t outlen)
{
	return b64_decode(base64url_alphabet, in, inlen, out, outlen);
}

static int base32_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= '2' && c <= '7')
		return c - '2' + 26;
	return -1;
}

size_t base32_decode(const char *in, size_t inlen, unsigned char *out, size_t outlen)
{
	struct bit_reader r = { 0, 0, 0 };
	for (size_t i = 0; i < inlen; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c == '=' || c == ' ' || c == '-')
			continue;
		int v = base32_value(c);
		if (v < 0 || !bits_take(&r, (unsigned int)v, 5, out, outlen))
			return (size_t)-1;
	}
	return r.n;
}

void hex_encode(const unsigned char *in, size_t inlen, char *out)
{
	for (size_t i = 0; i < inlen; i++) {
		out[2 * i] = hex_alphabet[in[i] >> 4];
		out[2 * i + 1] = hex_alphabet[in[i] & 15];
	}
	out[2 * inlen] = '\0';
}

void hex_encode_bytea(const unsigned char *in, size_t inlen, char *out)
{
	out[0] = '\\';
	out[1] = 'x';
	hex_encode(in, inlen, out + 2);
}

int hex_digit_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Exactly inlen/2 bytes; an odd length, a bad digit or too small an out is refused. */
bool hex_decode(const char *in, size_t inlen, unsigned char *out, size_t outlen)
{
	if (inlen % 2 != 0 || inlen / 2 > outlen)
		return false;
	for (size_t i = 0; i < inlen / 2; i++) {
		int hi = hex_digit_value((unsigned char)in[2 * i]);
		int lo = hex_digit_value((unsigned char)in[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return true;
}
