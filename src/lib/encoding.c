/* encoding: base62, base32 and hex on caller-owned buffers. */
#include "lib/encoding.h"

#include <string.h>

static const char base62_alphabet[] =
	"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
static const char base32_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
static const char hex_alphabet[] = "0123456789abcdef";

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

size_t base32_encode(const unsigned char *in, size_t inlen, char *out, size_t outlen)
{
	size_t need = (inlen / 5) * 8 + ((inlen % 5) * 8 + 4) / 5;
	if (inlen > ((size_t)-1 - 1) / 2 || outlen < need + 1)
		return 0;
	size_t n = 0;
	unsigned int acc = 0;
	int bits = 0;
	for (size_t i = 0; i < inlen; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			out[n++] = base32_alphabet[(acc >> bits) & 31];
		}
		acc &= (1u << bits) - 1;
	}
	if (bits > 0)
		out[n++] = base32_alphabet[(acc << (5 - bits)) & 31];
	out[n] = '\0';
	return n;
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
	size_t n = 0;
	unsigned int acc = 0;
	int bits = 0;
	for (size_t i = 0; i < inlen; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c == '=' || c == ' ' || c == '-')
			continue;
		int v = base32_value(c);
		if (v < 0)
			return (size_t)-1;
		acc = ((acc << 5) | (unsigned int)v) & 0xfff;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			if (n >= outlen)
				return (size_t)-1;
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	return n;
}

void hex_encode(const unsigned char *in, size_t inlen, char *out)
{
	for (size_t i = 0; i < inlen; i++) {
		out[2 * i] = hex_alphabet[in[i] >> 4];
		out[2 * i + 1] = hex_alphabet[in[i] & 15];
	}
	out[2 * inlen] = '\0';
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
