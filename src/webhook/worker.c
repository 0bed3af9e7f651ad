/* SPDX-License-Identifier: Apache-2.0 */
/* webhook_worker: see webhook/worker.h.
 *
 * A call goes: query and path parsed → token format → token look-up (cache, else PostgreSQL)
 * → rate limit → request checks → group commit (ingest) → answer. Authentication comes first:
 * until the token is known to be valid, nothing says whether a channel, bot or app exists.
 * Every call with a known token, refused or not, goes through the group commit so that its
 * usage row and invocation count are durable before it is answered. */
#include "webhook/worker.h"
#include "core/crypto.h"
#include "core/header_list.h"
#include "lib/encoding.h"
#include "http/reply.h"
#include "webhook/ingest.h"
#include "core/log.h"
#include "proc/metrics.h"
#include "proc/ratelimit.h"
#include "lib/clock.h"
#include "core/redact.h"
#include "core/token.h"
#include "webhook/token_cache.h"
#include "webhook/token_limits.h"
#include "webhook/request.h"
#include "webhook/revoke.h"
#include "webhook/auth.h"
#include "proc/worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#define WEBHOOK_MAX_BATCH 256
#define WEBHOOK_BATCH_DELAY_US 1000
#define WEBHOOK_UA_MAX 512
#define WEBHOOK_CT_MAX 128

struct webhook_role {
	struct token_cache *tokens;
	struct ingest *ingest;
	struct ratelimit *ratelimit;
	struct ratelimit *revoke_budget; /* reports per client address (webhook/revoke.h) */
	struct header_list idem_headers; /* limits.idempotency_headers, in order */
};

struct webhook_call {
	struct worker *w;
	struct http_request *req;
	struct webhook_route route;
	struct webhook_query query;
	struct webhook_auth auth; /* the token presented, in the query or the header */
	bool route_ok;
	char message[200]; /* the human part of a refusal decided here */
	int retry_after;   /* for 429 */
	char appkey_hash[2 * CRYPTO_HASH_LEN + 1];
	char content_type[WEBHOOK_CT_MAX];
	char user_agent[WEBHOOK_UA_MAX];
	struct ingest_call ic;
};

static struct webhook_role *role_of(struct worker *w)
{
	return w->role;
}

static void call_free(struct webhook_call *call)
{
	metrics_gauge_add(METRICS_GAUGE_CALLS_IN_FLIGHT, -1);
	free(call);
}

static void call_count(const struct webhook_call *call, int status, const char *code)
{
	/* enum module_kind and the metrics' modules share their order. */
	metrics_call(call->route_ok ? (enum metrics_module)call->route.module : METRICS_MODULE_NONE,
		     status, code);
}

/* Refusals that need no usage row (no known token yet, or no module to record). */
static void call_refuse(struct webhook_call *call, int status, const char *code, const char *msg)
{
	call_count(call, status, code);
	http_respond_error(call->req, status, code, msg);
	call_free(call);
}

static const char *message_for(const char *code)
{
	static const struct {
		const char *code, *message;
	} texts[] = {
		{ "forbidden",
		  "the token's owner may not post there, or the appkey is missing or wrong" },
		{ "not_found", "no such channel, bot or app" },
		{ "token_disabled", "the token is disabled" },
		{ "owner_disabled", "the token's owner is disabled" },
		{ "token_invalid", "the token is malformed, unknown or deleted" },
		{ "token_expired", "the token has expired" },
		{ "forbidden_source", "the token may not be used from this address" },
		{ "unavailable", "PostgreSQL is unavailable; nothing was stored" },
		{ "rate_limited", "too many calls with this token; retry later" },
	};
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		if (strcmp(texts[i].code, code) == 0)
			return texts[i].message;
	return "the call was refused";
}

/* The 503 of a call whose batch reached PostgreSQL but was not answered in time. */
static const char unknown_outcome_message[] =
	"PostgreSQL did not answer in time; the call may or may not have been stored: retrying "
	"with the same Idempotency-Key is safe";

/* The access log's way into the database: the token's public id (webhook_tokens), the message
 * (messages.id, token_usage.message_id) and the batch's transaction (messages.xid, and the
 * xmin of its token_usage rows). */
static void call_log_fields(struct http_request *req, const struct ingest_call *ic)
{
	char buf[32];

	if (ic->message_id != 0) {
		snprintf(buf, sizeof(buf), "%lld", (long long)ic->message_id);
		http_log_field(req, "message_id", buf);
	}
	if (ic->batch_xid != 0) {
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long)ic->batch_xid);
		http_log_field(req, "batch", buf);
	}
}

