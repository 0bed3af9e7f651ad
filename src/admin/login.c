/* SPDX-License-Identifier: Apache-2.0 */
/* admin_login: see admin/login.h.
 *
 * Each step is a chain of single statements; whatever must be atomic (counting a failure and
 * locking, accepting a TOTP step, spending a recovery code, promoting the session) is one of
 * the functions of sql/003_admin.sql, and the audit row rides in the same statement as a
 * data-modifying CTE.
 *
 * The password step is also where a flood lands: each attempt costs a scrypt check (~100 ms of
 * CPU) on a small queue of them. Each client address therefore has a budget of checks
 * (security.login_burst at once, then security.login_rate per second), spent before anything
 * else is done for the attempt, and may hold only a few of the queued checks at a time. */
#include "admin/login.h"
#include "admin/pwcheck.h"
#include "admin/session.h"
#include "admin/web.h"
#include "core/log.h"
#include "proc/ratelimit.h"
#include "admin/credential.h"
#include "admin/totp.h"
#include "lib/encoding.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#define PASSWORD_MAX_BYTES 1024
#define CODE_MAX 64
#define SEALED_SECRET_MAX 128
/* Refusals (429) are logged at most once per client address in this many seconds. */
#define REFUSAL_LOG_WINDOW_S 60
/* A full password-check queue (32 checks of ~100 ms on 2 threads) drains in about 2 s. */
#define BUSY_RETRY_AFTER_S 2

/* What a login step carries between its statements; wiped when freed. */
struct login_state {
	char login[ADMIN_LOGIN_MAX + 1]; /* as given, lowercased (may name nobody) */
	char *password;
	char code[CODE_MAX];
	char user_id[ADMIN_ID_MAX]; /* "" for an unknown login */
	int64_t addr_key;	    /* the client address's, for its share of the check queue */
	const char *factor;	    /* "password", "totp", "recovery" */
	const char *fail_code;	    /* the 401 answer of a failure */
	const char *fail_message;
	uint64_t step;
	bool enrolling;
	bool disabled; /* users.account_disabled_at is set: sign-in refused after the password check
			*/
	char sealed_text[BYTEA_TEXT_MAX(SEALED_SECRET_MAX)];
	char session_id[SESSION_ID_TEXT_MAX];
	char session_hash[BYTEA_TEXT_MAX(CRYPTO_HASH_LEN)];
	char csrf[SESSION_ID_TEXT_MAX];
	char csrf_hash[BYTEA_TEXT_MAX(CRYPTO_HASH_LEN)];
	char recovery[RECOVERY_CODE_COUNT][RECOVERY_CODE_MAX];
	char recovery_hashes[RECOVERY_CODE_COUNT * (2 * CRYPTO_HASH_LEN + 1) + 3];
	char secret_b32[TOTP_SECRET_BASE32_MAX];
	char uri[TOTP_URI_MAX];
};

/* The statements; $1 user id, $2 client address, $3 audit details wherever they appear. */
#define LOGIN_AUDIT_SQL(action)                                                                    \
	"INSERT INTO hookgate.audit_log (user_id, actor, action, client_addr, details)"            \
	" VALUES ($1::bigint, '" ADMIN_ACTOR "', " action ", $2::inet, $3::jsonb)"
#define LOCKED_RETRY_SQL                                                                           \
	"CASE WHEN locked_until > now()"                                                           \
	" THEN ceil(extract(epoch FROM locked_until - now()))::bigint END AS retry"
#define LOCKED_AUDIT_SQL(login, factor)                                                            \
	"INSERT INTO hookgate.audit_log (user_id, actor, action, client_addr, details)"            \
	" SELECT id, '" ADMIN_ACTOR "', 'login.locked', $2::inet,"                                 \
	" jsonb_build_object('login', " login ", 'factor', '" factor "')"                          \
	" FROM u WHERE retry IS NOT NULL"

