/* SPDX-License-Identifier: Apache-2.0 */
/* ctl_module: the targets of webhook calls (docs/api-webhooks.md): "hookgatectl
 * channel|bot|extension ...". Names are lowercased and must match [a-z0-9_]{1,64}; every change is
 * audited in the same transaction. Extension appkeys are stored as a look-up hash and sealed, never
 * in clear. */
#include "ctl/ctl.h"
#include "core/crypto.h"
#include "core/module.h"
#include "core/token.h"

#include <openssl/crypto.h>

#include <string.h>

#define CHANNEL_TITLE_MAX_CHARS 200

bool ctl_module_name(struct ctl_ctx *ctx, const char *kind, const char *arg, char *out)
{
	size_t len = strnlen(arg, MODULE_NAME_MAX + 1);
	bool ok = len <= MODULE_NAME_MAX;

	if (ok) {
		memcpy(out, arg, len + 1);
		ok = module_name_fold(out, len);
	}

	if (!ok)
		ctl_fail(ctx, "invalid %s name: 1-%d characters of a-z, 0-9 and '_'", kind,
			 MODULE_NAME_MAX);
	return ok;
}

static bool audit_commit(struct ctl_ctx *ctx, const char *user_id, const char *action,
			 const char *key, const char *name)
{
	cJSON *details = cJSON_CreateObject();

	cJSON_AddStringToObject(details, key, name);
	if (ctl_db_audit(ctx, user_id, action, details) && ctl_db_commit(ctx))
		return true;
	ctl_db_fail(ctx);
	return false;
}

/* Runs the INSERT of a new channel, bot or extension (kind) inside the open transaction, then
 * its "KIND.create" audit row (for user_id, NULL for none), and commits. A duplicate name is
 * refused as "KIND NAME already exists"; false after reporting. */
static bool create_named(struct ctl_ctx *ctx, const char *kind, const char *name, const char *sql,
			 int nparams, const char *const *params, const char *user_id)
{
	PGresult *res = ctl_db_exec(ctx, sql, nparams, params);
	char action[32];

	if (!res && ctl_db_failed_with(ctx, CTL_SQLSTATE_UNIQUE)) {
		ctl_db_rollback(ctx);
		ctl_fail(ctx, "%s %s already exists", kind, name);
		return false;
	}
	if (!res)
		return ctl_db_fail(ctx), false;
	PQclear(res);
	snprintf(action, sizeof(action), "%s.create", kind);
	return audit_commit(ctx, user_id, action, kind, name);
}

static int channel_add(struct ctl_ctx *ctx, int argc, char **argv)
{
	const char *title = NULL;
	const struct ctl_opt opts[] = { { "--title", &title, NULL } };
	const char *arg;
	char name[MODULE_NAME_MAX + 1];
	int rc = ctl_args(ctx, "channel add", argc - 1, argv + 1, opts, 1, &arg, 1);

	if (rc != CTL_OK)
		return rc;
	if (!ctl_module_name(ctx, "channel", arg, name))
		return CTL_REFUSED;
	if (!title)
		title = name;
	if (!ctl_text_arg(ctx, "title", title, CHANNEL_TITLE_MAX_CHARS))
		return CTL_REFUSED;
	if (!ctl_db_open(ctx) || !ctl_db_begin(ctx))
		return ctl_db_fail(ctx);

	const char *params[] = { name, title };

	if (!create_named(
		    ctx, "channel", name,
		    "INSERT INTO hookgate.channels (name, title) VALUES ($1, $2) RETURNING id", 2,
		    params, NULL))
		return CTL_REFUSED;

	cJSON *obj = cJSON_CreateObject();

	cJSON_AddStringToObject(obj, "name", name);
	cJSON_AddStringToObject(obj, "title", title);
	return ctl_done(ctx, obj, "created channel %s", name);
}

/* channel member add / bot subscribe: a (module, user) row, idempotent. */
struct link_kind {
	const char *cmd;
	const char *kind;	/* "channel", "bot" */
	const char *lookup_sql; /* $1 = name; returns id */
	const char *insert_sql; /* $1 = module id, $2 = user id; RETURNING on a new row only */
	const char *action;
	const char *done_text; /* "LOGIN is [already] <done_text> KIND NAME" */
};

