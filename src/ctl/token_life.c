/* SPDX-License-Identifier: Apache-2.0 */
/* ctl_token_life: "hookgatectl token rotate|limit" (docs/hookgatectl.md): a new secret with a
 * grace period for the old one, and a token's expiry, networks and targets. Both go through the
 * functions of sql/009_token_lifecycle.sql, as the admin API does, which check the values and
 * write the audit rows (actor hookgatectl). */
#include "ctl/ctl.h"
#include "core/config.h"
#include "core/token.h"

#include <openssl/crypto.h>

#include <stdio.h>
#include <string.h>

#define GRACE_MAX_MS (7LL * 24 * 3600 * 1000)

/* A data exception (SQLSTATE class 22) is the value's fault: its message, not a database
 * failure. */
static int db_refusal(struct ctl_ctx *ctx)
{
	if (strncmp(ctx->sqlstate, "22", 2) == 0) {
		ctl_db_rollback(ctx);
		return ctl_fail(ctx, "%s", ctx->db_error);
	}
	return ctl_db_fail(ctx);
}

static int rotate_run(struct ctl_ctx *ctx, const char *id, int64_t grace_ms)
{
	struct crypto_keys keys;
	struct token_new nt;
	char grace[40];
	PGresult *res;
	bool ok;

	if (!ctl_load_keys(ctx, &keys))
		return CTL_REFUSED;
	ok = token_new_secret(&keys, id, &nt);
	crypto_keys_wipe(&keys);
	if (!ok)
		return ctl_fail(ctx, "cannot generate a token");
	snprintf(grace, sizeof(grace), "%lld milliseconds", (long long)grace_ms);
	const char *params[] = { id, nt.stored.hash_text, nt.stored.sealed_text, grace };
	res = ctl_db_open(ctx)
		      ? ctl_db_exec(ctx,
				    "SELECT generation, previous_until FROM"
				    " hookgate.rotate_token($1, NULL, $2::bytea, $3::bytea,"
				    " $4::interval, 'hookgatectl', NULL)",
				    4, params)
		      : NULL;
	if (!res) {
		OPENSSL_cleanse(&nt, sizeof(nt));
		return ctx->conn ? db_refusal(ctx) : CTL_REFUSED;
	}
	if (PQntuples(res) != 1) {
		PQclear(res);
		OPENSSL_cleanse(&nt, sizeof(nt));
		return ctl_fail(ctx, "no such token");
	}
	cJSON *obj = cJSON_CreateObject();
	cJSON_AddStringToObject(obj, "id", id);
	cJSON_AddNumberToObject(obj, "generation", atoi(PQgetvalue(res, 0, 0)));
	cJSON_AddStringToObject(obj, "secret", nt.secret);
	int rc = ctl_done(ctx, obj, "rotated token %s (generation %s; shown only once):\n%s", id,
			  PQgetvalue(res, 0, 0), nt.secret);
	PQclear(res);
	OPENSSL_cleanse(&nt, sizeof(nt));
	return rc;
}

int ctl_token_rotate(struct ctl_ctx *ctx, int argc, char **argv)
{
	const char *grace = NULL, *id;
	const struct ctl_opt opts[] = { { "--grace", &grace, NULL } };
	int64_t ms = 0;
	int rc = ctl_args(ctx, "token rotate", argc - 1, argv + 1, opts, 1, &id, 1);

	if (rc != CTL_OK)
		return rc;
	if (grace && (!cfg_parse_duration(grace, &ms) || ms > GRACE_MAX_MS))
		return ctl_usage_error(ctx, "token rotate: --grace is a duration from 0 to 7d");
	/* Never echo the argument: someone may have pasted a token instead of its public id. */
	if (!token_public_id_valid(id))
		return ctl_fail(ctx, "no such token");
	return rotate_run(ctx, id, ms);
}

/* "a,b" -> "{a,b}", "none" -> NULL (no limit); false when it would need quoting. */
static bool list_param(const char *arg, char *out, size_t len, const char **param)
{
	if (strcmp(arg, "none") == 0) {
		*param = NULL;
		return true;
	}
	if (*arg == '\0' || strpbrk(arg, "{}\"\\ '") || strlen(arg) + 3 > len)
		return false;
	snprintf(out, len, "{%s}", arg);
	*param = out;
	return true;
}

int ctl_token_limit(struct ctl_ctx *ctx, int argc, char **argv)
{
	const char *expires = NULL, *nets = NULL, *targets = NULL, *id, *pn = NULL, *pt = NULL;
	const struct ctl_opt opts[] = { { "--expires", &expires, NULL },
					{ "--networks", &nets, NULL },
					{ "--targets", &targets, NULL } };
	char nbuf[2048], tbuf[2048], max[40];
	int rc = ctl_args(ctx, "token limit", argc - 1, argv + 1, opts, 3, &id, 1);

	if (rc != CTL_OK)
		return rc;
	if (!expires && !nets && !targets)
		return ctl_usage_error(ctx, "token limit: give --expires, --networks and/or "
					    "--targets");
	if ((nets && !list_param(nets, nbuf, sizeof(nbuf), &pn)) ||
	    (targets && !list_param(targets, tbuf, sizeof(tbuf), &pt)))
		return ctl_usage_error(ctx, "token limit: a list is comma-separated, or none");
	if (!token_public_id_valid(id))
		return ctl_fail(ctx, "no such token");
	if (!ctl_db_open(ctx))
		return CTL_REFUSED;
	snprintf(max, sizeof(max), "%lld milliseconds",
		 ctx->have_cfg ? (long long)ctx->cfg.max_token_lifetime_ms : 0LL);
	const char *params[] = { id,
				 expires ? "true" : "false",
				 expires && strcmp(expires, "none") != 0 ? expires : NULL,
				 nets ? "true" : "false",
				 pn,
				 targets ? "true" : "false",
				 pt,
				 ctx->have_cfg && ctx->cfg.max_token_lifetime_ms > 0 ? max : NULL };
	PGresult *res = ctl_db_exec(ctx,
				    "SELECT limits::text FROM hookgate.set_token_limits($1, NULL,"
				    " $2::boolean, $3::timestamptz, $4::boolean, $5::cidr[],"
				    " $6::boolean, $7::text[], 'hookgatectl', NULL, $8::interval)",
				    8, params);
	if (!res)
		return db_refusal(ctx);
	if (PQntuples(res) != 1) {
		PQclear(res);
		return ctl_fail(ctx, "no such token");
	}
	cJSON *obj = cJSON_Parse(PQgetvalue(res, 0, 0));
	rc = ctl_done(ctx, obj ? obj : cJSON_CreateObject(), "token %s: %s", id,
		      PQgetvalue(res, 0, 0));
	PQclear(res);
	return rc;
}