// clang-format off
/* $4 login_max_failures, $5 login_lockout: the lock's remaining seconds, or NULL. */
static const char failure_sql[] =
	"WITH a AS (" LOGIN_AUDIT_SQL("'login.failure'") ")"
	" SELECT CASE WHEN l > now() THEN ceil(extract(epoch FROM l - now()))::bigint END"
	" FROM hookgate.login_failure($1::bigint, $4::integer, $5::interval) AS l";

/* $1 login. A locked account is answered before any password check, and audited as such. */
static const char password_user_sql[] =
	"WITH u AS (SELECT id, password_hash, totp_enabled, " LOCKED_RETRY_SQL ","
	" account_disabled_at IS NOT NULL AS disabled"
	" FROM hookgate.users WHERE login = $1 AND account_deleted_at IS NULL),"
	" a AS (" LOCKED_AUDIT_SQL("$1::text", "password") ")"
	" SELECT id, password_hash, totp_enabled, retry, disabled FROM u";

/* A disabled user's right password: refused, audited, and not counted as a failure. */
static const char disabled_sql[] = LOGIN_AUDIT_SQL("'login.disabled'");

/* $4 session hash, $5 sealed new TOTP secret (NULL: enrolled already), $6 pre-2FA life. */
static const char pre2fa_session_sql[] =
	"WITH a AS (" LOGIN_AUDIT_SQL("'login.password'") ")"
	" SELECT hookgate.session_create($4::bytea, $1::bigint, '" SESSION_STAGE_PASSWORD "',"
	" NULL, $6::interval, $2::inet),"
	" $5::bytea IS NOT NULL AND hookgate.enroll_begin($1::bigint, $5::bytea)";

static const char totp_user_sql[] =
	"WITH u AS (SELECT id, login, totp_secret_enc, totp_enabled, totp_last_step, "
	LOCKED_RETRY_SQL " FROM hookgate.users WHERE id = $1::bigint),"
	" a AS (" LOCKED_AUDIT_SQL("login", "totp") ")"
	" SELECT totp_secret_enc, totp_enabled, totp_last_step, retry FROM u";

/* $3 here is the session's id hash. */
static const char logout_sql[] =
	"WITH a AS (INSERT INTO hookgate.audit_log (user_id, actor, action, client_addr, details)"
	" VALUES ($1::bigint, '" ADMIN_ACTOR "', 'logout', $2::inet, '{}'::jsonb))"
	" SELECT hookgate.session_delete($3::bytea)";
// clang-format on

static void login_state_free(void *data)
{
	struct login_state *st = data;

	if (st == NULL)
		return;
	if (st->password) {
		OPENSSL_cleanse(st->password, strlen(st->password));
		free(st->password);
	}
	OPENSSL_cleanse(st, sizeof(*st));
	free(st);
}

static struct login_state *login_state_new(struct admin_ctx *ctx, const char *factor)
{
	struct login_state *st = calloc(1, sizeof(*st));

	if (st == NULL) {
		admin_reply_error(ctx, 500, "internal", "out of memory");
		return NULL;
	}
	st->factor = factor;
	ctx->data = st;
	ctx->data_free = login_state_free;
	return st;
}

/* The audit details of a login event: {"login","factor"[,"reason"]}. */
static char *login_details(const struct admin_ctx *ctx, const struct login_state *st,
			   const char *reason)
{
	cJSON *d = cJSON_CreateObject();
	char *text;

	cJSON_AddStringToObject(d, "login", ctx->auth.login[0] ? ctx->auth.login : st->login);
	cJSON_AddStringToObject(d, "factor", st->factor);
	if (reason)
		cJSON_AddStringToObject(d, "reason", reason);
	text = cJSON_PrintUnformatted(d);
	cJSON_Delete(d);
	return text;
}

static void set_retry_after_s(struct admin_ctx *ctx, long s)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%ld", s < 1 ? 1L : s);
	admin_add_header(ctx, "Retry-After", buf);
}

