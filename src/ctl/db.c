/* SPDX-License-Identifier: Apache-2.0 */
/* ctl_db: hookgatectl's one blocking libpq connection. A CLI waits for its answer anyway, so
 * plain PQexecParams is right here (the daemon uses the asynchronous pg/db instead).
 * Statement errors are kept (SQLSTATE + primary message) for the caller to map or report. */
#include "ctl/ctl.h"

#include <string.h>

static void first_line(const char *msg, char *out, size_t outlen)
{
	size_t len = strcspn(msg, "\n");

	if (len >= outlen)
		len = outlen - 1;
	memcpy(out, msg, len);
	out[len] = '\0';
}

static bool load_config(struct ctl_ctx *ctx)
{
	char err[512];

	if (ctx->have_cfg || ctx->conninfo_opt)
		return true;
	if (!cfg_load(ctx->config_path, &ctx->cfg, err, sizeof(err))) {
		ctl_fail(ctx, "%s", err);
		return false;
	}
	ctx->have_cfg = true;
	return true;
}

bool ctl_db_open(struct ctl_ctx *ctx)
{
	const char *keys[] = { "dbname", "fallback_application_name", NULL };
	const char *values[] = { NULL, "hookgatectl", NULL };
	char msg[512];

	if (ctx->conn)
		return true;
	if (!load_config(ctx))
		return false;
	values[0] = ctx->conninfo_opt ? ctx->conninfo_opt : ctx->cfg.conninfo;
	ctx->conn = PQconnectdbParams(keys, values, 1);
	if (!ctx->conn || PQstatus(ctx->conn) != CONNECTION_OK) {
		first_line(ctx->conn ? PQerrorMessage(ctx->conn) : "out of memory", msg,
			   sizeof(msg));
		ctl_fail(ctx, "%s", msg);
		return false;
	}
	/* Keep "already exists, skipping" notices of the migrations off the terminal. */
	if (!ctl_db_run(ctx, "SET client_min_messages = warning", 0, NULL)) {
		ctl_db_fail(ctx);
		return false;
	}
	return true;
}

void ctl_db_close(struct ctl_ctx *ctx)
{
	if (ctx->conn)
		PQfinish(ctx->conn);
	ctx->conn = NULL;
}

static void keep_error(struct ctl_ctx *ctx, const PGresult *res)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;

	snprintf(ctx->sqlstate, sizeof(ctx->sqlstate), "%s", state ? state : "");
	/* The primary message only: DETAIL may quote key values (hashes, names). */
	first_line(primary ? primary : PQerrorMessage(ctx->conn), ctx->db_error,
		   sizeof(ctx->db_error));
	if (ctx->db_error[0] == '\0')
		snprintf(ctx->db_error, sizeof(ctx->db_error), "database error");
}

static bool result_ok(struct ctl_ctx *ctx, PGresult *res)
{
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return true;
	keep_error(ctx, res);
	return false;
}

PGresult *ctl_db_exec(struct ctl_ctx *ctx, const char *sql, int nparams, const char *const *params)
{
	PGresult *res = PQexecParams(ctx->conn, sql, nparams, NULL, params, NULL, NULL, 0);

	if (result_ok(ctx, res))
		return res;
	PQclear(res);
	return NULL;
}

bool ctl_db_run(struct ctl_ctx *ctx, const char *sql, int nparams, const char *const *params)
{
	PGresult *res = ctl_db_exec(ctx, sql, nparams, params);

	PQclear(res);
	return res != NULL;
}

bool ctl_db_script(struct ctl_ctx *ctx, const char *sql)
{
	PGresult *res = PQexec(ctx->conn, sql);
	bool ok = result_ok(ctx, res);

	PQclear(res);
	return ok;
}

bool ctl_db_begin(struct ctl_ctx *ctx)
{
	return ctl_db_run(ctx, "BEGIN", 0, NULL);
}

bool ctl_db_commit(struct ctl_ctx *ctx)
{
	return ctl_db_run(ctx, "COMMIT", 0, NULL);
}

void ctl_db_rollback(struct ctl_ctx *ctx)
{
	PGTransactionStatusType ts = ctx->conn ? PQtransactionStatus(ctx->conn) : PQTRANS_UNKNOWN;

	if (ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR)
		PQclear(PQexec(ctx->conn, "ROLLBACK"));
}

int ctl_db_fail(struct ctl_ctx *ctx)
{
	ctl_db_rollback(ctx);
	return ctl_fail(ctx, "%s", ctx->db_error[0] ? ctx->db_error : "database error");
}

bool ctl_db_failed_with(const struct ctl_ctx *ctx, const char *sqlstate)
{
	return strcmp(ctx->sqlstate, sqlstate) == 0;
}

bool ctl_db_lookup(struct ctl_ctx *ctx, const char *sql, const char *key, const char *what,
		   char id[CTL_ID_LEN])
{
	const char *params[] = { key };
	PGresult *res = ctl_db_exec(ctx, sql, 1, params);

	if (!res) {
		ctl_db_fail(ctx);
		return false;
	}
	if (PQntuples(res) != 1) {
		PQclear(res);
		ctl_fail(ctx, "no such %s: %s", what, key);
		return false;
	}
	snprintf(id, CTL_ID_LEN, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return true;
}

bool ctl_db_audit(struct ctl_ctx *ctx, const char *user_id, const char *action, cJSON *details)
{
	char *text = details ? cJSON_PrintUnformatted(details) : NULL;
	const char *params[] = { user_id, action, text };
	bool ok;

	cJSON_Delete(details);
	if (!text) {
		snprintf(ctx->db_error, sizeof(ctx->db_error), "out of memory");
		ctx->sqlstate[0] = '\0';
		return false;
	}
	ok = ctl_db_run(ctx,
			"INSERT INTO hookgate.audit_log (user_id, actor, action, details)"
			" VALUES ($1, 'hookgatectl', $2, $3::jsonb)",
			3, params);
	cJSON_free(text);
	return ok;
}

bool ctl_load_keys(struct ctl_ctx *ctx, struct crypto_keys *keys)
{
	char err[512];

	if (ctx->conninfo_opt) {
		ctl_fail(ctx,
			 "this command needs the secret key file: use -c FILE, not --conninfo");
		return false;
	}
	if (!load_config(ctx))
		return false;
	if (!crypto_load_keys(ctx->cfg.secret_key_file, keys, err, sizeof(err))) {
		ctl_fail(ctx, "%s", err);
		return false;
	}
	return true;
}
