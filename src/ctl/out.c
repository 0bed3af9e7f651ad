/* SPDX-License-Identifier: Apache-2.0 */
/* ctl_out: everything hookgatectl prints, the usage text included. Errors are one line on stderr
 * ("hookgatectl: reason"); with --json, stdout carries exactly one JSON object: the result or
 * {"error": reason}. It calls no other module of hookgatectl, so every one of them may call it. */
#include "ctl/ctl.h"
#include "lib/utf8.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
	"usage: hookgatectl [-c FILE | --conninfo STR] [--json] [--sql-dir DIR] COMMAND ...\n"
	"\n"
	"global options (before the command):\n"
	"  -c, --config FILE   configuration file (default " HG_SYSCONF_DIR "/hookgate.conf)\n"
	"  --conninfo STR      connect with this libpq string instead (no secret key: token\n"
	"                      create, extension add, endpoint set and rotate-secret need -c)\n"
	"  --json              print one JSON object\n"
	"  --sql-dir DIR       migrations directory (default " HG_SQL_DIR
	"; $HOOKGATE_SQL_DIR wins)\n"
	"  -h, --help          this text\n"
	"  -V, --version       print the version\n"
	"\n"
	"commands:\n"
	"  keygen FILE                          write a new secret key file (mode 0600)\n"
	"  migrate                              apply pending schema migrations\n"
	"  user add LOGIN [--display-name NAME] create a user; password = first line of stdin\n"
	"  user list\n"
	"  user reset-2fa LOGIN                 forget the second factor; enroll again at login\n"
	"  user unlock LOGIN                    clear a login lockout\n"
	"  user disable|enable LOGIN           refuse (or allow again) the user's tokens and "
	"sign-in\n"
	"  user delete LOGIN                    delete the user's tokens and access; history "
	"stays\n"
	"  user grant-admin|revoke-admin LOGIN  the organisation role of the admin API\n"
	"  channel add NAME [--title T]\n"
	"  channel member add NAME LOGIN\n"
	"  bot add NAME --owner LOGIN\n"
	"  bot subscribe NAME LOGIN\n"
	"  extension add NAME --owner LOGIN     create sandbox and marketplace app ids + appkeys\n"
	"  bot endpoint set NAME URL [--messages]   a new destination's secret is shown once\n"
	"  bot endpoint show|disable|enable|rotate-secret NAME [--messages]\n"
	"  extension endpoint set NAME URL --env sandbox|marketplace\n"
	"  extension endpoint show|disable|enable|rotate-secret NAME --env ENV\n"
	"  channel endpoint set NAME|'*' URL    '*': every channel without its own\n"
	"  channel endpoint show|disable|enable|rotate-secret NAME|'*'\n"
	"  token create LOGIN --name NAME       print a new webhook token (shown once)\n"
	"  token list LOGIN\n"
	"  token disable|enable|delete PUBLIC_ID\n"
	"  delivery status                      every destination: state, queue, last attempt\n"
	"  delivery list --destination D [--limit N]    newest attempts first (N <= 1000)\n"
	"  delivery replay --destination D --since T [--until T]   queue again (<= 14 days)\n"
	"     D: channel:NAME, channel:*, bot:NAME, bot_message:NAME,\n"
	"        extension:NAME:sandbox|marketplace\n"
	"     T: ISO 8601 (2024-05-01T12:00:00Z; UTC without an offset) or a duration ago (2h)\n"
	"\n"
	"exit status: 0 success, 1 refused, 2 bad usage\n";

void ctl_print_usage(FILE *out)
{
	fputs(usage_text, out);
}

/* Type OIDs are fixed in PostgreSQL's catalog; libpq does not export names for them. */
#define OID_BOOL 16
#define OID_INT8 20
#define OID_INT2 21
#define OID_INT4 23

__attribute__((format(printf, 2, 0))) static void report(struct ctl_ctx *ctx, const char *fmt,
							 va_list ap)
{
	char reason[1024];

	vsnprintf(reason, sizeof(reason), fmt, ap);
	if (ctx->reported)
		return;
	ctx->reported = true;
	fprintf(stderr, "hookgatectl: %s\n", reason);
	if (ctx->json) {
		cJSON *obj = cJSON_CreateObject();

		cJSON_AddStringToObject(obj, "error", reason);
		ctl_out_json(ctx, obj);
	}
}