static void set_retry_after(struct admin_ctx *ctx, const char *seconds)
{
	set_retry_after_s(ctx, strtol(seconds, NULL, 10));
}

static void reply_locked(struct admin_ctx *ctx, const char *seconds)
{
	set_retry_after(ctx, seconds);
	admin_reply_error(ctx, 423, "account_locked",
			  "too many failed attempts: the account is locked for now");
}

/* ---- the budget of password checks per client address ---------------------------------------- */

/* A refused attempt writes no audit row: one per refused call would let a flood fill
 * hookgate.audit_log, and cost the statement per call that the budget is there to save. The
 * attempts the budget lets through are audited as always (login.failure, login.locked, …), and
 * the refusals get one info line per address and REFUSAL_LOG_WINDOW_S. */
static void refusal_log(struct admin_ctx *ctx, int64_t key, const char *why)
{
	struct admin_role *role = ctx->w->role;

	if (ratelimit_take(role->refusal_log, key, 1.0 / REFUSAL_LOG_WINDOW_S, 1,
			   ctx->req->started_us, NULL))
		log_info("admin: password checks from %s refused (%s); its next refusals within "
			 "%d s are not logged",
			 ctx->req->client_addr, why, REFUSAL_LOG_WINDOW_S);
}

static void reply_rate_limited(struct admin_ctx *ctx, int64_t key, const char *why, long retry_s,
			       const char *message)
{
	refusal_log(ctx, key, why);
	set_retry_after_s(ctx, retry_s);
	admin_reply_error(ctx, 429, "rate_limited", message);
}

/* Taken before the login is even looked up: a refused attempt costs no statement, and gets the
 * same answer whether the login exists, is locked or not. */
static bool login_budget_take(struct admin_ctx *ctx, int64_t key)
{
	const struct hg_config *cfg = ctx->w->cfg;
	struct admin_role *role = ctx->w->role;
	int retry_s = 0;

	if (ratelimit_take(role->login_budget, key, cfg->login_rate, cfg->login_burst,
			   ctx->req->started_us, &retry_s))
		return true;
	reply_rate_limited(ctx, key, "over security.login_burst and login_rate", retry_s,
			   "too many sign-in attempts from your address: wait before trying again");
	return false;
}

/* The queue is full of other addresses' checks: logged at most once per window, whoever asks. */
static void reply_busy(struct admin_ctx *ctx)
{
	struct admin_role *role = ctx->w->role;
	int64_t now = ctx->req->started_us;

	if (role->busy_logged_us == 0 ||
	    now - role->busy_logged_us >= REFUSAL_LOG_WINDOW_S * 1000000LL) {
		role->busy_logged_us = now;
		log_warn("admin: the password-check queue is full: sign-in attempts get 503 (not "
			 "logged again within %d s)",
			 REFUSAL_LOG_WINDOW_S);
	}
	set_retry_after_s(ctx, BUSY_RETRY_AFTER_S);
	admin_reply_error(ctx, 503, "unavailable",
			  "the server is busy checking other passwords: try again in a moment");
}

/* ---- failures: count, maybe lock, audit ----------------------------------------------------- */

static void failure_done(PGresult *res, void *arg)
{
	struct admin_ctx *ctx = arg;
	struct login_state *st = ctx->data;

	if (!admin_result(ctx, res, 1))
		return;
	if (!PQgetisnull(res, 0, 0))
		reply_locked(ctx, PQgetvalue(res, 0, 0));
	else
		admin_reply_error(ctx, 401, st->fail_code, st->fail_message);
}

/* One statement records the audit row and the failure (hookgate.login_failure, which locks
 * the account at login_max_failures); an unknown login only gets the audit row, so both take
 * the same path and about the same time. */
