/* SPDX-License-Identifier: Apache-2.0 */
/* ctl_token: "hookgatectl token create|list|disable|enable|delete" (docs/hookgatectl.md). The
 * five-token limit is the database trigger's job; here its SQLSTATE becomes the refusal. A new
 * token is printed once and stored only as a keyed hash and a sealed copy; every change is audited.
 */
#include "ctl/ctl.h"
#include "core/crypto.h"
#include "core/schema.h"
#include "core/token.h"

#include <openssl/crypto.h>

#include <string.h>

#define TOKEN_NAME_MAX_CHARS 64
/* A new token and its stored forms, by the secret key file. */
static bool new_token_make(struct ctl_ctx *ctx, struct token_new *nt)
{
	struct crypto_keys keys;
	bool ok;

	if (!ctl_load_keys(ctx, &keys))
		return false;
	ok = token_new_make(&keys, nt);
	crypto_keys_wipe(&keys);
	if (!ok)
		return ctl_fail(ctx, "cannot generate a token"), false;
	return true;
}

/* Inserts the token for login in one transaction with its audit row. */
static bool token_insert(struct ctl_ctx *ctx, char *login, const char *name,
			 const struct token_new *nt)
{
	char user_id[CTL_ID_LEN];
	const char *params[] = { nt->public_id, user_id, name, nt->stored.hash_text,
				 nt->stored.sealed_text };
	PGresult *res;

	if (!ctl_db_open(ctx) || !ctl_db_begin(ctx))
		return ctl_db_fail(ctx), false;
	if (!ctl_user_lookup(ctx, login, user_id))
		return ctl_db_rollback(ctx), false;
	res = ctl_db_exec(ctx,
			  "INSERT INTO hookgate.webhook_tokens"
			  " (public_id, user_id, name, token_hash, secret_enc)"
			  " VALUES ($1, $2, $3, $4, $5) RETURNING id",
			  5, params);
	if (!res && ctl_db_failed_with(ctx, HG_SQLSTATE_TOKEN_LIMIT)) {
		ctl_db_rollback(ctx);
		return ctl_fail(ctx, "user %s already has %d webhook tokens", login,
				HG_TOKEN_LIMIT),
		       false;
	}
	if (!res)
		return ctl_db_fail(ctx), false;
	PQclear(res);

	cJSON *details = cJSON_CreateObject();

	cJSON_AddStringToObject(details, "token", nt->public_id);
	cJSON_AddStringToObject(details, "name", name);
	if (!ctl_db_audit(ctx, user_id, "token.create", details) || !ctl_db_commit(ctx))
		return ctl_db_fail(ctx), false;
	return true;
}

static int token_create(struct ctl_ctx *ctx, int argc, char **argv)
{
	const char *name = NULL;
	const struct ctl_opt opts[] = { { "--name", &name, NULL } };
	const char *arg;
	char login[128];
	struct token_new nt;
	int rc = ctl_args(ctx, "token create", argc - 1, argv + 1, opts, 1, &arg, 1);

	if (rc != CTL_OK)
		return rc;
	if (!name)
		return ctl_usage_error(ctx, "token create: --name NAME is required");
	if (!ctl_text_arg(ctx, "token name", name, TOKEN_NAME_MAX_CHARS))
		return CTL_REFUSED;
	snprintf(login, sizeof(login), "%s", arg);
	if (!new_token_make(ctx, &nt))
		rc = CTL_REFUSED;
	else if (!token_insert(ctx, login, name, &nt))
		rc = CTL_REFUSED;
	if (rc == CTL_OK) {
		cJSON *obj = cJSON_CreateObject();

		cJSON_AddStringToObject(obj, "id", nt.public_id);
		cJSON_AddStringToObject(obj, "name", name);
		cJSON_AddStringToObject(obj, "secret", nt.secret);
		rc = ctl_done(ctx, obj, "created token %s for %s (shown only once):\n%s",
			      nt.public_id, login, nt.secret);
	}
	OPENSSL_cleanse(&nt, sizeof(nt));
	return rc;
}

/* Counters from hookgate.token_counts: exact, where webhook_tokens' own columns lag up to a
 * fold behind. Why and when a token was disabled (owner or exposed; sql/010_token_revoke.sql)
 * too, as the dashboard shows them. */
// clang-format off
static const char token_list_sql[] =
	"SELECT t.public_id AS id, t.name, t.status, c.invocations,"
	" " CTL_SQL_TIME("c.last_invoked_at") " AS last_invoked_at,"
	" " CTL_SQL_TIME("t.created_at") " AS created_at,"
	" t.disabled_reason, " CTL_SQL_TIME("t.disabled_at") " AS disabled_at"
	" FROM hookgate.webhook_tokens t JOIN hookgate.token_counts c ON c.token_id = t.id"
	" WHERE t.user_id = $1 AND t.deleted_at IS NULL ORDER BY t.created_at, t.id";
