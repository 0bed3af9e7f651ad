/* SPDX-License-Identifier: Apache-2.0 */
/* ctl_user: "hookgatectl user add|list|reset-2fa|unlock|disable|enable|delete|grant-admin|
 * revoke-admin". Passwords come from the first line of
 * stdin (never from argv, which other local users can read) and are only ever stored hashed. */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L /* getline */
#endif

#include "ctl/ctl.h"
#include "lib/utf8.h"
#include "core/crypto.h"

#include <openssl/crypto.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define PASSWORD_MIN_CHARS 8
#define PASSWORD_MAX_BYTES 1024
#define DISPLAY_NAME_MAX_CHARS 200

bool ctl_user_login_valid(struct ctl_ctx *ctx, char *login)
{
	size_t len = strlen(login);
	bool ok = len >= 1 && len <= 64;

	for (char *p = login; *p; p++) {
		*p = (char)tolower((unsigned char)*p);
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || strchr("_.-", *p)))
			ok = false;
	}
	if (!ok)
		ctl_fail(ctx, "invalid login: 1-64 characters of a-z, 0-9, '_', '.' and '-'");
	return ok;
}

bool ctl_user_lookup(struct ctl_ctx *ctx, char *login, char id[CTL_ID_LEN])
{
	for (char *p = login; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return ctl_db_lookup(
		ctx,
		"SELECT id FROM hookgate.users WHERE login = $1 AND account_deleted_at IS NULL",
		login, "user", id);
}

/* The first line of stdin without its line end, in *out (free with free_password). */
static bool read_password(struct ctl_ctx *ctx, char **out)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len = getline(&line, &cap, stdin);

	if (len < 0)
		len = 0;
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (line)
		line[len] = '\0';
	/* A NUL would silently cut the password short, as \u0000 would in the admin API's JSON. */
	if (len > 0 && memchr(line, '\0', (size_t)len) != NULL) {
		OPENSSL_cleanse(line, cap);
		free(line);
		ctl_fail(ctx, "the password must not contain a NUL byte");
		return false;
	}
	if (len == 0 || len > PASSWORD_MAX_BYTES || utf8_count(line) < PASSWORD_MIN_CHARS) {
		if (line)
			OPENSSL_cleanse(line, cap);
		free(line);
		ctl_fail(ctx,
			 len == 0 ? "no password on stdin (the first line is the password)"
				  : "the password must have %d to %d characters",
			 PASSWORD_MIN_CHARS, PASSWORD_MAX_BYTES);
		return false;
	}
	*out = line;
	return true;
}

static int insert_user(struct ctl_ctx *ctx, const char *login, const char *display,
		       const char *hash)
{
	const char *params[] = { login, display, hash };
	PGresult *res;
	bool ok;

	if (!ctl_db_begin(ctx))
		return ctl_db_fail(ctx);
	res = ctl_db_exec(ctx,
			  "INSERT INTO hookgate.users (login, display_name, password_hash)"
			  " VALUES ($1, $2, $3) RETURNING id",
			  3, params);
	if (!res && ctl_db_failed_with(ctx, CTL_SQLSTATE_UNIQUE)) {
		ctl_db_rollback(ctx);
		return ctl_fail(ctx, "user %s already exists", login);
	}
	if (!res)
		return ctl_db_fail(ctx);

	cJSON *details = cJSON_CreateObject();

	cJSON_AddStringToObject(details, "login", login);
	ok = ctl_db_audit(ctx, PQgetvalue(res, 0, 0), "user.create", details) && ctl_db_commit(ctx);
	PQclear(res);
	if (!ok)
		return ctl_db_fail(ctx);

	cJSON *obj = cJSON_CreateObject();

	cJSON_AddStringToObject(obj, "login", login);
	cJSON_AddStringToObject(obj, "display_name", display);
	return ctl_done(ctx, obj, "created user %s", login);
}

static int user_add(struct ctl_ctx *ctx, int argc, char **argv)
{
	const char *display = NULL;
	const struct ctl_opt opts[] = { { "--display-name", &display, NULL } };
	const char *login_arg;
	char login[128];
	char hash[CRYPTO_PASSWORD_HASH_MAX];
	char *password = NULL;
	int rc = ctl_args(ctx, "user add", argc - 1, argv + 1, opts, 1, &login_arg, 1);

	if (rc != CTL_OK)
		return rc;
	snprintf(login, sizeof(login), "%s", login_arg);
	if (!ctl_user_login_valid(ctx, login))
		return CTL_REFUSED;
	if (!display)
		display = login;
	if (!ctl_text_arg(ctx, "display name", display, DISPLAY_NAME_MAX_CHARS))
		return CTL_REFUSED;
	if (!read_password(ctx, &password))
		return CTL_REFUSED;

	bool hashed = crypto_password_hash(password, hash, sizeof(hash));

	OPENSSL_cleanse(password, strlen(password));
	free(password);
	if (!hashed)
		return ctl_fail(ctx, "cannot hash the password");
	if (!ctl_db_open(ctx))
		return CTL_REFUSED;
	return insert_user(ctx, login, display, hash);
}