static void login_fail(struct admin_ctx *ctx, const char *code, const char *message)
{
	struct login_state *st = ctx->data;
	const struct hg_config *cfg = ctx->w->cfg;
	char max[16], lockout[48];
	char *details = login_details(ctx, st, code);
	const char *uid = st->user_id[0] ? st->user_id : NULL;
	const char *params[] = { uid, admin_client_inet(ctx), details, max, lockout };

	st->fail_code = code;
	st->fail_message = message;
	snprintf(max, sizeof(max), "%d", cfg->login_max_failures);
	admin_interval(cfg->login_lockout_ms, lockout, sizeof(lockout));
	if (details == NULL) {
		admin_reply_error(ctx, 500, "internal", "out of memory");
		return;
	}
	admin_query(ctx, failure_sql, 5, params, failure_done);
	cJSON_free(details);
}

/* ---- step 1: password --------------------------------------------------------------------- */

static void password_session_done(PGresult *res, void *arg)
{
	struct admin_ctx *ctx = arg;
	struct login_state *st = ctx->data;
	cJSON *body;

	if (!admin_result(ctx, res, 1))
		return;
	/* enroll_begin refuses when a competing login confirmed enrollment meanwhile. */
	bool enroll = st->enrolling && strcmp(PQgetvalue(res, 0, 1), "t") == 0;
	admin_session_set_cookie(ctx, st->session_id, SESSION_PRE2FA_TTL_S);
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "next", enroll ? "enroll" : "totp");
	if (enroll) {
		/* The dashboard shows this; an authenticator app scans it instead of typing. */
		char *svg = admin_web_qr_svg(st->uri);
		cJSON_AddStringToObject(body, "secret", st->secret_b32);
		cJSON_AddStringToObject(body, "otpauth_uri", st->uri);
		if (svg)
			cJSON_AddStringToObject(body, "otpauth_qr_svg", svg);
		free(svg);
	}
	admin_reply(ctx, 200, body);
}

/* A new enrollment secret, sealed to the user ("totp:<id>"), its base32 and otpauth URI. */
static bool enrollment_secret(struct admin_ctx *ctx, struct login_state *st)
{
	unsigned char secret[TOTP_SECRET_LEN], sealed[SEALED_SECRET_MAX];
	size_t sealed_len = crypto_seal_len(TOTP_SECRET_LEN);
	char aad[8 + ADMIN_ID_MAX];
	bool ok;

	snprintf(aad, sizeof(aad), "totp:%s", st->user_id);
	ok = sealed_len <= sizeof(sealed) && totp_secret_generate(secret) &&
	     crypto_seal(&ctx->w->keys, aad, secret, sizeof(secret), sealed, sealed_len) &&
	     totp_secret_base32(secret, sizeof(secret), st->secret_b32, sizeof(st->secret_b32)) &&
	     totp_otpauth_uri(st->login, st->secret_b32, st->uri, sizeof(st->uri));
	if (ok)
		hex_encode_bytea(sealed, sealed_len, st->sealed_text);
	OPENSSL_cleanse(secret, sizeof(secret));
	return ok;
}

/* The password was right: a pre-2FA session (and, without a factor yet, a new secret). The
 * failure count is not reset here: only a completed second factor does that. */
static void password_ok(struct admin_ctx *ctx)
{
	struct login_state *st = ctx->data;
	char *details = login_details(ctx, st, NULL);
	char ttl[48];
	const char *params[] = { st->user_id,
				 admin_client_inet(ctx),
				 details,
				 st->session_hash,
				 st->enrolling ? st->sealed_text : NULL,
				 ttl };

	admin_interval((int64_t)SESSION_PRE2FA_TTL_S * 1000, ttl, sizeof(ttl));
	if (details == NULL || !admin_session_new_id(st->session_id, st->session_hash) ||
	    (st->enrolling && !enrollment_secret(ctx, st))) {
		cJSON_free(details);
		admin_reply_error(ctx, 500, "internal", "cannot create a session");
		return;
	}
	admin_query(ctx, pre2fa_session_sql, 6, params, password_session_done);
	cJSON_free(details);
}

