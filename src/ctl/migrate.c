/* SPDX-License-Identifier: Apache-2.0 */
/* ctl_migrate: "hookgatectl migrate" (docs/schema.md, "Migrations"). Applies the sql/NNN_name.sql
 * files not yet recorded in hookgate.schema_migrations, in order, each in one transaction with its
 * record; a session advisory lock makes concurrent runs take turns, so running it twice is
 * harmless. "migrate --check" only reads: it names the files not applied yet and changes nothing.
 */
#if !defined(_GNU_SOURCE) && !defined(_DEFAULT_SOURCE)
#define _DEFAULT_SOURCE /* scandir, alphasort */
#endif

#include "ctl/ctl.h"
#include "core/crypto.h"
#include "lib/encoding.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* "hookgate" in ASCII: the advisory lock key every hookgatectl migrate agrees on. */
#define MIGRATE_LOCK_SQL "SELECT pg_advisory_lock(7525356009446012005)"
#define MIGRATE_MAX_FILE (16 * 1024 * 1024)
#define MIGRATE_RECORDED_SQL "SELECT version, sha256 FROM hookgate.schema_migrations"

static const char setup_sql[] = "CREATE SCHEMA IF NOT EXISTS hookgate;"
				"CREATE TABLE IF NOT EXISTS hookgate.schema_migrations ("
				" version integer PRIMARY KEY,"
				" name text NOT NULL,"
				" sha256 text NOT NULL,"
				" applied_at timestamptz NOT NULL DEFAULT now())";

