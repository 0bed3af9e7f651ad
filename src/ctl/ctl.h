/* SPDX-License-Identifier: Apache-2.0 */
/* ctl: the modules of hookgatectl (docs/hookgatectl.md). main.c owns the global options and
 * dispatch; args.c the words after them (options, positional arguments, subcommand tables);
 * db.c the blocking libpq connection; out.c everything printed (text vs --json output, error
 * reporting, the usage); dest.c how a delivery destination is named and its URL rule; migrate.c,
 * user.c, module.c, token.c, endpoint.c and delivery.c the commands themselves. The calls go one
 * way, down this list: main.c calls the commands, the commands call args.c, db.c and out.c
 * (module.c and token.c also user.c's look-up; module.c endpoint.c; endpoint.c and delivery.c
 * dest.c, which calls module.c's name rule), args.c and db.c call out.c, and out.c calls none of
 * them. */
#ifndef HG_CTL_H
#define HG_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <cjson/cJSON.h>
#include <libpq-fe.h>

#include "core/config.h"
#include "core/crypto.h"
#include "core/module.h"

/* Exit statuses of docs/hookgatectl.md. */
enum ctl_status { CTL_OK = 0, CTL_REFUSED = 1, CTL_USAGE = 2 };

struct ctl_ctx {
	const char *config_path;  /* -c FILE, or the default when --conninfo is not given */
	const char *conninfo_opt; /* --conninfo STR; then no config file and no keys */
	const char *sql_dir;
	bool json;
	bool reported; /* an error was printed; never print a second one */
	bool have_cfg;
	struct hg_config cfg;
	PGconn *conn;
	char sqlstate[6];   /* of the last failed statement, "" if none */
	char db_error[512]; /* its primary message (never parameters or details) */
};

/* A command: argv[0] is the command word itself, like main's. */
typedef int (*ctl_command_fn)(struct ctl_ctx *ctx, int argc, char **argv);
struct ctl_command {
	const char *name;
	ctl_command_fn fn;
};

/* An option taking a value ("--title T" or "--title=T"); *value stays NULL when absent. With
 * value NULL and flag set, a flag without a value ("--messages"): *flag becomes true. */
struct ctl_opt {
	const char *name;
	const char **value;
	bool *flag;
};

/* args.c */
/* Takes the value of option name ("--name VALUE" or "--name=VALUE") at argv[*i] into *value;
 * returns 1 if it matched (*i then at the value's word), 0 if not, -1 when the value is missing. */
int ctl_opt_take(int argc, char **argv, int *i, const char *name, const char **value);
/* A name or title given on the command line: valid UTF-8, 1 to max_chars characters, no
 * control characters (lib/text.h); otherwise reports "invalid WHAT: ..." and returns false. */
bool ctl_text_arg(struct ctl_ctx *ctx, const char *what, const char *text, int max_chars);
/* Runs the entry of table named argv[1]; group names the command in usage errors. */
int ctl_subcommand(struct ctl_ctx *ctx, const char *group, const struct ctl_command *table,
		   size_t n, int argc, char **argv);
/* Splits argv (the words after the command) into exactly npos positional arguments and the
 * options; reports a usage error naming cmd and returns CTL_USAGE on anything else. */
int ctl_args(struct ctl_ctx *ctx, const char *cmd, int argc, char **argv,
	     const struct ctl_opt *opts, size_t nopts, const char **pos, size_t npos);