static void disabled_done(PGresult *res, void *arg)
{
	struct admin_ctx *ctx = arg;

	if (admin_result(ctx, res, 0))
		admin_reply_error(ctx, 403, "user_disabled",
				  "your account is disabled: ask an administrator");
}

/* Only after the right password, so the answer tells nobody else that the account exists. */
static void login_refuse_disabled(struct admin_ctx *ctx)
{
	struct login_state *st = ctx->data;
	char *details = login_details(ctx, st, "user_disabled");
	const char *params[] = { st->user_id, admin_client_inet(ctx), details };

	if (details == NULL) {
		admin_reply_error(ctx, 500, "internal", "out of memory");
		return;
	}
	admin_query(ctx, disabled_sql, 3, params, disabled_done);
	cJSON_free(details);
}

static void password_checked(bool verified, bool cancelled, void *arg)
{
	struct admin_ctx *ctx = arg;

	if (cancelled)
		admin_ctx_free(ctx);
	else if (verified && ((struct login_state *)ctx->data)->disabled)
		login_refuse_disabled(ctx);
	else if (verified && ((struct login_state *)ctx->data)->user_id[0])
		password_ok(ctx);
	else
		login_fail(ctx, "invalid_credentials", "wrong login or password");
}

static void user_found(PGresult *res, void *arg)
{
	struct admin_ctx *ctx = arg;
	struct login_state *st = ctx->data;
	struct admin_role *role = ctx->w->role;
	const char *stored = NULL;

	if (!admin_result(ctx, res, 0))
		return;
	if (PQntuples(res) == 1) {
		if (!PQgetisnull(res, 0, 3)) {
			reply_locked(ctx, PQgetvalue(res, 0, 3));
			return;
		}
		snprintf(st->user_id, sizeof(st->user_id), "%s", PQgetvalue(res, 0, 0));
		stored = PQgetvalue(res, 0, 1);
		st->enrolling = strcmp(PQgetvalue(res, 0, 2), "t") != 0;
		st->disabled = strcmp(PQgetvalue(res, 0, 4), "t") == 0;
	}
	switch (admin_pwcheck_submit(role->pwcheck, st->addr_key, st->password, stored,
				     password_checked, ctx)) {
	case ADMIN_PWCHECK_QUEUED:
		break;
	case ADMIN_PWCHECK_KEY_FULL:
		reply_rate_limited(ctx, st->addr_key, "too many of its checks in the queue", 1,
				   "too many sign-in attempts from your address at once: wait for "
				   "their answers");
		break;
	case ADMIN_PWCHECK_FULL:
		reply_busy(ctx);
		break;
	case ADMIN_PWCHECK_NOMEM:
		admin_reply_error(ctx, 500, "internal", "out of memory");
		break;
	}
}

