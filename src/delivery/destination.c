/* SPDX-License-Identifier: Apache-2.0 */
/* destination: see delivery/destination.h. */
#include "delivery/destination.h"

#include <openssl/crypto.h>

#include <stdio.h>
#include <string.h>

/* The authority (between "//" and the first '/', '?' or '#'): a host, maybe "[v6]", and an
 * optional port; no "user:password@", which would end up in logs and in every request. */
static const char *authority_problem(const char *auth, size_t len)
{
	const char *end = auth + len, *port = NULL;

	if (memchr(auth, '@', len))
		return "no user name or password allowed";
	if (len > 0 && auth[0] == '[') {
		const char *close = memchr(auth, ']', len);

		if (!close || close == auth + 1)
			return "bad IPv6 address";
		port = close + 1 < end ? close + 1 : NULL;
		if (port && *port != ':')
			return "bad IPv6 address";
	} else {
		port = memchr(auth, ':', len);
		if ((port ? port : end) == auth)
			return "missing host";
	}
	if (!port)
		return NULL;
	if (port + 1 == end || end - port > 6)
		return "bad port";
	long v = 0;

	for (const char *p = port + 1; p < end; p++) {
		if (*p < '0' || *p > '9')
			return "bad port";
		v = v * 10 + (*p - '0');
	}
	return v >= 1 && v <= 65535 ? NULL : "bad port";
}

const char *destination_url_problem(const char *url)
{
	size_t len = strlen(url), skip;

	if (len > DESTINATION_URL_MAX)
		return "longer than 2048 bytes";
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] >= 0x7f)
			return "spaces, control or non-ASCII characters (percent-encode them)";
	}
	if (strncmp(url, "http://", 7) == 0)
		skip = 7;
	else if (strncmp(url, "https://", 8) == 0)
		skip = 8;
	else
		return "must start with http:// or https://";
	return authority_problem(url + skip, strcspn(url + skip, "/?#"));
}

bool destination_secret_new(const struct crypto_keys *keys, const char *module, const char *target,
			    struct destination_secret *s)
{
	unsigned char sealed[SIGNER_SECRET_MAX + 64];
	size_t len, sealed_len;
	char aad[160];
	bool ok;

	snprintf(aad, sizeof(aad), "whsec:%s:%s", module, target);
	ok = signer_secret_new(s->text, sizeof(s->text));
	len = ok ? strlen(s->text) : 0;
	sealed_len = crypto_seal_len(len);
	ok = ok && sealed_len <= sizeof(sealed) &&
	     crypto_seal(keys, aad, s->text, len, sealed, sealed_len);
	if (ok)
		hex_encode_bytea(sealed, sealed_len, s->sealed_text);
	OPENSSL_cleanse(sealed, sizeof(sealed));
	return ok;
}