/* NNN_name.sql with a name of letters, digits, '_' and '-'. */
static int migration_file(const struct dirent *de)
{
	const char *n = de->d_name;
	size_t len = strlen(n);

	if (len < 9 || strcmp(n + len - 4, ".sql") != 0 || n[3] != '_')
		return 0;
	for (size_t i = 0; i < len - 4; i++) {
		unsigned char c = (unsigned char)n[i];

		if (i < 3 ? (c < '0' || c > '9')
			  : !(c == '_' || c == '-' || (c >= '0' && c <= '9') ||
			      (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
			return 0;
	}
	return 1;
}

static char *read_file(struct ctl_ctx *ctx, const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0;

	if (!f) {
		ctl_fail(ctx, "cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	buf = malloc(MIGRATE_MAX_FILE + 1);
	if (buf)
		len = fread(buf, 1, MIGRATE_MAX_FILE + 1, f);
	if (!buf || ferror(f) || len > MIGRATE_MAX_FILE || memchr(buf, '\0', len)) {
		ctl_fail(ctx, "cannot read %s: %s", path,
			 !buf			  ? "out of memory"
			 : ferror(f)		  ? strerror(errno)
			 : len > MIGRATE_MAX_FILE ? "file too large"
						  : "contains a NUL byte");
		free(buf);
		buf = NULL;
	} else {
		buf[len] = '\0';
	}
	fclose(f);
	return buf;
}

/* The recorded sha256 of version, "" if recorded without one, NULL if not recorded. */
static const char *recorded_sha(const PGresult *done, int version)
{
	for (int r = 0; r < PQntuples(done); r++) {
		if (atoi(PQgetvalue(done, r, 0)) == version)
			return PQgetvalue(done, r, 1);
	}
	return NULL;
}

static bool apply_one(struct ctl_ctx *ctx, const char *name, int version, const char *sql,
		      const char *sha)
{
	char vtext[16];
	const char *params[] = { vtext, name, sha };

	snprintf(vtext, sizeof(vtext), "%d", version);
	if (!ctl_db_begin(ctx) || !ctl_db_script(ctx, sql) ||
	    !ctl_db_run(ctx,
			"INSERT INTO hookgate.schema_migrations (version, name, sha256)"
			" VALUES ($1, $2, $3)",
			3, params) ||
	    !ctl_db_commit(ctx)) {
		ctl_db_rollback(ctx);
		ctl_fail(ctx, "%s: %s", name, ctx->db_error);
		return false;
	}
	return true;
}

/* Applies name unless recorded; a recorded file that changed since only earns a warning. */
/* What a migration's checksum covers: all but a first line naming its licence, which says
 * nothing of what it does (adding that line did not change the migrations applied before). */
static const char *migration_body(const char *sql)
{
	static const char spdx[] = "-- SPDX-License-Identifier:";
	const char *nl = strchr(sql, '\n');
	if (strncmp(sql, spdx, sizeof(spdx) - 1) == 0 && nl != NULL)
		return nl + 1;
	return sql;
}

static bool migrate_file(struct ctl_ctx *ctx, const PGresult *done, const char *name,
			 cJSON *applied)
{
	char path[4096];
	unsigned char digest[CRYPTO_HASH_LEN];
	char sha[2 * CRYPTO_HASH_LEN + 1];
	int version = atoi(name);
	const char *was;
	char *sql;
	bool ok = true;

	snprintf(path, sizeof(path), "%s/%s", ctx->sql_dir, name);
	sql = read_file(ctx, path);
	if (!sql)
		return false;
	const char *body = migration_body(sql);
	crypto_sha256(body, strlen(body), digest);
	hex_encode(digest, sizeof(digest), sha);
	was = recorded_sha(done, version);
	if (was && strcmp(was, sha) != 0)
		ctl_warn("%s differs from the version %d applied before (sha256 %s, now %s); "
			 "not applied again",
			 name, version, was, sha);
	if (!was) {
		ok = apply_one(ctx, name, version, sql, sha);
		if (ok)
			cJSON_AddItemToArray(applied, cJSON_CreateString(name));
		if (ok && !ctx->json)
			printf("applied %s\n", name);
	}
	free(sql);
	return ok;
}

static bool list_files(struct ctl_ctx *ctx, struct dirent ***files, int *n)
{
	*n = scandir(ctx->sql_dir, files, migration_file, alphasort);
	if (*n < 0) {
		ctl_fail(ctx, "cannot read migrations directory %s: %s", ctx->sql_dir,
			 strerror(errno));
		return false;
	}
	for (int i = 1; i < *n; i++) {
		if (atoi((*files)[i]->d_name) == atoi((*files)[i - 1]->d_name)) {
			ctl_fail(ctx, "%s and %s have the same version number",
				 (*files)[i - 1]->d_name, (*files)[i]->d_name);
			return false;
		}
	}
	return true;
}

static int migrate_all(struct ctl_ctx *ctx, struct dirent **files, int n)
{
	PGresult *done = ctl_db_exec(ctx, MIGRATE_RECORDED_SQL, 0, NULL);
	cJSON *applied = cJSON_CreateArray();
	int rc = CTL_OK;

	if (!done)
		rc = ctl_db_fail(ctx);
	for (int i = 0; rc == CTL_OK && i < n; i++) {
		if (!migrate_file(ctx, done, files[i]->d_name, applied))
			rc = CTL_REFUSED;
	}
	PQclear(done);
	if (rc != CTL_OK) {
		cJSON_Delete(applied);
		return rc;
	}

	PGresult *ver = ctl_db_exec(ctx,
				    "SELECT coalesce(max(version), 0)::int"
				    " FROM hookgate.schema_migrations",
				    0, NULL);
	if (!ver) {
		cJSON_Delete(applied);
		return ctl_db_fail(ctx);
	}
	int version = atoi(PQgetvalue(ver, 0, 0));
	int count = cJSON_GetArraySize(applied);
	cJSON *obj = cJSON_CreateObject();

	PQclear(ver);
	cJSON_AddItemToObject(obj, "applied", applied);
	cJSON_AddNumberToObject(obj, "version", version);
	if (count > 0)
		return ctl_done(ctx, obj, "schema at version %d", version);
	return ctl_done(ctx, obj, "nothing to do, schema at version %d", version);
}

/* The highest version recorded in done, 0 when done is NULL (nothing ever migrated). */
static int recorded_version(const PGresult *done)
{
	int version = 0;

	for (int r = 0; done && r < PQntuples(done); r++) {
		if (atoi(PQgetvalue(done, r, 0)) > version)
			version = atoi(PQgetvalue(done, r, 0));
	}
	return version;
}

/* "migrate --check": no lock and no setup_sql, so it creates nothing and never waits for a
 * running migrate. A database without the schema or the table has every file pending, as the
 * daemon's own check sees it. */
static int migrate_check(struct ctl_ctx *ctx, struct dirent **files, int n)
{
	PGresult *done = ctl_db_exec(ctx, MIGRATE_RECORDED_SQL, 0, NULL);
	cJSON *pending, *obj;
	char names[1024] = "";
	size_t len = 0;

	if (!done && !ctl_db_failed_with(ctx, "42P01") && !ctl_db_failed_with(ctx, "3F000"))
		return ctl_db_fail(ctx);
	pending = cJSON_CreateArray();
	for (int i = 0; i < n; i++) {
		const char *name = files[i]->d_name;

		if (done && recorded_sha(done, atoi(name)))
			continue;
		cJSON_AddItemToArray(pending, cJSON_CreateString(name));
		if (len < sizeof(names))
			len += (size_t)snprintf(names + len, sizeof(names) - len, "%s%s",
						len ? " " : "", name);
	}
	int version = recorded_version(done);

	PQclear(done);
	if (cJSON_GetArraySize(pending) > 0) {
		cJSON_Delete(pending);
		return ctl_fail(ctx, "schema at version %d, pending migrations: %s", version,
				names);
	}
	obj = cJSON_CreateObject();
	cJSON_AddItemToObject(obj, "pending", pending);
	cJSON_AddNumberToObject(obj, "version", version);
	return ctl_done(ctx, obj, "schema current at version %d", version);
}

int ctl_migrate_main(struct ctl_ctx *ctx, int argc, char **argv)
{
	struct dirent **files = NULL;
	int n = 0;
	bool check = false;
	const struct ctl_opt opts[] = { { "--check", NULL, &check } };
	int rc = ctl_args(ctx, "migrate", argc - 1, argv + 1, opts, 1, NULL, 0);

	if (rc != CTL_OK)
		return rc;
	if (!list_files(ctx, &files, &n))
		rc = CTL_REFUSED;
	else if (!ctl_db_open(ctx))
		rc = CTL_REFUSED;
	else if (check)
		rc = migrate_check(ctx, files, n);
	else if (!ctl_db_run(ctx, MIGRATE_LOCK_SQL, 0, NULL) || !ctl_db_script(ctx, setup_sql))
		rc = ctl_db_fail(ctx);
	else
		rc = migrate_all(ctx, files, n);
	for (int i = 0; i < n; i++)
		free(files[i]);
	free(files);
	return rc;
}