static bool link_rows(struct ctl_ctx *ctx, const struct link_kind *lk, const char *name,
		      char *login, bool *added)
{
	char module_id[CTL_ID_LEN], user_id[CTL_ID_LEN];
	const char *params[] = { module_id, user_id };
	PGresult *res;

	if (!ctl_db_open(ctx) || !ctl_db_begin(ctx))
		return ctl_db_fail(ctx), false;
	if (!ctl_db_lookup(ctx, lk->lookup_sql, name, lk->kind, module_id) ||
	    !ctl_user_lookup(ctx, login, user_id))
		return ctl_db_rollback(ctx), false;
	res = ctl_db_exec(ctx, lk->insert_sql, 2, params);
	if (!res)
		return ctl_db_fail(ctx), false;
	*added = PQntuples(res) == 1;
	PQclear(res);
	if (!*added)
		return ctl_db_commit(ctx) || (ctl_db_fail(ctx), false);
	return audit_commit(ctx, user_id, lk->action, lk->kind, name);
}

static int link_user(struct ctl_ctx *ctx, const struct link_kind *lk, int argc, char **argv)
{
	const char *pos[2];
	char name[MODULE_NAME_MAX + 1];
	char login[128];
	bool added = false;
	int rc = ctl_args(ctx, lk->cmd, argc - 1, argv + 1, NULL, 0, pos, 2);

	if (rc != CTL_OK)
		return rc;
	if (!ctl_module_name(ctx, lk->kind, pos[0], name))
		return CTL_REFUSED;
	snprintf(login, sizeof(login), "%s", pos[1]);
	if (!link_rows(ctx, lk, name, login, &added))
		return CTL_REFUSED;

	cJSON *obj = cJSON_CreateObject();

	cJSON_AddStringToObject(obj, lk->kind, name);
	cJSON_AddStringToObject(obj, "login", login);
	cJSON_AddBoolToObject(obj, "added", added);
	return ctl_done(ctx, obj, "%s is %s%s %s %s", login, added ? "" : "already ", lk->done_text,
			lk->kind, name);
}

static int channel_member_add(struct ctl_ctx *ctx, int argc, char **argv)
{
	static const struct link_kind member = {
		"channel member add",
		"channel",
		"SELECT id FROM hookgate.channels WHERE name = $1",
		"INSERT INTO hookgate.channel_members (channel_id, user_id) VALUES ($1, $2)"
		" ON CONFLICT DO NOTHING RETURNING user_id",
		"channel.member_add",
		"a member of",
	};

	return link_user(ctx, &member, argc, argv);
}

static int channel_member(struct ctl_ctx *ctx, int argc, char **argv)
{
	static const struct ctl_command table[] = { { "add", channel_member_add } };

	return ctl_subcommand(ctx, "channel member", table, 1, argc, argv);
}

static int channel_endpoint(struct ctl_ctx *ctx, int argc, char **argv)
{
	return ctl_endpoint_main(ctx, "channel", argc, argv);
}

int ctl_channel_main(struct ctl_ctx *ctx, int argc, char **argv)
{
	static const struct ctl_command table[] = {
		{ "add", channel_add },
		{ "member", channel_member },
		{ "endpoint", channel_endpoint },
	};

	return ctl_subcommand(ctx, "channel", table, 3, argc, argv);
}

/* bot add / extension add: the lowercased name and the owner's login (128 bytes). */
static int owned_args(struct ctl_ctx *ctx, const char *cmd, const char *kind, int argc, char **argv,
		      char *name, char *login)
{
	const char *owner = NULL;
	const struct ctl_opt opts[] = { { "--owner", &owner, NULL } };
	const char *arg;
	int rc = ctl_args(ctx, cmd, argc - 1, argv + 1, opts, 1, &arg, 1);

	if (rc != CTL_OK)
		return rc;
	if (!owner)
		return ctl_usage_error(ctx, "%s: --owner LOGIN is required", cmd);
	if (!ctl_module_name(ctx, kind, arg, name))
		return CTL_REFUSED;
	snprintf(login, 128, "%s", owner);
	return CTL_OK;
}

static int owned_begin(struct ctl_ctx *ctx, char *login, char *owner_id)
{
	if (!ctl_db_open(ctx) || !ctl_db_begin(ctx))
		return ctl_db_fail(ctx);
	if (!ctl_user_lookup(ctx, login, owner_id)) {
		ctl_db_rollback(ctx);
		return CTL_REFUSED;
	}
	return CTL_OK;
}

static int bot_add(struct ctl_ctx *ctx, int argc, char **argv)
{
	char name[MODULE_NAME_MAX + 1], login[128], owner_id[CTL_ID_LEN];
	int rc = owned_args(ctx, "bot add", "bot", argc, argv, name, login);

	if (rc == CTL_OK)
		rc = owned_begin(ctx, login, owner_id);
	if (rc != CTL_OK)
		return rc;

	const char *params[] = { name, owner_id };

	if (!create_named(ctx, "bot", name,
			  "INSERT INTO hookgate.bots (name, owner_id) VALUES ($1, $2) RETURNING id",
			  2, params, owner_id))
		return CTL_REFUSED;

	cJSON *obj = cJSON_CreateObject();

	cJSON_AddStringToObject(obj, "name", name);
	cJSON_AddStringToObject(obj, "owner", login);
	return ctl_done(ctx, obj, "created bot %s owned by %s", name, login);
}

