/* SPDX-License-Identifier: Apache-2.0 */
/* ctl_endpoint: "hookgatectl channel|bot|extension endpoint set|show|disable|enable|rotate-secret"
 * (docs/hookgatectl.md, "Destinations"): the handler URL a channel's, bot's or extension's
 * messages are delivered to, with its signing secret. A secret is made here, sealed to its
 * destination and printed once; it is never logged, never shown again, and the old one keeps
 * signing for a day after a rotation. Every change is audited in the transaction making it. */
#include "ctl/ctl.h"
#include "core/crypto.h"
#include "delivery/destination.h"

#include <openssl/crypto.h>

#include <string.h>

struct endpoint_cmd {
	char cmd[48]; /* "bot endpoint set", for usage errors */
	struct ctl_dest dest;
	const char *url; /* set only */
};

/* The module the kind's option picks: bot --messages, extension --env ENV. */
static int endpoint_module(struct ctl_ctx *ctx, const struct endpoint_cmd *ep, const char *kind,
			   bool messages, const char *env, const char **module)
{
	*module = "channel";
	if (strcmp(kind, "bot") == 0)
		*module = messages ? "bot_message" : "bot_incoming";
	if (strcmp(kind, "extension") != 0)
		return CTL_OK;
	if (!env)
		return ctl_usage_error(ctx, "%s: --env sandbox|marketplace is required", ep->cmd);
	if (strcmp(env, "sandbox") == 0)
		*module = "extension_sandbox";
	else if (strcmp(env, "marketplace") == 0)
		*module = "extension_marketplace";
	else
		return ctl_usage_error(ctx, "%s: invalid --env %s: sandbox or marketplace", ep->cmd,
				       env);
	return CTL_OK;
}

/* NAME [URL] and the kind's option (argv[0] is the subcommand) into ep. */
static int endpoint_args(struct ctl_ctx *ctx, const char *kind, int argc, char **argv,
			 bool with_url, struct endpoint_cmd *ep)
{
	bool messages = false;
	const char *env = NULL, *module, *pos[2] = { NULL, NULL };
	const struct ctl_opt bot_opts[] = { { "--messages", NULL, &messages } };
	const struct ctl_opt ext_opts[] = { { "--env", &env, NULL } };
	const struct ctl_opt *opts = strcmp(kind, "bot") == 0 ? bot_opts : ext_opts;
	size_t nopts = strcmp(kind, "channel") == 0 ? 0 : 1;
	int rc;

	memset(ep, 0, sizeof(*ep));
	snprintf(ep->cmd, sizeof(ep->cmd), "%s endpoint %s", kind, argv[0]);
	rc = ctl_args(ctx, ep->cmd, argc - 1, argv + 1, opts, nopts, pos, with_url ? 2 : 1);
	if (rc == CTL_OK)
		rc = endpoint_module(ctx, ep, kind, messages, env, &module);
	if (rc != CTL_OK)
		return rc;
	if (!ctl_dest_init(ctx, &ep->dest, module, pos[0]))
		return CTL_REFUSED;
	ep->url = pos[1];
	if (with_url && !ctl_url_check(ctx, ep->url))
		return CTL_REFUSED;
	return CTL_OK;
}

/* A new signing secret, sealed to its destination (delivery/destination.h). */
static bool secret_make(struct ctl_ctx *ctx, const struct ctl_dest *d, struct destination_secret *s)
{
	struct crypto_keys keys;
	bool ok;

	if (!ctl_load_keys(ctx, &keys))
		return false;
	ok = destination_secret_new(&keys, d->module, d->target, s);
	crypto_keys_wipe(&keys);
	if (!ok)
		ctl_fail(ctx, "cannot generate a signing secret");
	return ok;
}

/* Opens the transaction and checks the channel, bot or extension; false after reporting. */
static bool endpoint_begin(struct ctl_ctx *ctx, struct ctl_dest *d)
{
	if (!ctl_db_open(ctx) || !ctl_db_begin(ctx))
		return ctl_db_fail(ctx), false;
	return ctl_dest_target_exists(ctx, d);
}

static cJSON *dest_details(const struct ctl_dest *d)
{
	cJSON *obj = cJSON_CreateObject();

	cJSON_AddStringToObject(obj, "destination", d->label);
	cJSON_AddStringToObject(obj, "module", d->module);
	cJSON_AddStringToObject(obj, "target", d->target);
	return obj;
}

/* The audit row (details: the destination, never a secret) and the commit. */
static bool endpoint_commit(struct ctl_ctx *ctx, const struct ctl_dest *d, const char *action,
			    cJSON *details)
{
	if (ctl_db_audit(ctx, ctl_dest_owner(d), action, details) && ctl_db_commit(ctx))
		return true;
	ctl_db_fail(ctx);
	return false;
}