// clang-format off
static const char user_list_sql[] =
	"SELECT u.login, u.display_name, u.totp_enabled AS twofa_enrolled,"
	" " CTL_SQL_TIME("CASE WHEN u.locked_until > now() THEN u.locked_until END")
	" AS locked_until,"
	" (SELECT count(*) FROM hookgate.webhook_tokens t"
	"   WHERE t.user_id = u.id AND t.deleted_at IS NULL) AS tokens,"
	" " CTL_SQL_TIME("u.created_at") " AS created_at,"
	" CASE WHEN u.account_deleted_at IS NOT NULL THEN 'deleted'"
	"  WHEN u.account_disabled_at IS NOT NULL THEN 'disabled' ELSE 'active' END AS status,"
	" u.is_admin AS admin"
	" FROM hookgate.users u ORDER BY u.login";
// clang-format on

static int user_list(struct ctl_ctx *ctx, int argc, char **argv)
{
	int rc = ctl_args(ctx, "user list", argc - 1, argv + 1, NULL, 0, NULL, 0);
	PGresult *res;

	if (rc != CTL_OK)
		return rc;
	if (!ctl_db_open(ctx))
		return CTL_REFUSED;
	res = ctl_db_exec(ctx, user_list_sql, 0, NULL);
	if (!res)
		return ctl_db_fail(ctx);
	if (ctx->json) {
		cJSON *obj = cJSON_CreateObject();

		cJSON_AddItemToObject(obj, "users", ctl_out_rows(res));
		PQclear(res);
		return ctl_done(ctx, obj, "%s", "");
	}
	ctl_out_table(res);
	PQclear(res);
	return CTL_OK;
}

/* user reset-2fa and user unlock: one UPDATE by login, follow-up statements on the user's id,
 * and the audit row, in one transaction. */
struct user_change {
	const char *cmd;
	const char *action;
	const char *update_sql;		/* $1 = login; RETURNING id */
	const char *const *cleanup_sql; /* $1 = user id; NULL-terminated */
	const char *done_before;	/* text output: done_before LOGIN done_after */
	const char *done_after;
};

static const char *const reset_2fa_cleanup[] = {
	"DELETE FROM hookgate.recovery_codes WHERE user_id = $1",
	/* Sessions opened with the old factor must not outlive it. */
	"DELETE FROM hookgate.admin_sessions WHERE user_id = $1",
	NULL,
};
static const char *const no_cleanup[] = { NULL };

static const struct user_change reset_2fa_change = {
	"user reset-2fa",
	"user.reset_2fa",
	"UPDATE hookgate.users SET totp_secret_enc = NULL, totp_enabled = false,"
	" totp_last_step = 0 WHERE login = $1 RETURNING id",
	reset_2fa_cleanup,
	"reset the second factor of ",
	": they enroll again at their next login",
};

static const struct user_change unlock_change = {
	"user unlock",
	"user.unlock",
	"UPDATE hookgate.users SET failed_logins = 0, locked_until = NULL"
	" WHERE login = $1 RETURNING id",
	no_cleanup,
	"unlocked ",
	"",
};

/* Owner lifecycle and role (docs/hookgatectl.md). Disabling is one UPDATE of the users row:
 * the trigger users_owner_state (sql/008_org.sql) refuses the user's tokens from then on and
 * ends their sessions, in the same transaction. */
static const struct user_change disable_change = {
	"user disable",
	"user.disable",
	"UPDATE hookgate.users SET account_disabled_at = coalesce(account_disabled_at, now())"
	" WHERE login = $1 AND account_deleted_at IS NULL RETURNING id",
	no_cleanup,
	"disabled ",
	": their tokens are refused and their sessions ended",
};

static const struct user_change enable_change = {
	"user enable",
	"user.enable",
	"UPDATE hookgate.users SET account_disabled_at = NULL"
	" WHERE login = $1 AND account_deleted_at IS NULL RETURNING id",
	no_cleanup,
	"enabled ",
	"",
};

/* The row stays (history, audit and bots name it); what would let anyone act as the user
 * goes: password, second factor, recovery codes, sessions, memberships, tokens (deleted as
 * the API deletes one, locked in id order as batches lock them). */
static const char *const delete_cleanup[] = {
	"DELETE FROM hookgate.recovery_codes WHERE user_id = $1",
	"DELETE FROM hookgate.admin_sessions WHERE user_id = $1",
	"DELETE FROM hookgate.channel_members WHERE user_id = $1",
	"DELETE FROM hookgate.bot_subscribers WHERE user_id = $1",
	"SELECT 1 FROM hookgate.webhook_tokens WHERE user_id = $1 AND deleted_at IS NULL"
	" ORDER BY id FOR NO KEY UPDATE",
	"UPDATE hookgate.webhook_tokens SET deleted_at = now(), token_hash = NULL,"
	" secret_enc = NULL WHERE user_id = $1 AND deleted_at IS NULL",
	NULL,
};