/* The batch's "owner_disabled" (sql/008_org.sql) is a token_disabled for the caller, whose
 * message says why: the token's owner, not the token, was disabled. */
static void call_owner_disabled(struct webhook_call *call, struct ingest_call *ic)
{
	if (ic->code == NULL || strcmp(ic->code, "owner_disabled") != 0)
		return;
	ic->code = "token_disabled";
	ic->status = ic->http_status;
	snprintf(call->message, sizeof(call->message), "%s", message_for("owner_disabled"));
}

static void call_answer(struct ingest_call *ic, void *arg)
{
	struct webhook_call *call = arg;
	struct http_request *req = call->req;
	char buf[32];

	call_log_fields(req, ic);
	call_owner_disabled(call, ic);
	call_count(call, ic->http_status, ic->code ? ic->code : "unavailable");
	metrics_observe(METRICS_HIST_COMMIT_WAIT, (uint64_t)(clock_mono_us() - req->started_us));

	if (ic->http_status == 204) {
		snprintf(buf, sizeof(buf), "%lld", (long long)ic->message_id);
		http_add_header(req, "X-Message-Id", buf);
		http_respond(req, 204, NULL, NULL, 0);
	} else {
		const char *code = ic->code ? ic->code : "unavailable";
		if (ic->http_status == 503)
			http_add_header(req, "Retry-After", "1");
		if (ic->http_status == 429) {
			snprintf(buf, sizeof(buf), "%d",
				 call->retry_after > 0 ? call->retry_after : 1);
			http_add_header(req, "Retry-After", buf);
		}
		bool own = call->message[0] && ic->status != INGEST_STATUS_DECIDE &&
			   ic->http_status == ic->status;
		const char *msg = own ? call->message : message_for(code);
		if (ic->http_status == 503 && ic->outcome_unknown)
			msg = unknown_outcome_message;
		http_respond_error(req, ic->http_status, code, msg);
	}
	call_free(call);
}

