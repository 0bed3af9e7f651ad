/* SPDX-License-Identifier: Apache-2.0 */
/* hookgatectl: the administration CLI of docs/hookgatectl.md. This file parses the global options
 * (which come before the command) and dispatches to the command modules. */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include "ctl/ctl.h"
#include "core/crypto.h"

#include <stdlib.h>
#include <string.h>

static int cmd_keygen(struct ctl_ctx *ctx, int argc, char **argv)
{
	const char *path;
	char err[256];
	int rc = ctl_args(ctx, "keygen", argc - 1, argv + 1, NULL, 0, &path, 1);

	if (rc != CTL_OK)
		return rc;
	if (!crypto_write_keyfile(path, err, sizeof(err)))
		return ctl_fail(ctx, "%s", err);

	cJSON *obj = cJSON_CreateObject();

	cJSON_AddStringToObject(obj, "keyfile", path);
	return ctl_done(ctx, obj, "wrote a new secret key to %s (mode 0600)", path);
}

static const struct ctl_command commands[] = {
	{ "keygen", cmd_keygen },    { "migrate", ctl_migrate_main },
	{ "user", ctl_user_main },   { "channel", ctl_channel_main },
	{ "bot", ctl_bot_main },     { "extension", ctl_extension_main },
	{ "token", ctl_token_main }, { "delivery", ctl_delivery_main },
};

enum global_result { GLOBAL_OK, GLOBAL_HELP, GLOBAL_VERSION, GLOBAL_USAGE };

/* Global options end at the first word that is not one; *first gets its index. */
static enum global_result parse_globals(struct ctl_ctx *ctx, int argc, char **argv, int *first)
{
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *arg = argv[i];
		int r = 0;

		if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0)
			return GLOBAL_HELP;
		if (strcmp(arg, "-V") == 0 || strcmp(arg, "--version") == 0)
			return GLOBAL_VERSION;
		if (strcmp(arg, "--json") == 0) {
			ctx->json = true;
			continue;
		}
		if (strcmp(arg, "--") == 0) {
			i++;
			break;
		}
		r = ctl_opt_take(argc, argv, &i, "-c", &ctx->config_path);
		if (r == 0)
			r = ctl_opt_take(argc, argv, &i, "--config", &ctx->config_path);
		if (r == 0)
			r = ctl_opt_take(argc, argv, &i, "--conninfo", &ctx->conninfo_opt);
		if (r == 0)
			r = ctl_opt_take(argc, argv, &i, "--sql-dir", &ctx->sql_dir);
		if (r < 0) {
			ctl_usage_error(ctx, "option %s needs a value", arg);
			return GLOBAL_USAGE;
		}
		if (r == 0) {
			ctl_usage_error(ctx, "unknown option %s", arg);
			return GLOBAL_USAGE;
		}
	}
	*first = i;
	return GLOBAL_OK;
}

/* -c and --conninfo exclude each other; without either the installed config file is used.
 * $HOOKGATE_SQL_DIR overrides --sql-dir, which overrides the installed directory. */
static bool settle_globals(struct ctl_ctx *ctx)
{
	const char *env_sql = getenv("HOOKGATE_SQL_DIR");

	if (ctx->config_path && ctx->conninfo_opt) {
		ctl_usage_error(ctx, "-c and --conninfo cannot be used together");
		return false;
	}
	if (!ctx->config_path && !ctx->conninfo_opt)
		ctx->config_path = HG_SYSCONF_DIR "/hookgate.conf";
	if (env_sql && env_sql[0] != '\0')
		ctx->sql_dir = env_sql;
	else if (!ctx->sql_dir)
		ctx->sql_dir = HG_SQL_DIR;
	return true;
}

static int dispatch(struct ctl_ctx *ctx, int argc, char **argv)
{
	if (argc < 1)
		return ctl_usage_error(ctx, "missing command");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[0], commands[i].name) == 0)
			return commands[i].fn(ctx, argc, argv);
	}
	return ctl_usage_error(ctx, "unknown command %s", argv[0]);
}

int main(int argc, char **argv)
{
	struct ctl_ctx ctx;
	int first = 1;
	int rc;

	memset(&ctx, 0, sizeof(ctx));
	switch (parse_globals(&ctx, argc, argv, &first)) {
	case GLOBAL_HELP:
		ctl_print_usage(stdout);
		return CTL_OK;
	case GLOBAL_VERSION:
		printf("hookgatectl %s\n", PACKAGE_VERSION);
		return CTL_OK;
	case GLOBAL_USAGE:
		return CTL_USAGE;
	case GLOBAL_OK:
		break;
	}
	if (!settle_globals(&ctx))
		return CTL_USAGE;
	rc = dispatch(&ctx, argc - first, argv + first);
	ctl_db_close(&ctx);
	if (ctx.have_cfg)
		cfg_free(&ctx.cfg);
	if (fflush(stdout) != 0 && rc == CTL_OK)
		rc = CTL_REFUSED;
	return rc;
}
