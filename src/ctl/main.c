/* hookgatectl: the administration CLI of docs/hookgatectl.md. This file parses the global options
 * (which come before the command), dispatches to the command modules and prints the usage. */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include "ctl/ctl.h"
#include "core/crypto.h"

#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
	"usage: hookgatectl [-c FILE | --conninfo STR] [--json] [--sql-dir DIR] COMMAND ...\n"
	"\n"
	"global options (before the command):\n"
	"  -c, --config FILE   configuration file (default " HG_SYSCONF_DIR "/hookgate.conf)\n"
	"  --conninfo STR      connect with this libpq string instead (no secret key: token\n"
	"                      create and extension add need -c)\n"
	"  --json              print one JSON object\n"
	"  --sql-dir DIR       migrations directory (default " HG_SQL_DIR
	"; $HOOKGATE_SQL_DIR wins)\n"
	"  -h, --help          this text\n"
	"\n"
	"commands:\n"
	"  keygen FILE                          write a new secret key file (mode 0600)\n"
	"  migrate                              apply pending schema migrations\n"
	"  user add LOGIN [--display-name NAME] create a user; password = first line of stdin\n"
	"  user list\n"
	"  user reset-2fa LOGIN                 forget the second factor; enroll again at login\n"
	"  user unlock LOGIN                    clear a login lockout\n"
	"  channel add NAME [--title T]\n"
	"  channel member add NAME LOGIN\n"
	"  bot add NAME --owner LOGIN\n"
	"  bot subscribe NAME LOGIN\n"
	"  extension add NAME --owner LOGIN     create sandbox and marketplace app ids + appkeys\n"
	"  token create LOGIN --name NAME       print a new webhook token (shown once)\n"
	"  token list LOGIN\n"
	"  token disable|enable|delete PUBLIC_ID\n"
	"\n"
	"exit status: 0 success, 1 refused, 2 bad usage\n";

void ctl_print_usage(FILE *out)
{
	fputs(usage_text, out);
}

/* "--name" matches "--name" (value in the next word) and "--name=value". */
static const char *opt_match(const char *arg, const char *name, bool *inline_value)
{
	size_t len = strlen(name);

	if (strncmp(arg, name, len) != 0)
		return NULL;
	if (arg[len] == '\0') {
		*inline_value = false;
		return arg + len;
	}
	if (arg[len] == '=') {
		*inline_value = true;
		return arg + len + 1;
	}
	return NULL;
}

/* Takes the value of option name at argv[*i]; returns 1 if it matched, 0 if not, -1 when the
 * value is missing. */
static int opt_take(int argc, char **argv, int *i, const char *name, const char **value)
{
	bool inline_value;
	const char *rest = opt_match(argv[*i], name, &inline_value);

	if (!rest)
		return 0;
	if (inline_value) {
		*value = rest;
		return 1;
	}
	if (*i + 1 >= argc)
		return -1;
	*value = argv[++*i];
	return 1;
}

int ctl_args(struct ctl_ctx *ctx, const char *cmd, int argc, char **argv,
	     const struct ctl_opt *opts, size_t nopts, const char **pos, size_t npos)
{
	size_t got = 0;

	for (int i = 0; i < argc; i++) {
		int matched = 0;

		for (size_t k = 0; k < nopts && !matched; k++) {
			matched = opt_take(argc, argv, &i, opts[k].name, opts[k].value);
			if (matched < 0)
				return ctl_usage_error(ctx, "%s: option %s needs a value", cmd,
						       opts[k].name);
		}
		if (matched)
			continue;
		if (argv[i][0] == '-' && argv[i][1] != '\0')
			return ctl_usage_error(ctx, "%s: unknown option %s", cmd, argv[i]);
		if (got == npos)
			return ctl_usage_error(ctx, "%s: unexpected argument %s", cmd, argv[i]);
		pos[got++] = argv[i];
	}
	if (got < npos)
		return ctl_usage_error(ctx, "%s: missing argument", cmd);
	return CTL_OK;
}

int ctl_subcommand(struct ctl_ctx *ctx, const char *group, const struct ctl_command *table,
		   size_t n, int argc, char **argv)
{
	if (argc < 2)
		return ctl_usage_error(ctx, "%s: missing subcommand", group);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(argv[1], table[i].name) == 0)
			return table[i].fn(ctx, argc - 1, argv + 1);
	}
	return ctl_usage_error(ctx, "%s: unknown subcommand %s", group, argv[1]);
}

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
	{ "token", ctl_token_main },
};

enum global_result { GLOBAL_OK, GLOBAL_HELP, GLOBAL_USAGE };

/* Global options end at the first word that is not one; *first gets its index. */
static enum global_result parse_globals(struct ctl_ctx *ctx, int argc, char **argv, int *first)
{
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *arg = argv[i];
		int r = 0;

		if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0)
			return GLOBAL_HELP;
		if (strcmp(arg, "--json") == 0) {
			ctx->json = true;
			continue;
		}
		if (strcmp(arg, "--") == 0) {
			i++;
			break;
		}
		r = opt_take(argc, argv, &i, "-c", &ctx->config_path);
		if (r == 0)
			r = opt_take(argc, argv, &i, "--config", &ctx->config_path);
		if (r == 0)
			r = opt_take(argc, argv, &i, "--conninfo", &ctx->conninfo_opt);
		if (r == 0)
			r = opt_take(argc, argv, &i, "--sql-dir", &ctx->sql_dir);
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