static int64_t wall_clock_us(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

/* Stored with the call: a token or appkey in it is replaced (redact.h). */
static void copy_header(const struct http_request *req, const char *name, char *out, size_t len)
{
	const char *v = http_header(req, name, NULL);
	redact_copy(out, len, v ? v : "");
}

/* A refusal decided here for a known token: it still goes through the group commit. */
static int call_fix(struct webhook_call *call, int status, const char *code, const char *msg)
{
	call->ic.status = status;
	call->ic.code = code;
	snprintf(call->message, sizeof(call->message), "%s", msg);
	return status;
}

/* The call's idempotency key: the value of the first header of limits.idempotency_headers it
 * carries (docs/api-webhooks.md, "Idempotency"). Idempotency-Key keeps its rule: sent twice or
 * not a valid key, the call is refused (false). A sender's delivery id (webhook-id,
 * X-GitHub-Delivery) that breaks the rule is passed over instead: senders set it for their own
 * reasons, and refusing it would refuse calls that were accepted before. */
static bool call_idem_key(struct webhook_call *call, const char **key)
{
	const struct header_list *list = &role_of(call->w)->idem_headers;
	int n;

	*key = NULL;
	for (int i = 0; i < list->n; i++) {
		const char *v = http_header(call->req, list->names[i], &n);
		if (v == NULL)
			continue;
		if (n == 1 && webhook_idempotency_key_valid(v)) {
			*key = v;
			return true;
		}
		if (strcasecmp(list->names[i], "Idempotency-Key") == 0)
			return false;
	}
	return true;
}

/* The request's own checks, in the order of docs/api-webhooks.md, "How a call is handled"; 0 when
 * PostgreSQL decides. */
static int call_check_request(struct webhook_call *call)
{
	struct http_request *req = call->req;
	char msg[160];
	int n;

	if (req->body_too_large)
		return call_fix(call, 413, "payload_too_large",
				"the body is over server.max_body_size");
	if (!call->route.name_valid)
		return call_fix(call, 404, "not_found", message_for("not_found"));
	if (!call_idem_key(call, &call->ic.idem_key))
		return call_fix(call, 400, "invalid_request",
				"Idempotency-Key must be 1-128 printable characters, sent once");
	const char *ctype = http_header(req, "Content-Type", &n);
	const char *code = NULL;
	int status =
		webhook_check_body(call->route.module, webhook_content_type(n == 1 ? ctype : NULL),
				   (const char *)req->body, req->body_len, &code, msg, sizeof(msg));
	return status ? call_fix(call, status, code, msg) : 0;
}

static bool call_rate_limited(struct webhook_call *call)
{
	const struct hg_config *cfg = call->w->cfg;
	if (cfg->token_rate <= 0)
		return false;
	int64_t now = (int64_t)call->req->started_us;
	if (ratelimit_take(role_of(call->w)->ratelimit, call->ic.token_id, cfg->token_rate,
			   cfg->token_burst, now, &call->retry_after))
		return false;
	call_fix(call, 429, "rate_limited", message_for("rate_limited"));
	metrics_rate_limited();
	return true;
}

/* The token's expiry and its source and target limits, from the cache entry: no query
 * (sql/009_token_lifecycle.sql re-checks them in the batch). True when refused. */
static bool call_limits_refuse(struct webhook_call *call, const struct token_info *token,
			       int64_t now_ms)
{
	if (token->expires_ms != 0 && now_ms >= token->expires_ms) {
		call_fix(call, 401, "token_expired", message_for("token_expired"));
		return true;
	}
	if (!token_limits_source_ok(token->limits, call->req->client_addr)) {
		call_fix(call, 403, "forbidden_source", message_for("forbidden_source"));
		return true;
	}
	if (!token_limits_target_ok(token->limits, call->route.module, call->route.target)) {
		call_fix(call, 403, "forbidden", "the token is limited to other targets");
		return true;
	}
	return false;
}

static void call_fill(struct webhook_call *call)
{
	struct http_request *req = call->req;
	struct ingest_call *ic = &call->ic;

	ic->module = call->route.module;
	ic->target = call->route.target;
	if (call->query.has_appkey) {
		unsigned char hash[CRYPTO_HASH_LEN];
		crypto_lookup_hash(&call->w->keys, "appkey", call->query.appkey,
				   call->query.appkey_len, hash);
		hex_encode(hash, sizeof(hash), call->appkey_hash);
		ic->appkey_hash = call->appkey_hash;
	}
	copy_header(req, "Content-Type", call->content_type, sizeof(call->content_type));
	copy_header(req, "User-Agent", call->user_agent, sizeof(call->user_agent));
	/* Stored bodies must be valid UTF-8: only accepted calls are stored, and only they are
	 * guaranteed to be. */
	ic->body = ic->status == INGEST_STATUS_DECIDE ? (const char *)req->body : "";
	ic->content_type = call->content_type;
	ic->user_agent = call->user_agent[0] ? call->user_agent : NULL;
	ic->client_addr = req->client_addr;
	ic->request_bytes = (int64_t)req->body_len;
	ic->started_us = req->started_us;
	ic->at_us = wall_clock_us();
	ic->done = call_answer;
	ic->arg = call;
}

static void call_on_token(enum token_cache_result result, const struct token_info *token, void *arg)
{
	struct webhook_call *call = arg;
	int64_t now_ms = wall_clock_us() / 1000;

	if (token->public_id[0] != '\0')
		http_log_field(call->req, "token", token->public_id);
	/* A rotated token's previous secret past its grace is no token at all. */
	if (token->valid_until_ms != 0 && now_ms >= token->valid_until_ms)
		result = TOKEN_CACHE_UNKNOWN;

	switch (result) {
	case TOKEN_CACHE_UNAVAILABLE:
		call_count(call, 503, "unavailable");
		http_reply_unavailable(call->req, message_for("unavailable"));
		call_free(call);
		return;
	case TOKEN_CACHE_UNKNOWN:
		call_refuse(call, 401, "token_invalid", message_for("token_invalid"));
		return;
	default:
		break;
	}
	if (!call->route_ok) { /* authenticated, but there is no module to record it under */
		call_refuse(call, 404, "not_found", "no such endpoint");
		return;
	}
	call->ic.token_id = token->id;
	call->ic.user_id = token->user_id;
	call->ic.generation = token->generation;
	call->ic.status = INGEST_STATUS_DECIDE;
	if (result == TOKEN_CACHE_DISABLED)
		call_fix(call, 401, "token_disabled",
			 token->exposed
				 ? "the token was reported exposed (leaked) and is disabled; "
				   "its owner must replace it"
				 : message_for("token_disabled"));
	else if (!call_limits_refuse(call, token, now_ms) && !call_rate_limited(call))
		call_check_request(call);
	call_fill(call);
	ingest_submit(role_of(call->w)->ingest, &call->ic);
}

static void webhook_call_start(struct worker *w, struct http_request *req)
{
	struct webhook_call *call = calloc(1, sizeof(*call));
	if (call == NULL) {
		http_reply_unavailable(req, "out of memory");
		return;
	}
	metrics_gauge_add(METRICS_GAUGE_CALLS_IN_FLIGHT, 1);
	call->w = w;
	call->req = req;
	call->route_ok = webhook_route_parse(req->path, &call->route);
	if (call->route.bad_encoding) {
		call_refuse(call, 400, "invalid_request", "bad percent-encoding in the path");
		return;
	}
	if (webhook_query_parse(req->query, &call->query) != WEBHOOK_QUERY_OK) {
		call_refuse(call, 400, "invalid_request",
			    call->query.reason ? call->query.reason : "bad query string");
		return;
	}
	int n;
	const char *authz = http_header(req, "Authorization", &n);
	if (!webhook_auth_resolve(&call->query, authz, n, &call->auth)) {
		call_refuse(call, 400, "invalid_request", call->auth.reason);
		return;
	}
	if (call->route_ok && req->method != HTTP_METHOD_POST) {
		http_add_header(req, "Allow", "POST");
		call_refuse(call, 405, "method_not_allowed", "webhook endpoints take POST");
		return;
	}
	if (!call->auth.present) {
		call_refuse(call, 401, "token_missing",
			    "no token: send the zapikey query parameter or Authorization: Bearer");
		return;
	}
	if (!token_check_format(call->auth.token, call->auth.len)) {
		call_refuse(call, 401, "token_invalid", message_for("token_invalid"));
		return;
	}
	token_cache_lookup(role_of(w)->tokens, call->auth.token, call_on_token, call);
}

static void webhook_route(struct worker *w, struct http_request *req)
{
	if (strcmp(req->path, "/healthz") == 0) {
		if (req->method != HTTP_METHOD_GET) {
			http_add_header(req, "Allow", "GET");
			http_respond_error(req, 405, "method_not_allowed", "use GET");
			return;
		}
		worker_healthz(w, req);
		return;
	}
	if (strcmp(req->path, REVOKE_PATH) == 0) {
		webhook_revoke(w, role_of(w)->revoke_budget, req);
		return;
	}
	webhook_call_start(w, req);
}

/* Expect: 100-continue: a call refused from its head alone is answered without its body. */
static bool webhook_body_check(struct worker *w, const struct http_request *req)
{
	int n, na;
	const char *ctype = http_header(req, "Content-Type", &n);
	const char *authz = http_header(req, "Authorization", &na);
	(void)w;
	return na <= 1 && webhook_body_needed(req->method == HTTP_METHOD_POST, req->path,
					      req->query, authz, n == 1 ? ctype : NULL);
}

static void webhook_on_db_connect(void *arg)
{
	struct worker *w = arg;
	/* Notifications may have been missed while the connection was down. */
	token_cache_flush(role_of(w)->tokens);
}

static bool webhook_setup(struct worker *w)
{
	struct webhook_role *role = role_of(w);
	char why[160];
	/* cfg_load checked the list already. */
	if (!header_list_parse(w->cfg->idempotency_headers, "Idempotency-Key", &role->idem_headers,
			       why, sizeof(why))) {
		log_error("limits.idempotency_headers: %s", why);
		return false;
	}
	role->tokens = token_cache_new(w->db, &w->keys);
	role->ingest = ingest_new(w->base, w->db, WEBHOOK_MAX_BATCH, WEBHOOK_BATCH_DELAY_US,
				  w->cfg->node_name);
	return role->tokens != NULL && role->ingest != NULL;
}

static bool webhook_teardown(struct worker *w)
{
	struct webhook_role *role = role_of(w);
	ingest_free(role->ingest);
	role->ingest = NULL;
	token_cache_free(role->tokens);
	role->tokens = NULL;
	return true;
}

int webhook_worker_main(const struct role_args *args)
{
	struct webhook_role role = { .ratelimit = args->ratelimit,
				     .revoke_budget = args->revoke_budget };
	struct worker w = {
		.max_body = args->cfg->max_body_size,
		.route = webhook_route,
		.body_check = webhook_body_check,
		.setup = webhook_setup,
		.teardown = webhook_teardown,
		.on_db_connect = webhook_on_db_connect,
		.role = &role,
	};
	return worker_run(&w, args);
}