static bool login_input(struct admin_ctx *ctx, struct login_state *st, const cJSON *body)
{
	bool bad = false;
	const char *login = admin_json_string(body, "login", &bad);
	const char *password = admin_json_string(body, "password", &bad);

	if (bad || login == NULL || password == NULL || *login == '\0' || *password == '\0') {
		admin_reply_error(ctx, 400, "invalid_request",
				  "send {\"login\":\"…\",\"password\":\"…\"}");
		return false;
	}
	/* Too long to be anybody's: still goes through the same (failing) steps. */
	snprintf(st->login, sizeof(st->login), "%s", login);
	for (char *p = st->login; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	st->password = strndup(password, PASSWORD_MAX_BYTES + 1);
	if (st->password == NULL) {
		admin_reply_error(ctx, 500, "internal", "out of memory");
		return false;
	}
	return true;
}

void admin_login_password(struct admin_ctx *ctx)
{
	struct login_state *st;
	cJSON *body;

	if (!admin_session_origin_ok(ctx) || (body = admin_body_object(ctx)) == NULL)
		return;
	st = login_state_new(ctx, "password");
	bool ok = st && login_input(ctx, st, body);
	cJSON_Delete(body);
	if (!ok)
		return;
	st->addr_key = ratelimit_addr_key(ctx->req->client_addr);
	if (!login_budget_take(ctx, st->addr_key))
		return;

	const char *params[] = { st->login, admin_client_inet(ctx) };
	/* A locked account is answered before any password check, and audited as such. */
	admin_query(ctx, password_user_sql, 2, params, user_found);
}

/* ---- step 2: the session becomes a full one -------------------------------------------------- */

static cJSON *user_json(const struct admin_ctx *ctx)
{
	cJSON *user = cJSON_CreateObject();

	cJSON_AddStringToObject(user, "login", ctx->auth.login);
	cJSON_AddStringToObject(user, "display_name", ctx->auth.display_name);
	cJSON_AddBoolToObject(user, "is_admin", ctx->auth.is_admin);
	return user;
}

/* Columns of every step-2 statement: outcome text, new expires_at (NULL: not promoted). */
static void promoted(struct admin_ctx *ctx, const PGresult *res)
{
	struct login_state *st = ctx->data;
	cJSON *body = cJSON_CreateObject();
	long ttl_s = (long)((ctx->w->cfg->twofa_session_ttl_ms + 999) / 1000);

	if (PQgetisnull(res, 0, 1)) {
		/* The code was right but the pre-2FA session ran out (or was used) meanwhile. */
		cJSON_Delete(body);
		admin_session_clear_cookie(ctx);
		admin_reply_error(ctx, 401, "session_expired",
				  "the login took too long: start again");
		return;
	}
	admin_session_set_cookie(ctx, st->session_id, ttl_s);
	cJSON_AddItemToObject(body, "user", user_json(ctx));
	cJSON_AddStringToObject(body, "expires_at", PQgetvalue(res, 0, 1));
	cJSON_AddStringToObject(body, "csrf_token", st->csrf);
	if (st->enrolling) {
		cJSON *codes = cJSON_AddArrayToObject(body, "recovery_codes");
		for (int i = 0; i < RECOVERY_CODE_COUNT; i++)
			cJSON_AddItemToArray(codes, cJSON_CreateString(st->recovery[i]));
	}
	admin_reply(ctx, 200, body);
}

static void step_done(PGresult *res, void *arg)
{
	struct admin_ctx *ctx = arg;
	const char *outcome;

	if (!admin_result(ctx, res, 1))
		return;
	outcome = PQgetvalue(res, 0, 0);
	if (strcmp(outcome, "ok") == 0)
		promoted(ctx, res);
	else if (strcmp(outcome, "reused") == 0)
		login_fail(ctx, "code_reused", "this code was already used");
	else /* invalid, locked (login_fail answers 423), not_enrolled, rejected enrollment */
		login_fail(ctx, "invalid_code", "wrong code");
}

/* The statements below share $1 user id, $2 client address, $3 audit details, $4 old session
 * hash, $5 new session hash, $6 CSRF hash, $7 session life. Each one's CTE r yields the outcome;
 * p promotes the session only on 'ok'; a writes the audit rows of a success. */
#define PROMOTE_SQL(r_cte, actions)                                                                \
	"WITH r AS (" r_cte "),"                                                                   \
	" p AS (SELECT outcome, CASE WHEN outcome = 'ok' THEN"                                     \
	"   hookgate.session_promote($4::bytea, $5::bytea, $6::bytea, $7::interval) END AS e"      \
	"   FROM r),"                                                                              \
	" a AS (INSERT INTO hookgate.audit_log (user_id, actor, action, client_addr, details)"     \
	"   SELECT $1::bigint, '" ADMIN_ACTOR "', x.action, $2::inet, $3::jsonb"                   \
	"   FROM p, (VALUES " actions ") AS x(action) WHERE p.e IS NOT NULL)"                      \
	" SELECT outcome, " ADMIN_SQL_TIME("e") " FROM p"

static const char totp_accept_sql[] = PROMOTE_SQL(
	"SELECT hookgate.totp_accept_step($1::bigint, $8::bigint) AS outcome", "('login.success')");
static const char enroll_confirm_sql[] =
	PROMOTE_SQL("SELECT CASE WHEN hookgate.enroll_confirm($1::bigint, $9::bytea, $8::bigint,"
		    " ARRAY(SELECT decode(h, 'hex') FROM unnest($10::text[]) AS h))"
		    " THEN 'ok' ELSE 'rejected' END AS outcome",
		    "('login.enroll'), ('login.success')");
static const char recovery_use_sql[] =
	PROMOTE_SQL("SELECT hookgate.recovery_use($1::bigint, $8::bytea) AS outcome",
		    "('login.recovery_code'), ('login.success')");

/* Ten new recovery codes and their hashes as a text[] of hex. */
static bool recovery_codes_make(struct admin_ctx *ctx, struct login_state *st)
{
	size_t o = 0;

	st->recovery_hashes[o++] = '{';
	for (int i = 0; i < RECOVERY_CODE_COUNT; i++) {
		unsigned char hash[CRYPTO_HASH_LEN];
		if (!recovery_code_generate(st->recovery[i]) ||
		    !recovery_code_hash(&ctx->w->keys, st->recovery[i], hash))
			return false;
		if (i > 0)
			st->recovery_hashes[o++] = ',';
		hex_encode(hash, sizeof(hash), st->recovery_hashes + o);
		o += 2 * CRYPTO_HASH_LEN;
	}
	st->recovery_hashes[o++] = '}';
	st->recovery_hashes[o] = '\0';
	return true;
}

/* A new session id and CSRF token, then the step's statement. */
static void step_run(struct admin_ctx *ctx, const char *sql, const char *arg8)
{
	struct login_state *st = ctx->data;
	char ttl[48], step[24];
	char *details = login_details(ctx, st, NULL);

	admin_interval(ctx->w->cfg->twofa_session_ttl_ms, ttl, sizeof(ttl));
	snprintf(step, sizeof(step), "%llu", (unsigned long long)st->step);
	const char *params[] = {
		ctx->auth.user_id, admin_client_inet(ctx), details, ctx->auth.id_hash_text,
		st->session_hash,  st->csrf_hash,	   ttl,	    arg8 ? arg8 : step,
		st->sealed_text,   st->recovery_hashes
	};
	int n = sql == enroll_confirm_sql ? 10 : 8;

	if (details == NULL || !admin_session_new_id(st->session_id, st->session_hash) ||
	    !admin_session_new_id(st->csrf, st->csrf_hash) ||
	    (sql == enroll_confirm_sql && !recovery_codes_make(ctx, st))) {
		cJSON_free(details);
		admin_reply_error(ctx, 500, "internal", "cannot create a session");
		return;
	}
	admin_query(ctx, sql, n, params, step_done);
	cJSON_free(details);
}

/* Reads {"code"} of a step-2 request into st->code; answers 400 otherwise. */
static struct login_state *code_input(struct admin_ctx *ctx, const char *factor)
{
	cJSON *body = admin_body_object(ctx);
	struct login_state *st;
	bool bad = false;
	const char *code;

	if (body == NULL)
		return NULL;
	st = login_state_new(ctx, factor);
	code = st ? admin_json_string(body, "code", &bad) : NULL;
	if (st && (bad || code == NULL || strlen(code) >= sizeof(st->code))) {
		cJSON_Delete(body);
		admin_reply_error(ctx, 400, "invalid_request", "send {\"code\":\"…\"}");
		return NULL;
	}
	if (st) {
		snprintf(st->code, sizeof(st->code), "%s", code);
		snprintf(st->user_id, sizeof(st->user_id), "%s", ctx->auth.user_id);
	}
	cJSON_Delete(body);
	return st;
}

/* The stored secret against the code (constant time, ±1 step, after totp_last_step). */
static void totp_check(struct admin_ctx *ctx, const PGresult *res)
{
	struct login_state *st = ctx->data;
	unsigned char sealed[SEALED_SECRET_MAX], secret[SEALED_SECRET_MAX];
	size_t sealed_len = 0, secret_len = 0;
	char aad[8 + ADMIN_ID_MAX];
	uint64_t last = strtoull(PQgetvalue(res, 0, 2), NULL, 10);
	enum totp_result r = TOTP_INVALID;

	snprintf(aad, sizeof(aad), "totp:%s", st->user_id);
	st->enrolling = strcmp(PQgetvalue(res, 0, 1), "t") != 0;
	if (admin_col_bytea(res, 0, 0, sealed, sizeof(sealed), &sealed_len) &&
	    crypto_open(&ctx->w->keys, aad, sealed, sealed_len, secret, sizeof(secret),
			&secret_len))
		r = totp_verify(secret, secret_len, st->code, (int64_t)time(NULL), last, &st->step);
	OPENSSL_cleanse(secret, sizeof(secret));
	if (r == TOTP_REUSED) {
		login_fail(ctx, "code_reused", "this code was already used");
	} else if (r != TOTP_OK) {
		login_fail(ctx, "invalid_code", "wrong code");
	} else if (st->enrolling) {
		snprintf(st->sealed_text, sizeof(st->sealed_text), "%s", PQgetvalue(res, 0, 0));
		step_run(ctx, enroll_confirm_sql, NULL);
	} else {
		step_run(ctx, totp_accept_sql, NULL);
	}
}

static void totp_user_found(PGresult *res, void *arg)
{
	struct admin_ctx *ctx = arg;

	if (!admin_result(ctx, res, 0))
		return;
	if (PQntuples(res) != 1)
		admin_reply_error(ctx, 401, "unauthenticated", "not signed in");
	else if (!PQgetisnull(res, 0, 3))
		reply_locked(ctx, PQgetvalue(res, 0, 3));
	else
		totp_check(ctx, res);
}

void admin_login_totp(struct admin_ctx *ctx)
{
	struct login_state *st = code_input(ctx, "totp");

	if (st == NULL)
		return;
	const char *params[] = { st->user_id, admin_client_inet(ctx) };
	admin_query(ctx, totp_user_sql, 2, params, totp_user_found);
}

void admin_login_recovery(struct admin_ctx *ctx)
{
	struct login_state *st = code_input(ctx, "recovery");
	unsigned char hash[CRYPTO_HASH_LEN];
	char hash_text[BYTEA_TEXT_MAX(CRYPTO_HASH_LEN)];

	if (st == NULL)
		return;
	if (!recovery_code_hash(&ctx->w->keys, st->code, hash)) {
		login_fail(ctx, "invalid_code", "wrong recovery code");
		return;
	}
	hex_encode_bytea(hash, sizeof(hash), hash_text);
	step_run(ctx, recovery_use_sql, hash_text);
}

/* ---- session and logout ---------------------------------------------------------------------- */

void admin_login_session(struct admin_ctx *ctx)
{
	cJSON *body = cJSON_CreateObject();

	cJSON_AddItemToObject(body, "user", user_json(ctx));
	cJSON_AddStringToObject(body, "expires_at", ctx->auth.expires_at);
	admin_reply(ctx, 200, body);
}

static void logout_done(PGresult *res, void *arg)
{
	struct admin_ctx *ctx = arg;

	if (!admin_result(ctx, res, 1))
		return;
	admin_session_clear_cookie(ctx);
	admin_reply_empty(ctx, 204);
}

void admin_login_logout(struct admin_ctx *ctx)
{
	const char *params[] = { ctx->auth.user_id, admin_client_inet(ctx),
				 ctx->auth.id_hash_text };

	admin_query(ctx, logout_sql, 3, params, logout_done);
}