/* out.c */
void ctl_print_usage(FILE *out);
/* "hookgatectl: reason" on stderr (and {"error":reason} on stdout with --json); CTL_REFUSED. */
int ctl_fail(struct ctl_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same followed by a hint to --help (not the whole usage); CTL_USAGE. */
int ctl_usage_error(struct ctl_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void ctl_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Success: prints obj with --json, else the text line; takes ownership of obj. CTL_OK. */
int ctl_done(struct ctl_ctx *ctx, cJSON *obj, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Prints obj (--json) and frees it; false if it could not be printed. */
bool ctl_out_json(struct ctl_ctx *ctx, cJSON *obj);
/* Rows as JSON objects keyed by column name (bool and integer columns typed, NULL as null). */
cJSON *ctl_out_rows(const PGresult *res);
/* Rows as an aligned text table with a header line (NULL as "-", booleans as yes/no). */
void ctl_out_table(const PGresult *res);
/* A listing: the table, or with --json obj (a new object when NULL) with the rows under key.
 * Takes res and obj; CTL_OK. */
int ctl_out_listing(struct ctl_ctx *ctx, PGresult *res, cJSON *obj, const char *key);

/* db.c */
/* SQL expression rendering a timestamptz as an RFC 3339 UTC string (NULL stays NULL). */
#define CTL_SQL_TIME(col) "to_char((" col ") AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
#define CTL_SQLSTATE_UNIQUE "23505"
#define CTL_ID_LEN 24 /* a bigint as text */

/* Loads the config file (unless --conninfo) and connects; reports the failure. */
bool ctl_db_open(struct ctl_ctx *ctx);
void ctl_db_close(struct ctl_ctx *ctx);
/* One parameterized statement, text parameters (NULL = SQL NULL). NULL on failure, with the
 * SQLSTATE and message kept in ctx; nothing is printed. */
PGresult *ctl_db_exec(struct ctl_ctx *ctx, const char *sql, int nparams, const char *const *params);
bool ctl_db_run(struct ctl_ctx *ctx, const char *sql, int nparams, const char *const *params);
/* A multi-statement script without parameters (migrations only: they hold no user data). */
bool ctl_db_script(struct ctl_ctx *ctx, const char *sql);
bool ctl_db_begin(struct ctl_ctx *ctx);
bool ctl_db_commit(struct ctl_ctx *ctx);
/* Rolls back the open transaction, if any (before a refusal of the caller's own wording). */
void ctl_db_rollback(struct ctl_ctx *ctx);
/* Rolls back and reports the last database error; CTL_REFUSED. */
int ctl_db_fail(struct ctl_ctx *ctx);
bool ctl_db_failed_with(const struct ctl_ctx *ctx, const char *sqlstate);
/* Runs a one-parameter query expected to return one row whose first column is an id; with no
 * row reports "no such WHAT: KEY". */
bool ctl_db_lookup(struct ctl_ctx *ctx, const char *sql, const char *key, const char *what,
		   char id[CTL_ID_LEN]);
/* An audit_log row (actor 'hookgatectl'); details is serialized and freed. user_id may be NULL. */
bool ctl_db_audit(struct ctl_ctx *ctx, const char *user_id, const char *action, cJSON *details);
/* The keys of the config's secret_key_file; refused under --conninfo. */
bool ctl_load_keys(struct ctl_ctx *ctx, struct crypto_keys *keys);

/* migrate.c */
int ctl_migrate_main(struct ctl_ctx *ctx, int argc, char **argv);

/* user.c */
int ctl_user_main(struct ctl_ctx *ctx, int argc, char **argv);
/* Lowercases login in place and checks it against the users.login rule; reports. */
bool ctl_user_login_valid(struct ctl_ctx *ctx, char *login);
/* The id of the user with this login (lowercased in place); reports "no such user". */
bool ctl_user_lookup(struct ctl_ctx *ctx, char *login, char id[CTL_ID_LEN]);

/* module.c */
/* Lowercases arg into out (MODULE_NAME_MAX + 1 bytes) and checks the name rule of channels,
 * bots and extensions (kind names it in the error); reports. */
bool ctl_module_name(struct ctl_ctx *ctx, const char *kind, const char *arg, char *out);
int ctl_channel_main(struct ctl_ctx *ctx, int argc, char **argv);
int ctl_bot_main(struct ctl_ctx *ctx, int argc, char **argv);
int ctl_extension_main(struct ctl_ctx *ctx, int argc, char **argv);

/* dest.c: a delivery destination as the command line names it. */
struct ctl_dest {
	const char *module; /* hookgate.destinations.module: "channel", "bot_incoming", ... */
	const char *kind;   /* what the target names: "channel", "bot" or "extension" */
	char target[MODULE_NAME_MAX + 1]; /* lowercased name, or "*" (module channel only) */
	char label[MODULE_NAME_MAX + 32]; /* the --destination form: "extension:NAME:sandbox" */
	char owner_id[CTL_ID_LEN]; /* after ctl_dest_target_exists: the bot's or extension's */
};
/* The --destination form of a destinations row aliased alias, in SQL. */
#define CTL_SQL_DEST_LABEL(alias)                                                                  \
	"CASE " alias ".module WHEN 'channel' THEN 'channel:' || " alias ".target"                 \
	" WHEN 'bot_incoming' THEN 'bot:' || " alias ".target"                                     \
	" WHEN 'bot_message' THEN 'bot_message:' || " alias ".target"                              \
	" WHEN 'extension_sandbox' THEN 'extension:' || " alias ".target || ':sandbox'"            \
	" ELSE 'extension:' || " alias ".target || ':marketplace' END"
/* module is a destinations.module value, name a channel, bot or extension name ("*" for the
 * channel module); reports an invalid name. */
bool ctl_dest_init(struct ctl_ctx *ctx, struct ctl_dest *d, const char *module, const char *name);
/* A --destination spec: CTL_OK, or CTL_USAGE / CTL_REFUSED after reporting. */
int ctl_dest_parse(struct ctl_ctx *ctx, const char *spec, struct ctl_dest *d);
/* Inside an open transaction: the channel, bot or extension exists (fills owner_id); else
 * rolls back and reports "no such bot: NAME". */
bool ctl_dest_target_exists(struct ctl_ctx *ctx, struct ctl_dest *d);
/* The owner's user id for audit rows, NULL for channels. */
const char *ctl_dest_owner(const struct ctl_dest *d);
/* The destination's row id; else rolls back and reports "no destination for D". */
bool ctl_dest_find(struct ctl_ctx *ctx, const struct ctl_dest *d, char id[CTL_ID_LEN]);
/* The handler URL rule of delivery/destination.h; reports "invalid URL: why" (without the
 * URL). */
bool ctl_url_check(struct ctl_ctx *ctx, const char *url);

/* endpoint.c: "channel|bot|extension endpoint ..."; kind is the command word. */
int ctl_endpoint_main(struct ctl_ctx *ctx, const char *kind, int argc, char **argv);

/* delivery.c */
int ctl_delivery_main(struct ctl_ctx *ctx, int argc, char **argv);

/* token.c */
int ctl_token_main(struct ctl_ctx *ctx, int argc, char **argv);
/* token_life.c */
int ctl_token_rotate(struct ctl_ctx *ctx, int argc, char **argv);
int ctl_token_limit(struct ctl_ctx *ctx, int argc, char **argv);

#endif