int ctl_fail(struct ctl_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(ctx, fmt, ap);
	va_end(ap);
	return CTL_REFUSED;
}

int ctl_usage_error(struct ctl_ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	bool first = !ctx->reported;

	va_start(ap, fmt);
	report(ctx, fmt, ap);
	va_end(ap);
	/* One line says what is wrong; the whole usage would bury it. */
	if (first)
		fputs("try 'hookgatectl --help'\n", stderr);
	return CTL_USAGE;
}

void ctl_warn(const char *fmt, ...)
{
	va_list ap;

	fputs("hookgatectl: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

bool ctl_out_json(struct ctl_ctx *ctx, cJSON *obj)
{
	char *text;
	bool ok;

	(void)ctx;
	if (!obj)
		return false;
	text = cJSON_PrintUnformatted(obj);
	cJSON_Delete(obj);
	if (!text)
		return false;
	ok = puts(text) >= 0;
	cJSON_free(text);
	return ok;
}

int ctl_done(struct ctl_ctx *ctx, cJSON *obj, const char *fmt, ...)
{
	va_list ap;

	if (ctx->json) {
		if (!ctl_out_json(ctx, obj))
			return ctl_fail(ctx, "out of memory");
		return CTL_OK;
	}
	cJSON_Delete(obj);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	return CTL_OK;
}

static cJSON *cell_json(const PGresult *res, int row, int col)
{
	const char *v = PQgetvalue(res, row, col);

	if (PQgetisnull(res, row, col))
		return cJSON_CreateNull();
	switch (PQftype(res, col)) {
	case OID_BOOL:
		return cJSON_CreateBool(v[0] == 't');
	case OID_INT2:
	case OID_INT4:
	case OID_INT8:
		return cJSON_CreateNumber(strtod(v, NULL));
	default:
		return cJSON_CreateString(v);
	}
}

cJSON *ctl_out_rows(const PGresult *res)
{
	cJSON *rows = cJSON_CreateArray();

	for (int r = 0; rows && r < PQntuples(res); r++) {
		cJSON *obj = cJSON_CreateObject();

		if (!obj || !cJSON_AddItemToArray(rows, obj)) {
			cJSON_Delete(obj);
			break;
		}
		for (int c = 0; c < PQnfields(res); c++)
			cJSON_AddItemToObject(obj, PQfname(res, c), cell_json(res, r, c));
	}
	return rows;
}

static const char *cell_text(const PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return "-";
	if (PQftype(res, col) == OID_BOOL)
		return PQgetvalue(res, row, col)[0] == 't' ? "yes" : "no";
	return PQgetvalue(res, row, col);
}

static void print_cell(const char *text, size_t width, bool last)
{
	fputs(text, stdout);
	if (last) {
		putchar('\n');
		return;
	}
	for (size_t w = utf8_count(text); w < width + 2; w++)
		putchar(' ');
}

void ctl_out_table(const PGresult *res)
{
	int ncols = PQnfields(res);
	size_t *width = calloc((size_t)ncols, sizeof(*width));

	if (!width)
		return;
	for (int c = 0; c < ncols; c++) {
		width[c] = utf8_count(PQfname(res, c));
		for (int r = 0; r < PQntuples(res); r++) {
			size_t w = utf8_count(cell_text(res, r, c));

			if (w > width[c])
				width[c] = w;
		}
	}
	for (int c = 0; c < ncols; c++)
		print_cell(PQfname(res, c), width[c], c == ncols - 1);
	for (int r = 0; r < PQntuples(res); r++) {
		for (int c = 0; c < ncols; c++)
			print_cell(cell_text(res, r, c), width[c], c == ncols - 1);
	}
	free(width);
}

int ctl_out_listing(struct ctl_ctx *ctx, PGresult *res, cJSON *obj, const char *key)
{
	if (!ctx->json) {
		cJSON_Delete(obj);
		ctl_out_table(res);
		PQclear(res);
		return CTL_OK;
	}
	if (!obj)
		obj = cJSON_CreateObject();
	cJSON_AddItemToObject(obj, key, ctl_out_rows(res));
	PQclear(res);
	return ctl_done(ctx, obj, "%s", "");
}
