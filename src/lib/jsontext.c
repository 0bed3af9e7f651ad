/* SPDX-License-Identifier: Apache-2.0 */
/* jsontext: see jsontext.h. Moved here from the webhook side's request checks, so that the
 * admin API reads its bodies by the same rules. */
#include "lib/jsontext.h"

#include "lib/encoding.h"
#include "lib/utf8.h"

#include <string.h>

/* ---- strict JSON ------------------------------------------------------------------------ */

/* cJSON is lenient (any byte <= 0x20 is blank to it, it takes "01" and raw control characters
 * in strings, and cuts strings at \u0000), while bodies are stored as received and read later
 * by other JSON parsers, PostgreSQL's included. So the grammar of RFC 8259 is checked here. */
#define JSON_MAX_DEPTH 256 /* below cJSON's own nesting limit */

struct json_scan {
	const unsigned char *s;
	size_t len;
	size_t i;
};

static bool json_value(struct json_scan *js, int depth);

static int json_peek(const struct json_scan *js)
{
	return js->i < js->len ? js->s[js->i] : -1;
}

static void json_skip_ws(struct json_scan *js)
{
	while (js->i < js->len && (js->s[js->i] == ' ' || js->s[js->i] == '\t' ||
				   js->s[js->i] == '\n' || js->s[js->i] == '\r'))
		js->i++;
}

static bool json_literal(struct json_scan *js, const char *word)
{
	size_t n = strlen(word);
	if (js->len - js->i < n || memcmp(js->s + js->i, word, n) != 0)
		return false;
	js->i += n;
	return true;
}

static size_t json_digits(struct json_scan *js)
{
	size_t start = js->i;
	while (js->i < js->len && js->s[js->i] >= '0' && js->s[js->i] <= '9')
		js->i++;
	return js->i - start;
}

static bool json_number(struct json_scan *js)
{
	if (json_peek(js) == '-')
		js->i++;
	if (json_peek(js) == '0')
		js->i++;
	else if (json_digits(js) == 0)
		return false;
	if (json_peek(js) == '.') {
		js->i++;
		if (json_digits(js) == 0)
			return false;
	}
	if (json_peek(js) == 'e' || json_peek(js) == 'E') {
		js->i++;
		if (json_peek(js) == '+' || json_peek(js) == '-')
			js->i++;
		if (json_digits(js) == 0)
			return false;
	}
	return true;
}

/* The four hex digits of a \u escape at s[i] (just after the 'u'); -1 if malformed. */
static long json_hex4(const struct json_scan *js, size_t i)
{
	long v = 0;
	if (i > js->len || js->len - i < 4)
		return -1;
	for (size_t k = 0; k < 4; k++) {
		int h = hex_digit_value(js->s[i + k]);
		if (h < 0)
			return -1;
		v = v << 4 | h;
	}
	return v;
}

/* A \u escape, js->i on the 'u'. U+0000 is refused (cJSON would cut the string there) and so
 * are unpaired surrogates (not Unicode; PostgreSQL's json refuses them). */
static bool json_unicode_escape(struct json_scan *js)
{
	long cp = json_hex4(js, js->i + 1);
	if (cp <= 0 || (cp >= 0xdc00 && cp <= 0xdfff))
		return false;
	js->i += 5;
	if (cp < 0xd800 || cp > 0xdbff)
		return true;
	if (js->len - js->i < 2 || js->s[js->i] != '\\' || js->s[js->i + 1] != 'u')
		return false;
	long low = json_hex4(js, js->i + 2);
	if (low < 0xdc00 || low > 0xdfff)
		return false;
	js->i += 6;
	return true;
}

static bool json_string(struct json_scan *js)
{
	js->i++; /* the opening quote */
	while (js->i < js->len) {
		unsigned char c = js->s[js->i];
		if (c == '"') {
			js->i++;
			return true;
		}
		if (c < 0x20)
			return false;
		if (c != '\\') {
			js->i++;
			continue;
		}
		js->i++;
		int e = json_peek(js);
		if (e == 'u') {
			if (!json_unicode_escape(js))
				return false;
		} else if (e > 0 && strchr("\"\\/bfnrt", e) != NULL) {
			js->i++;
		} else {
			return false;
		}
	}
	return false;
}

/* Shared by arrays and objects: members separated by ',' up to the closing bracket. */
static bool json_members(struct json_scan *js, int depth, int close, bool object)
{
	js->i++; /* the opening bracket */
	json_skip_ws(js);
	if (json_peek(js) == close) {
		js->i++;
		return true;
	}
	for (;;) {
		if (object) {
			if (json_peek(js) != '"' || !json_string(js))
				return false;
			json_skip_ws(js);
			if (json_peek(js) != ':')
				return false;
			js->i++;
			json_skip_ws(js);
		}
		if (!json_value(js, depth + 1))
			return false;
		json_skip_ws(js);
		int c = json_peek(js);
		if (c != close && c != ',')
			return false;
		js->i++;
		if (c == close)
			return true;
		json_skip_ws(js);
	}
}

static bool json_value(struct json_scan *js, int depth)
{
	if (depth > JSON_MAX_DEPTH)
		return false;
	switch (json_peek(js)) {
	case '{':
		return json_members(js, depth, '}', true);
	case '[':
		return json_members(js, depth, ']', false);
	case '"':
		return json_string(js);
	case 't':
		return json_literal(js, "true");
	case 'f':
		return json_literal(js, "false");
	case 'n':
		return json_literal(js, "null");
	default:
		return json_number(js);
	}
}

bool jsontext_grammar_valid(const char *s, size_t len)
{
	struct json_scan js = { (const unsigned char *)s, len, 0 };
	json_skip_ws(&js);
	if (!json_value(&js, 0))
		return false;
	json_skip_ws(&js);
	return js.i == len;
}

const char *jsontext_check(const char *s, size_t len)
{
	if (!utf8_valid((const unsigned char *)s, len))
		return JSONTEXT_NOT_UTF8;
	if (!jsontext_grammar_valid(s, len))
		return JSONTEXT_NOT_JSON;
	return NULL;
}
