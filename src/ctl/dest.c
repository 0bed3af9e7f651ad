/* ctl_dest: how hookgatectl names a delivery destination (docs/hookgatectl.md, "Destinations"):
 * the (module, target) pair from an endpoint command's NAME and options or from a --destination
 * spec, the check that its channel, bot or extension exists, the look-up of its row, and the rule
 * for handler URLs. Shared by endpoint.c and delivery.c so both accept the same names. */
#include "ctl/ctl.h"

#include <string.h>

/* The five message modules, their command-line spelling and the table their target lives in. */
static const struct dest_kind {
	const char *module; /* hookgate.destinations.module */
	const char *kind;   /* "channel", "bot", "extension": what the target names */
	const char *prefix; /* D form: prefix NAME suffix */
	const char *suffix;
	const char *exists_sql; /* $1 = name; one row with the owner's id (NULL for a channel) */
} dest_kinds[] = {
	{ "channel", "channel", "channel:", "",
	  "SELECT NULL::bigint FROM hookgate.channels WHERE name = $1" },
	{ "bot_incoming", "bot", "bot:", "", "SELECT owner_id FROM hookgate.bots WHERE name = $1" },
	{ "bot_message", "bot", "bot_message:", "",
	  "SELECT owner_id FROM hookgate.bots WHERE name = $1" },
	{ "extension_sandbox", "extension", "extension:", ":sandbox",
	  "SELECT owner_id FROM hookgate.extensions WHERE name = $1" },
	{ "extension_marketplace", "extension", "extension:", ":marketplace",
	  "SELECT owner_id FROM hookgate.extensions WHERE name = $1" },
};

static const struct dest_kind *kind_of(const char *module)
{
	for (size_t i = 0; i < sizeof(dest_kinds) / sizeof(dest_kinds[0]); i++) {
		if (strcmp(dest_kinds[i].module, module) == 0)
			return &dest_kinds[i];
	}
	return NULL;
}

bool ctl_dest_init(struct ctl_ctx *ctx, struct ctl_dest *d, const char *module, const char *name)
{
	const struct dest_kind *k = kind_of(module);

	memset(d, 0, sizeof(*d));
	if (!k)
		return ctl_fail(ctx, "unknown destination module %s", module), false;
	d->module = k->module;
	d->kind = k->kind;
	/* '*' is the one destination for every channel that has none of its own. */
	if (strcmp(k->module, "channel") == 0 && strcmp(name, "*") == 0)
		strcpy(d->target, "*");
	else if (!ctl_module_name(ctx, k->kind, name, d->target))
		return false;
	snprintf(d->label, sizeof(d->label), "%s%s%s", k->prefix, d->target, k->suffix);
	return true;
}

/* "extension:NAME:ENV": the module of ENV, NAME cut out into name (MODULE_NAME_MAX + 2 bytes;
 * a longer NAME is cut to MODULE_NAME_MAX + 1 characters, which the name rule then refuses). */
static const char *extension_spec(const char *rest, char *name)
{
	const char *colon = strrchr(rest, ':');
	size_t len = colon ? (size_t)(colon - rest) : 0;

	if (!colon)
		return NULL;
	if (len > MODULE_NAME_MAX + 1)
		len = MODULE_NAME_MAX + 1;
	memcpy(name, rest, len);
	name[len] = '\0';
	if (strcmp(colon + 1, "sandbox") == 0)
		return "extension_sandbox";
	if (strcmp(colon + 1, "marketplace") == 0)
		return "extension_marketplace";
	return NULL;
}

int ctl_dest_parse(struct ctl_ctx *ctx, const char *spec, struct ctl_dest *d)
{
	static const struct {
		const char *prefix, *module;
	} simple[] = { { "channel:", "channel" },
		       { "bot:", "bot_incoming" },
		       { "bot_message:", "bot_message" } };
	char name[MODULE_NAME_MAX + 2];
	const char *module = NULL;

	for (size_t i = 0; i < sizeof(simple) / sizeof(simple[0]); i++) {
		size_t len = strlen(simple[i].prefix);

		if (strncmp(spec, simple[i].prefix, len) == 0)
			return ctl_dest_init(ctx, d, simple[i].module, spec + len) ? CTL_OK
										   : CTL_REFUSED;
	}
	if (strncmp(spec, "extension:", 10) == 0)
		module = extension_spec(spec + 10, name);
	if (!module)
		return ctl_usage_error(
			ctx,
			"invalid destination %s: use channel:NAME, channel:*,"
			" bot:NAME, bot_message:NAME or extension:NAME:sandbox|marketplace",
			spec);
	return ctl_dest_init(ctx, d, module, name) ? CTL_OK : CTL_REFUSED;
}

bool ctl_dest_target_exists(struct ctl_ctx *ctx, struct ctl_dest *d)
{
	const char *params[] = { d->target };
	PGresult *res;

	d->owner_id[0] = '\0';
	if (strcmp(d->target, "*") == 0)
		return true;
	res = ctl_db_exec(ctx, kind_of(d->module)->exists_sql, 1, params);
	if (!res)
		return ctl_db_fail(ctx), false;
	if (PQntuples(res) != 1) {
		PQclear(res);
		ctl_db_rollback(ctx);
		return ctl_fail(ctx, "no such %s: %s", d->kind, d->target), false;
	}
	snprintf(d->owner_id, sizeof(d->owner_id), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return true;
}

const char *ctl_dest_owner(const struct ctl_dest *d)
{
	return d->owner_id[0] ? d->owner_id : NULL;
}

bool ctl_dest_find(struct ctl_ctx *ctx, const struct ctl_dest *d, char id[CTL_ID_LEN])
{
	const char *params[] = { d->module, d->target };
	PGresult *res = ctl_db_exec(ctx,
				    "SELECT id FROM hookgate.destinations"
				    " WHERE module = $1 AND target = $2",
				    2, params);

	if (!res)
		return ctl_db_fail(ctx), false;
	if (PQntuples(res) != 1) {
		PQclear(res);
		ctl_db_rollback(ctx);
		return ctl_fail(ctx, "no destination for %s (set one with %s endpoint set)",
				d->label, d->kind),
		       false;
	}
	snprintf(id, CTL_ID_LEN, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return true;
}

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

static const char *url_problem(const char *url)
{
	size_t len = strlen(url), skip;

	if (len > CTL_URL_MAX)
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

bool ctl_url_check(struct ctl_ctx *ctx, const char *url)
{
	const char *why = url_problem(url);

	if (!why)
		return true;
	/* Never echo it: a rejected URL may carry a password. */
	return ctl_fail(ctx, "invalid URL: %s", why), false;
}