static const struct user_change delete_change = {
	"user delete",
	"user.delete",
	"UPDATE hookgate.users SET account_deleted_at = now(),"
	" account_disabled_at = coalesce(account_disabled_at, now()),"
	" is_admin = false, password_hash = '', totp_secret_enc = NULL, totp_enabled = false"
	" WHERE login = $1 AND account_deleted_at IS NULL RETURNING id",
	delete_cleanup,
	"deleted ",
	": tokens deleted, history kept",
};

static const struct user_change grant_admin_change = {
	"user grant-admin",
	"user.grant_admin",
	"UPDATE hookgate.users SET is_admin = true"
	" WHERE login = $1 AND account_deleted_at IS NULL RETURNING id",
	no_cleanup,
	"",
	" is now an administrator",
};

static const struct user_change revoke_admin_change = {
	"user revoke-admin",
	"user.revoke_admin",
	"UPDATE hookgate.users SET is_admin = false"
	" WHERE login = $1 AND account_deleted_at IS NULL RETURNING id",
	no_cleanup,
	"",
	" is no longer an administrator",
};

static bool change_rows(struct ctl_ctx *ctx, const struct user_change *ch, const char *login)
{
	const char *params[] = { login };
	PGresult *res = ctl_db_exec(ctx, ch->update_sql, 1, params);
	char id[CTL_ID_LEN];
	const char *idp[] = { id };
	cJSON *details;

	if (!res)
		return ctl_db_fail(ctx), false;
	if (PQntuples(res) != 1) {
		PQclear(res);
		ctl_db_rollback(ctx);
		return ctl_fail(ctx, "no such user: %s", login), false;
	}
	snprintf(id, sizeof(id), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	for (const char *const *sql = ch->cleanup_sql; *sql; sql++) {
		if (!ctl_db_run(ctx, *sql, 1, idp))
			return ctl_db_fail(ctx), false;
	}
	details = cJSON_CreateObject();
	cJSON_AddStringToObject(details, "login", login);
	if (!ctl_db_audit(ctx, id, ch->action, details) || !ctl_db_commit(ctx))
		return ctl_db_fail(ctx), false;
	return true;
}

static int user_change(struct ctl_ctx *ctx, const struct user_change *ch, int argc, char **argv)
{
	const char *login_arg;
	char login[128];
	int rc = ctl_args(ctx, ch->cmd, argc - 1, argv + 1, NULL, 0, &login_arg, 1);

	if (rc != CTL_OK)
		return rc;
	snprintf(login, sizeof(login), "%s", login_arg);
	for (char *p = login; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (!ctl_db_open(ctx) || !ctl_db_begin(ctx))
		return ctl_db_fail(ctx);
	if (!change_rows(ctx, ch, login))
		return CTL_REFUSED;

	cJSON *obj = cJSON_CreateObject();

	cJSON_AddStringToObject(obj, "login", login);
	cJSON_AddStringToObject(obj, "action", ch->action);
	return ctl_done(ctx, obj, "%s%s%s", ch->done_before, login, ch->done_after);
}

static int user_reset_2fa(struct ctl_ctx *ctx, int argc, char **argv)
{
	return user_change(ctx, &reset_2fa_change, argc, argv);
}

static int user_unlock(struct ctl_ctx *ctx, int argc, char **argv)
{
	return user_change(ctx, &unlock_change, argc, argv);
}

static int user_disable(struct ctl_ctx *ctx, int argc, char **argv)
{
	return user_change(ctx, &disable_change, argc, argv);
}

static int user_enable(struct ctl_ctx *ctx, int argc, char **argv)
{
	return user_change(ctx, &enable_change, argc, argv);
}

static int user_delete(struct ctl_ctx *ctx, int argc, char **argv)
{
	return user_change(ctx, &delete_change, argc, argv);
}

static int user_grant_admin(struct ctl_ctx *ctx, int argc, char **argv)
{
	return user_change(ctx, &grant_admin_change, argc, argv);
}

static int user_revoke_admin(struct ctl_ctx *ctx, int argc, char **argv)
{
	return user_change(ctx, &revoke_admin_change, argc, argv);
}

int ctl_user_main(struct ctl_ctx *ctx, int argc, char **argv)
{
	static const struct ctl_command table[] = {
		{ "add", user_add },
		{ "list", user_list },
		{ "reset-2fa", user_reset_2fa },
		{ "unlock", user_unlock },
		{ "disable", user_disable },
		{ "enable", user_enable },
		{ "delete", user_delete },
		{ "grant-admin", user_grant_admin },
		{ "revoke-admin", user_revoke_admin },
	};

	return ctl_subcommand(ctx, "user", table, sizeof(table) / sizeof(table[0]), argc, argv);
}
