/* SPDX-License-Identifier: Apache-2.0 */
/* redact: the one place that recognises the secrets hookgate hands out in text it is about to
 * log or store, by their format rather than by where they stand: webhook tokens (33 base62
 * characters whose checksum holds, with or without the "hgt_" prefix) and appkeys ("hga_" and
 * 32 base62 characters, which carry no checksum). Percent-encoded characters are read as what
 * they encode, so "hgt%5F…" or "%41…" are recognised too. Each one found is replaced by
 * REDACT_TOKEN or REDACT_APPKEY; everything else is left as it was. */
#ifndef HG_REDACT_H
#define HG_REDACT_H

#include <stdbool.h>
#include <stddef.h>

#define REDACT_TOKEN "[redacted token]"
#define REDACT_APPKEY "[redacted appkey]"

/* In place (the text only shrinks); returns how many secrets were replaced. truncated says
 * that text was cut short by its producer (vsnprintf, a bounded copy): then a trailing run of
 * characters that could belong to a secret ([0-9A-Za-z_%]) is dropped too, since the first
 * 31 characters of a token are enough to rebuild it. */
size_t redact_secrets(char *text, bool truncated);
/* Copies in to out (outlen > 0) with the secrets replaced, cutting it to fit as above. */
void redact_copy(char *out, size_t outlen, const char *in);
/* Whether text holds a secret. */
bool redact_has_secret(const char *text);

#endif