/* ---- set ------------------------------------------------------------------------------------ */

/* A new row takes the secret; an existing one changes only its URL. *created says which. */
static bool set_rows(struct ctl_ctx *ctx, struct endpoint_cmd *ep, const char *sealed,
		     bool *created)
{
	const char *params[] = { ep->dest.module, ep->dest.target, ep->url, sealed };
	PGresult *res;

	if (!endpoint_begin(ctx, &ep->dest))
		return false;
	/* sql/005_admin_delivery.sql, as the admin API does it. */
	res = ctl_db_exec(
		ctx,
		"SELECT dest_id, created FROM"
		" hookgate.destination_set($1, $2, $3, $4::bytea) WHERE dest_id IS NOT NULL",
		4, params);
	*created = res && PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 1), "t") == 0;
	if (!res)
		return ctl_db_fail(ctx), false;
	if (PQntuples(res) != 1) { /* deleted between the two statements */
		PQclear(res);
		ctl_db_rollback(ctx);
		return ctl_fail(ctx, "%s changed meanwhile; try again", ep->dest.label), false;
	}
	PQclear(res);

	cJSON *details = dest_details(&ep->dest);

	cJSON_AddStringToObject(details, "url", ep->url);
	cJSON_AddBoolToObject(details, "created", *created);
	return endpoint_commit(ctx, &ep->dest, "destination.set", details);
}

static int endpoint_set(struct ctl_ctx *ctx, const char *kind, int argc, char **argv)
{
	struct endpoint_cmd ep;
	struct destination_secret secret;
	bool created = false;
	int rc = endpoint_args(ctx, kind, argc, argv, true, &ep);

	if (rc != CTL_OK)
		return rc;
	if (!secret_make(ctx, &ep.dest, &secret) ||
	    !set_rows(ctx, &ep, secret.sealed_text, &created))
		rc = CTL_REFUSED;
	if (rc == CTL_OK) {
		cJSON *obj = dest_details(&ep.dest);

		cJSON_AddStringToObject(obj, "url", ep.url);
		cJSON_AddBoolToObject(obj, "created", created);
		if (created)
			cJSON_AddStringToObject(obj, "secret", secret.text);
		rc = ctl_done(ctx, obj, "%s %s: %s%s%s", created ? "created" : "updated",
			      ep.dest.label, ep.url,
			      created ? "\nsigning secret (shown only once):\nsecret: " : "",
			      created ? secret.text : "");
	}
	OPENSSL_cleanse(&secret, sizeof(secret));
	return rc;
}

/* ---- show ----------------------------------------------------------------------------------- */

// clang-format off
static const char show_sql[] =
	"SELECT d.url, CASE WHEN d.enabled THEN 'enabled' ELSE 'disabled' END AS state,"
	" d.disabled_reason, " CTL_SQL_TIME("d.disabled_at") " AS disabled_at,"
	" " CTL_SQL_TIME("d.failing_since") " AS failing_since,"
	" (SELECT count(*) FROM hookgate.delivery_queue q WHERE q.destination_id = d.id) AS queued,"
	" " CTL_SQL_TIME("CASE WHEN d.previous_secret_enc IS NOT NULL AND d.previous_until > now()"
			 " THEN d.previous_until END") " AS previous_secret_until,"
	" " CTL_SQL_TIME("d.created_at") " AS created_at,"
	" " CTL_SQL_TIME("d.updated_at") " AS updated_at"
	" FROM hookgate.destinations d WHERE d.id = $1";
// clang-format on

/* One row as "column: value" lines (NULL as "-"). */
static void print_fields(const struct ctl_dest *d, const PGresult *res)
{
	printf("destination: %s\n", d->label);
	for (int c = 0; c < PQnfields(res); c++)
		printf("%s: %s\n", PQfname(res, c),
		       PQgetisnull(res, 0, c) ? "-" : PQgetvalue(res, 0, c));
}

static int endpoint_show(struct ctl_ctx *ctx, const char *kind, int argc, char **argv)
{
	struct endpoint_cmd ep;
	char id[CTL_ID_LEN];
	const char *params[] = { id };
	int rc = endpoint_args(ctx, kind, argc, argv, false, &ep);

	if (rc != CTL_OK)
		return rc;
	if (!endpoint_begin(ctx, &ep.dest) || !ctl_dest_find(ctx, &ep.dest, id))
		return CTL_REFUSED;

	PGresult *res = ctl_db_exec(ctx, show_sql, 1, params);

	if (!res || PQntuples(res) != 1 || !ctl_db_commit(ctx)) {
		PQclear(res);
		return ctl_db_fail(ctx);
	}
	if (!ctx->json) {
		print_fields(&ep.dest, res);
		PQclear(res);
		return CTL_OK;
	}

	cJSON *rows = ctl_out_rows(res);
	cJSON *obj = cJSON_DetachItemFromArray(rows, 0);

	PQclear(res);
	cJSON_Delete(rows);
	if (obj)
		cJSON_AddStringToObject(obj, "destination", ep.dest.label);
	return ctl_done(ctx, obj, "%s", "");
}