// clang-format on

static int token_list(struct ctl_ctx *ctx, int argc, char **argv)
{
	const char *arg;
	char login[128], user_id[CTL_ID_LEN];
	const char *params[] = { user_id };
	int rc = ctl_args(ctx, "token list", argc - 1, argv + 1, NULL, 0, &arg, 1);

	if (rc != CTL_OK)
		return rc;
	snprintf(login, sizeof(login), "%s", arg);
	if (!ctl_db_open(ctx) || !ctl_user_lookup(ctx, login, user_id))
		return CTL_REFUSED;

	PGresult *res = ctl_db_exec(ctx, token_list_sql, 1, params);

	if (!res)
		return ctl_db_fail(ctx);

	cJSON *obj = cJSON_CreateObject();

	cJSON_AddStringToObject(obj, "login", login);
	cJSON_AddNumberToObject(obj, "limit", HG_TOKEN_LIMIT);
	return ctl_out_listing(ctx, res, obj, "tokens");
}

/* disable / enable / delete: one UPDATE of a live token by public id, audited. */
struct token_change {
	const char *cmd;
	const char *sql; /* $1 = public id; RETURNING user_id */
	const char *action;
	const char *state; /* shown and returned as "status" */
};

static const struct token_change token_changes[] = {
	{ "token disable",
	  "UPDATE hookgate.webhook_tokens SET status = 'disabled'"
	  " WHERE public_id = $1 AND deleted_at IS NULL RETURNING user_id",
	  "token.disable", "disabled" },
	{ "token enable",
	  "UPDATE hookgate.webhook_tokens SET status = 'active'"
	  " WHERE public_id = $1 AND deleted_at IS NULL RETURNING user_id",
	  "token.enable", "active" },
	/* Soft delete: the row stays for the usage history; the secret forms go. */
	{ "token delete",
	  "UPDATE hookgate.webhook_tokens SET deleted_at = now(), token_hash = NULL,"
	  " secret_enc = NULL WHERE public_id = $1 AND deleted_at IS NULL RETURNING user_id",
	  "token.delete", "deleted" },
};

static bool token_change_rows(struct ctl_ctx *ctx, const struct token_change *tc, const char *id)
{
	const char *params[] = { id };
	PGresult *res;
	cJSON *details;
	bool ok;

	if (!ctl_db_open(ctx) || !ctl_db_begin(ctx))
		return ctl_db_fail(ctx), false;
	res = ctl_db_exec(ctx, tc->sql, 1, params);
	if (!res)
		return ctl_db_fail(ctx), false;
	if (PQntuples(res) != 1) {
		PQclear(res);
		ctl_db_rollback(ctx);
		return ctl_fail(ctx, "no such token"), false;
	}
	details = cJSON_CreateObject();
	cJSON_AddStringToObject(details, "token", id);
	ok = ctl_db_audit(ctx, PQgetvalue(res, 0, 0), tc->action, details) && ctl_db_commit(ctx);
	PQclear(res);
	if (!ok)
		ctl_db_fail(ctx);
	return ok;
}

static int token_change(struct ctl_ctx *ctx, const struct token_change *tc, int argc, char **argv)
{
	const char *id;
	int rc = ctl_args(ctx, tc->cmd, argc - 1, argv + 1, NULL, 0, &id, 1);

	if (rc != CTL_OK)
		return rc;
	/* Never echo the argument: someone may have pasted a token instead of its public id. */
	if (!token_public_id_valid(id))
		return ctl_fail(ctx, "no such token");
	if (!token_change_rows(ctx, tc, id))
		return CTL_REFUSED;

	cJSON *obj = cJSON_CreateObject();

	cJSON_AddStringToObject(obj, "id", id);
	cJSON_AddStringToObject(obj, "status", tc->state);
	return ctl_done(ctx, obj, "token %s %s", id, tc->state);
}

static int token_disable(struct ctl_ctx *ctx, int argc, char **argv)
{
	return token_change(ctx, &token_changes[0], argc, argv);
}

static int token_enable(struct ctl_ctx *ctx, int argc, char **argv)
{
	return token_change(ctx, &token_changes[1], argc, argv);
}

static int token_delete(struct ctl_ctx *ctx, int argc, char **argv)
{
	return token_change(ctx, &token_changes[2], argc, argv);
}

int ctl_token_main(struct ctl_ctx *ctx, int argc, char **argv)
{
	static const struct ctl_command table[] = {
		{ "create", token_create },   { "list", token_list },
		{ "disable", token_disable }, { "enable", token_enable },
		{ "delete", token_delete },   { "rotate", ctl_token_rotate },
		{ "limit", ctl_token_limit },
	};

	return ctl_subcommand(ctx, "token", table, sizeof(table) / sizeof(table[0]), argc, argv);
}
