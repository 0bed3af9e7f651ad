/* SPDX-License-Identifier: Apache-2.0 */
/* redact: see redact.h.
 *
 * One pass from left to right over the text as a client meant it ("%41" is an 'A'), copying
 * what is not a secret and writing a marker for what is. The markers are shorter than what
 * they replace, so the output never overtakes the input and the pass can work in place. A
 * token can stand anywhere, even inside a longer run of letters, so every position of such a
 * run is tried; a cheap test (the six checksum characters must encode a number below 2^32)
 * leaves about one position in thirteen for the SHA-256 of the real check. */
#include "core/redact.h"

#include "lib/encoding.h"
#include "lib/percent.h"
#include "core/token.h"

#include <string.h>

#define APPKEY_PREFIX "hga_"
#define APPKEY_BODY 32 /* TOKEN_APPKEY_LEN without the prefix */
#define TOKEN_BODY (TOKEN_RANDOM_CHARS + TOKEN_CHECK_CHARS)

_Static_assert(TOKEN_APPKEY_LEN == sizeof(APPKEY_PREFIX) - 1 + APPKEY_BODY, "appkey length");

struct scan {
	const char *s;
	size_t len;
};

/* The character at raw offset i as the client meant it (a %XX escape is the byte it encodes);
 * *next is where the following one starts. */
static int char_at(const struct scan *sc, size_t i, size_t *next)
{
	int c = percent_escape(sc->s + i, sc->len - i);
	if (c >= 0) {
		*next = i + 3;
		return c;
	}
	*next = i + 1;
	return (unsigned char)sc->s[i];
}

/* Reads n base62 characters from raw offset *i into out; false (and *i unspecified) if the
 * text ends or another character comes first. */
static bool read_base62(const struct scan *sc, size_t *i, size_t n, char *out)
{
	for (size_t k = 0; k < n; k++) {
		if (*i >= sc->len)
			return false;
		int c = char_at(sc, *i, i);
		if (!base62_char(c))
			return false;
		out[k] = (char)c;
	}
	return true;
}

/* Whether the text at *i reads as prefix; *i moves past it. */
static bool read_prefix(const struct scan *sc, size_t *i, const char *prefix)
{
	for (; *prefix; prefix++) {
		if (*i >= sc->len || char_at(sc, *i, i) != *prefix)
			return false;
	}
	return true;
}

static bool token_body_at(const struct scan *sc, size_t *i)
{
	char body[TOKEN_BODY];
	unsigned char check[4];
	return read_base62(sc, i, TOKEN_BODY, body) &&
	       base62_decode(body + TOKEN_RANDOM_CHARS, TOKEN_CHECK_CHARS, check, sizeof(check)) &&
	       token_check_body(body);
}

/* A secret starting at raw offset i: its marker, *end set past it; NULL when there is none. */
static const char *secret_at(const struct scan *sc, size_t i, size_t *end)
{
	char body[APPKEY_BODY];
	size_t j = i, next;
	int c = char_at(sc, i, &next);

	if (!base62_char(c))
		return NULL;
	if (c == 'h' && read_prefix(sc, &j, APPKEY_PREFIX) &&
	    read_base62(sc, &j, APPKEY_BODY, body)) {
		/* No checksum tells where an appkey ends: the rest of the run goes with it. */
		while (j < sc->len && base62_char(char_at(sc, j, &next)))
			j = next;
		*end = j;
		return REDACT_APPKEY;
	}
	j = i;
	if (c == 'h' && read_prefix(sc, &j, TOKEN_PREFIX) && token_body_at(sc, &j)) {
		*end = j;
		return REDACT_TOKEN;
	}
	j = i;
	if (token_body_at(sc, &j)) {
		*end = j;
		return REDACT_TOKEN;
	}
	return NULL;
}

static bool secret_char(unsigned char c)
{
	return base62_char(c) || c == '_' || c == '%';
}

/* Copies in[0, len) to out (outcap > 0; out may be in) with the secrets replaced. Returns the
 * output length and sets *cut when it did not fit. */
static size_t redact_into(const char *in, size_t len, char *out, size_t outcap, bool *cut,
			  size_t *count)
{
	struct scan sc = { in, len };
	size_t o = 0, i = 0, end;

	*cut = false;
	while (i < len) {
		const char *mark = secret_at(&sc, i, &end);
		size_t n = mark ? strlen(mark) : 1;
		if (o + n >= outcap) {
			*cut = true;
			break;
		}
		if (mark) {
			memcpy(out + o, mark, n);
			(*count)++;
			i = end;
		} else {
			out[o] = in[i++];
		}
		o += n;
	}
	out[o] = '\0';
	return o;
}

static void drop_tail(char *text, size_t len)
{
	while (len > 0 && secret_char((unsigned char)text[len - 1]))
		len--;
	text[len] = '\0';
}

size_t redact_secrets(char *text, bool truncated)
{
	size_t len = strlen(text), count = 0;
	bool cut;
	len = redact_into(text, len, text, len + 1, &cut, &count);
	if (truncated)
		drop_tail(text, len);
	return count;
}

void redact_copy(char *out, size_t outlen, const char *in)
{
	size_t count = 0;
	bool cut;
	size_t len = redact_into(in, strlen(in), out, outlen, &cut, &count);
	if (cut)
		drop_tail(out, len);
}

bool redact_has_secret(const char *text)
{
	struct scan sc = { text, strlen(text) };
	size_t end;
	for (size_t i = 0; i < sc.len; i++) {
		if (secret_at(&sc, i, &end))
			return true;
	}
	return false;
}