/* ---- disable / enable / rotate-secret ---------------------------------------------------------
 */

struct endpoint_change {
	const char *action;
	const char *done; /* "D <done>" */
	/* $1 = destination id, $2 = the new sealed secret (rotate-secret only); one row back, its
	 * first column (if any) goes into the audit details and the output as detail_key. */
	const char *sql;
	const char *detail_key;
};

/* The changes are sql/005_admin_delivery.sql's functions, which the admin API runs too. */
static const struct endpoint_change change_disable = {
	"destination.disable", "disabled", "SELECT hookgate.destination_disable($1::bigint)",
	"reason"
};

static const struct endpoint_change change_enable = {
	"destination.enable", "enabled", "SELECT hookgate.destination_enable($1::bigint)", "queued"
};

static const struct endpoint_change change_rotate = {
	"destination.rotate_secret", "has a new signing secret",
	"SELECT " CTL_SQL_TIME("hookgate.destination_rotate($1::bigint, $2::bytea)"),
	"previous_secret_until"
};

/* Runs the change and its audit row in one transaction; *detail gets the returned column. */
static bool change_rows(struct ctl_ctx *ctx, const struct endpoint_change *ch, struct ctl_dest *d,
			const char *sealed, char *detail, size_t detail_len)
{
	char id[CTL_ID_LEN];
	const char *params[] = { id, sealed };
	PGresult *res;

	if (!endpoint_begin(ctx, d) || !ctl_dest_find(ctx, d, id))
		return false;
	res = ctl_db_exec(ctx, ch->sql, sealed ? 2 : 1, params);
	if (!res || PQntuples(res) != 1) {
		PQclear(res);
		return ctl_db_fail(ctx), false;
	}
	snprintf(detail, detail_len, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);

	cJSON *details = dest_details(d);

	cJSON_AddStringToObject(details, ch->detail_key, detail);
	return endpoint_commit(ctx, d, ch->action, details);
}

static int endpoint_change(struct ctl_ctx *ctx, const struct endpoint_change *ch, const char *kind,
			   int argc, char **argv)
{
	struct endpoint_cmd ep;
	struct destination_secret secret;
	bool rotate = ch == &change_rotate;
	char detail[64];
	int rc = endpoint_args(ctx, kind, argc, argv, false, &ep);

	memset(&secret, 0, sizeof(secret));
	if (rc == CTL_OK && rotate && !secret_make(ctx, &ep.dest, &secret))
		rc = CTL_REFUSED;
	if (rc == CTL_OK && !change_rows(ctx, ch, &ep.dest, rotate ? secret.sealed_text : NULL,
					 detail, sizeof(detail)))
		rc = CTL_REFUSED;
	if (rc == CTL_OK) {
		cJSON *obj = dest_details(&ep.dest);

		cJSON_AddStringToObject(obj, ch->detail_key, detail);
		if (rotate)
			cJSON_AddStringToObject(obj, "secret", secret.text);
		rc = ctl_done(ctx, obj, "%s %s (%s: %s)%s%s", ep.dest.label, ch->done,
			      ch->detail_key, detail,
			      rotate ? "\nsigning secret (shown only once):\nsecret: " : "",
			      rotate ? secret.text : "");
	}
	OPENSSL_cleanse(&secret, sizeof(secret));
	return rc;
}

int ctl_endpoint_main(struct ctl_ctx *ctx, const char *kind, int argc, char **argv)
{
	static const char *const subs[] = { "set", "show", "disable", "enable", "rotate-secret" };
	static const struct endpoint_change *const changes[] = { NULL, NULL, &change_disable,
								 &change_enable, &change_rotate };
	char group[32];

	snprintf(group, sizeof(group), "%s endpoint", kind);
	if (argc < 2)
		return ctl_usage_error(ctx, "%s: missing subcommand", group);
	if (strcmp(argv[1], subs[0]) == 0)
		return endpoint_set(ctx, kind, argc - 1, argv + 1);
	if (strcmp(argv[1], subs[1]) == 0)
		return endpoint_show(ctx, kind, argc - 1, argv + 1);
	for (size_t i = 2; i < sizeof(subs) / sizeof(subs[0]); i++) {
		if (strcmp(argv[1], subs[i]) == 0)
			return endpoint_change(ctx, changes[i], kind, argc - 1, argv + 1);
	}
	return ctl_usage_error(ctx, "%s: unknown subcommand %s", group, argv[1]);
}
