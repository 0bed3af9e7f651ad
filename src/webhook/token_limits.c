/* SPDX-License-Identifier: Apache-2.0 */
/* token_limits: see token_limits.h. Addresses are compared as bytes under a prefix mask, the
 * way PostgreSQL's inet <<= cidr does. */
#include "webhook/token_limits.h"
#include "core/token.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

static bool addr_parse(const char *text, uint8_t *family, uint8_t addr[16])
{
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, text, addr) == 1) {
		*family = 4;
		return true;
	}
	if (inet_pton(AF_INET6, text, addr) == 1) {
		*family = 6;
		return true;
	}
	return false;
}

/* Whether addr's first bits bits equal net's. */
static bool prefix_equal(const uint8_t *a, const uint8_t *b, int bits)
{
	int whole = bits / 8, rest = bits % 8;

	if (memcmp(a, b, (size_t)whole) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (a[whole] & mask) == (b[whole] & mask);
}

bool token_net_parse(const char *text, struct token_net *out)
{
	char buf[64];
	char *slash, *end;
	long bits;

	if (strlen(text) >= sizeof(buf))
		return false;
	strcpy(buf, text);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (!addr_parse(buf, &out->family, out->addr))
		return false;
	int max = out->family == 4 ? 32 : 128;
	bits = max;
	if (slash) {
		if (slash[1] < '0' || slash[1] > '9')
			return false;
		bits = strtol(slash + 1, &end, 10);
		if (*end != '\0' || bits < 0 || bits > max)
			return false;
	}
	out->bits = (uint8_t)bits;
	/* Host bits set: PostgreSQL's cidr refuses them, so do we (the API answers 400). */
	uint8_t masked[16];
	memcpy(masked, out->addr, 16);
	for (int i = (int)bits; i < max; i++)
		masked[i / 8] &= (uint8_t) ~(0x80 >> (i % 8));
	return memcmp(masked, out->addr, 16) == 0;
}

bool token_target_parse(const char *text, struct token_target *out)
{
	static const struct {
		const char *prefix;
		enum token_target_kind kind;
	} kinds[] = { { "channel:", TOKEN_TARGET_CHANNEL },
		      { "bot:", TOKEN_TARGET_BOT },
		      { "extension:", TOKEN_TARGET_EXTENSION } };

	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		size_t plen = strlen(kinds[k].prefix), n;
		const char *name = text + plen;
		if (strncmp(text, kinds[k].prefix, plen) != 0)
			continue;
		n = strlen(name);
		if (n == 0 || n > MODULE_NAME_MAX)
			return false;
		if (kinds[k].kind == TOKEN_TARGET_EXTENSION
			    ? !token_app_id_valid(name)
			    : strspn(name, "abcdefghijklmnopqrstuvwxyz"
					   "0123456789_") != n)
			return false;
		out->kind = (uint8_t)kinds[k].kind;
		memcpy(out->name, name, n + 1);
		return true;
	}
	return false;
}

/* Calls each element of a PostgreSQL array's text ("{a,b}": our values never need quotes). */
static bool array_each(const char *text, bool (*fn)(const char *, struct token_limits *),
		       struct token_limits *l)
{
	size_t len = strlen(text);
	char *copy, *save = NULL;
	bool ok = true;

	if (len < 2 || text[0] != '{' || text[len - 1] != '}' || (copy = strdup(text + 1)) == NULL)
		return false;
	copy[len - 2] = '\0';
	for (char *e = strtok_r(copy, ",", &save); e && ok; e = strtok_r(NULL, ",", &save))
		ok = fn(e, l);
	free(copy);
	return ok;
}

static bool add_net(const char *e, struct token_limits *l)
{
	return l->nnets < TOKEN_LIMITS_MAX && token_net_parse(e, &l->nets[l->nnets++]);
}

static bool add_target(const char *e, struct token_limits *l)
{
	return l->ntargets < TOKEN_LIMITS_MAX && token_target_parse(e, &l->targets[l->ntargets++]);
}

bool token_limits_parse(const char *networks, const char *targets, struct token_limits **out)
{
	struct token_limits *l;

	*out = NULL;
	if (networks == NULL && targets == NULL)
		return true;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return false;
	l->refs = 1;
	if ((networks && (!array_each(networks, add_net, l) || l->nnets == 0)) ||
	    (targets && (!array_each(targets, add_target, l) || l->ntargets == 0))) {
		free(l);
		return false;
	}
	*out = l;
	return true;
}

void token_limits_ref(struct token_limits *l)
{
	if (l)
		l->refs++;
}

void token_limits_unref(struct token_limits *l)
{
	if (l && --l->refs == 0)
		free(l);
}

bool token_limits_source_ok(const struct token_limits *l, const char *addr)
{
	uint8_t family, bytes[16];

	if (l == NULL || l->nnets == 0)
		return true;
	if (addr == NULL || !addr_parse(addr, &family, bytes))
		return false;
	for (int i = 0; i < l->nnets; i++) {
		if (l->nets[i].family == family &&
		    prefix_equal(bytes, l->nets[i].addr, l->nets[i].bits))
			return true;
	}
	return false;
}

bool token_limits_target_ok(const struct token_limits *l, enum module_kind m, const char *target)
{
	enum token_target_kind kind = m == MODULE_CHANNEL     ? TOKEN_TARGET_CHANNEL
				      : m == MODULE_EXTENSION ? TOKEN_TARGET_EXTENSION
							      : TOKEN_TARGET_BOT;

	if (l == NULL || l->ntargets == 0)
		return true;
	for (int i = 0; i < l->ntargets; i++) {
		if (l->targets[i].kind == kind && target && strcmp(l->targets[i].name, target) == 0)
			return true;
	}
	return false;
}
