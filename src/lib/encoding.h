/* SPDX-License-Identifier: Apache-2.0 */
/* encoding: base62 (token text), base32 (RFC 4648, TOTP secrets), base64 and base64url (RFC 4648,
 * scrypt hashes in the PHC string format; session ids, CSRF tokens and usage cursors) and hex.
 * Pure functions on caller-owned buffers; nothing here allocates. */
#ifndef HG_ENCODING_H
#define HG_ENCODING_H

#include <stdbool.h>
#include <stddef.h>

/* Base62 of a big-endian number held in bytes, written as exactly width characters of
 * [0-9A-Za-z] (zero-padded with '0'). Returns false if the number does not fit in width or
 * out is too small (needs width + 1 for the NUL). */
bool base62_encode(const unsigned char *bytes, size_t nbytes, char *out, size_t width);
/* The reverse: text of length len into exactly nbytes big-endian bytes; false on a bad
 * character or a value that does not fit. */
bool base62_decode(const char *text, size_t len, unsigned char *bytes, size_t nbytes);

/* Whether c is one of base62's digits, [0-9A-Za-z]. */
bool base62_char(int c);

/* RFC 4648 base32, uppercase, without '=' padding. Returns the length written (excluding NUL)
 * or 0 if outlen is too small. */
size_t base32_encode(const unsigned char *in, size_t inlen, char *out, size_t outlen);
/* Accepts upper/lower case, ignores '=' padding, spaces and '-'; returns bytes written or
 * (size_t)-1 on a bad character or overflow. */
size_t base32_decode(const char *in, size_t inlen, unsigned char *out, size_t outlen);

/* Unpadded base64 of inlen bytes: this many characters. */
#define BASE64_LEN(inlen) (((inlen)*4 + 2) / 3)
/* RFC 4648 base64 without '=' padding, in the URL-safe alphabet (base64url, "-_") or the standard
 * one ("+/"). Returns the length written (excluding NUL) or 0 if outlen is too small. */
size_t base64url_encode(const unsigned char *in, size_t inlen, char *out, size_t outlen);
size_t base64_encode(const unsigned char *in, size_t inlen, char *out, size_t outlen);
/* Strict, so that each value has exactly one text form: only the alphabet's characters (no
 * padding, no white space), no length of 4k + 1, and the unused low bits of the last character
 * zero. Returns the bytes written or (size_t)-1. */
size_t base64url_decode(const char *in, size_t inlen, unsigned char *out, size_t outlen);
size_t base64_decode(const char *in, size_t inlen, unsigned char *out, size_t outlen);

/* The value of one hex digit (either case), -1 for anything else. */
int hex_digit_value(int c);
/* Lowercase hex; out needs 2*inlen+1. */
void hex_encode(const unsigned char *in, size_t inlen, char *out);
bool hex_decode(const char *in, size_t inlen, unsigned char *out, size_t outlen);
/* PostgreSQL's text form of a bytea value, "\x" and lowercase hex: how binary parameters are
 * sent. out needs BYTEA_TEXT_MAX(inlen) bytes. */
#define BYTEA_TEXT_MAX(inlen) (2 * (inlen) + 3)
void hex_encode_bytea(const unsigned char *in, size_t inlen, char *out);

#endif
