/* SPDX-License-Identifier: Apache-2.0 */
/* ctl_dest: how hookgatectl names a delivery destination (docs/hookgatectl.md, "Destinations"):
 * the (module, target) pair from an endpoint command's NAME and options or from a --destination
 * spec, the check that its channel, bot or extension exists, the look-up of its row, and the
 * report of a bad handler URL (the rule itself is delivery/destination.h's). Shared by endpoint.c
 * and delivery.c so both accept the same names. */
#include "ctl/ctl.h"
#include "delivery/destination.h"

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

bool ctl_url_check(struct ctl_ctx *ctx, const char *url)
{
	const char *why = destination_url_problem(url);

	if (!why)
		return true;
	/* Never echo it: a rejected URL may carry a password. */
	return ctl_fail(ctx, "invalid URL: %s", why), false;
}