static int bot_subscribe(struct ctl_ctx *ctx, int argc, char **argv)
{
	static const struct link_kind subscriber = {
		"bot subscribe",
		"bot",
		"SELECT id FROM hookgate.bots WHERE name = $1",
		"INSERT INTO hookgate.bot_subscribers (bot_id, user_id) VALUES ($1, $2)"
		" ON CONFLICT DO NOTHING RETURNING user_id",
		"bot.subscribe",
		"subscribed to",
	};

	return link_user(ctx, &subscriber, argc, argv);
}

static int bot_endpoint(struct ctl_ctx *ctx, int argc, char **argv)
{
	return ctl_endpoint_main(ctx, "bot", argc, argv);
}

int ctl_bot_main(struct ctl_ctx *ctx, int argc, char **argv)
{
	static const struct ctl_command table[] = {
		{ "add", bot_add },
		{ "subscribe", bot_subscribe },
		{ "endpoint", bot_endpoint },
	};

	return ctl_subcommand(ctx, "bot", table, 3, argc, argv);
}

static bool extension_insert(struct ctl_ctx *ctx, const char *name, const char *owner_id,
			     const struct token_app_new *sb, const struct token_app_new *mp)
{
	const char *params[] = { name,
				 owner_id,
				 sb->app_id,
				 sb->stored.hash_text,
				 sb->stored.sealed_text,
				 mp->app_id,
				 mp->stored.hash_text,
				 mp->stored.sealed_text };
	return create_named(ctx, "extension", name,
			    "INSERT INTO hookgate.extensions (name, owner_id,"
			    " sandbox_app_id, sandbox_appkey_hash, sandbox_appkey_enc,"
			    " marketplace_app_id, marketplace_appkey_hash, marketplace_appkey_enc)"
			    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
			    8, params, owner_id);
}

static cJSON *app_json(const struct token_app_new *ac)
{
	cJSON *obj = cJSON_CreateObject();

	cJSON_AddStringToObject(obj, "app_id", ac->app_id);
	cJSON_AddStringToObject(obj, "appkey", ac->appkey);
	return obj;
}

static int extension_print(struct ctl_ctx *ctx, const char *name, const char *login,
			   const struct token_app_new *sb, const struct token_app_new *mp)
{
	cJSON *obj = cJSON_CreateObject();

	cJSON_AddStringToObject(obj, "name", name);
	cJSON_AddStringToObject(obj, "owner", login);
	cJSON_AddItemToObject(obj, "sandbox", app_json(sb));
	cJSON_AddItemToObject(obj, "marketplace", app_json(mp));
	return ctl_done(ctx, obj,
			"created extension %s owned by %s\n"
			"sandbox:     app_id %s  appkey %s\n"
			"marketplace: app_id %s  appkey %s",
			name, login, sb->app_id, sb->appkey, mp->app_id, mp->appkey);
}

static int extension_add(struct ctl_ctx *ctx, int argc, char **argv)
{
	char name[MODULE_NAME_MAX + 1], login[128], owner_id[CTL_ID_LEN];
	struct crypto_keys keys;
	struct token_app_new creds[2];
	int rc = owned_args(ctx, "extension add", "extension", argc, argv, name, login);

	if (rc != CTL_OK || !ctl_load_keys(ctx, &keys))
		return rc != CTL_OK ? rc : CTL_REFUSED;
	if (!token_app_new_make(&keys, &creds[0]) || !token_app_new_make(&keys, &creds[1]))
		rc = ctl_fail(ctx, "cannot generate the app ids and appkeys");
	crypto_keys_wipe(&keys);
	if (rc == CTL_OK)
		rc = owned_begin(ctx, login, owner_id);
	if (rc == CTL_OK && !extension_insert(ctx, name, owner_id, &creds[0], &creds[1]))
		rc = CTL_REFUSED;
	if (rc == CTL_OK)
		rc = extension_print(ctx, name, login, &creds[0], &creds[1]);
	OPENSSL_cleanse(creds, sizeof(creds));
	return rc;
}

static int extension_endpoint(struct ctl_ctx *ctx, int argc, char **argv)
{
	return ctl_endpoint_main(ctx, "extension", argc, argv);
}

int ctl_extension_main(struct ctl_ctx *ctx, int argc, char **argv)
{
	static const struct ctl_command table[] = {
		{ "add", extension_add },
		{ "endpoint", extension_endpoint },
	};

	return ctl_subcommand(ctx, "extension", table, 2, argc, argv);
}
