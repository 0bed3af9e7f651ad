/* SPDX-License-Identifier: Apache-2.0 */
/* admin_ping: see admin/ping.h. */
#include "admin/ping.h"
#include "admin/endpoints.h"
#include "admin/tokens.h"
#include "core/log.h"
#include "delivery/netpolicy.h"
#include "delivery/post.h"
#include "delivery/signer.h"
#include "lib/clock.h"
#include "lib/utf8.h"
#include "proc/ratelimit.h"

#include <openssl/crypto.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PING_INFLIGHT_MAX 32 /* tests in flight in one worker, all destinations */
#define PING_USERS 1024	     /* users whose budget is remembered */
#define PING_RATE 0.2	     /* tests per second and user: one each 5 s ... */
#define PING_BURST 5	     /* ... after a burst of 5 */
#define PING_ANSWER_SHOWN 512
#define PING_KEY_MAX 160 /* "module:target" */
#define PING_HEADERS 7
#define SECRET_LEN (SIGNER_SECRET_MAX - 1)

struct admin_ping {
	struct post_ctx *post;
	struct netpolicy *policy;
	struct ratelimit *budget;
	char busy[PING_INFLIGHT_MAX][PING_KEY_MAX]; /* destinations with a test in flight */
};

/* One test; ctx->data until answered, so that every way out frees its busy slot. */
struct ping_job {
	struct admin_ping *p;
	int slot;
	const char *module;
	char *body;
	char *headers[PING_HEADERS];
};

static bool policy_allows(const struct sockaddr *sa, void *arg)
{
	return netpolicy_allows(arg, sa);
}

struct admin_ping *admin_ping_new(struct worker *w)
{
	struct admin_ping *p = calloc(1, sizeof(*p));
	char err[256] = "";

	if (p == NULL)
		return NULL;
	p->policy = netpolicy_new(w->cfg->delivery_allow_networks, err, sizeof(err));
	if (p->policy == NULL)
		log_error("delivery.allow_networks: %s", err);
	else
		p->post = post_ctx_new(w->base, w->cfg->delivery_ca_file, 4, policy_allows,
				       p->policy);
	p->budget = ratelimit_create(PING_USERS);
	if (p->post == NULL || p->budget == NULL) {
		admin_ping_free(p);
		return NULL;
	}
	return p;
}

void admin_ping_free(struct admin_ping *p)
{
	if (p == NULL)
		return;
	if (p->post)
		post_ctx_free(p->post);
	netpolicy_free(p->policy);
	if (p->budget)
		ratelimit_destroy(p->budget);
	free(p);
}

static void job_free(void *data)
{
	struct ping_job *job = data;

	if (job == NULL)
		return;
	job->p->busy[job->slot][0] = '\0';
	free(job->body);
	for (int i = 0; i < PING_HEADERS; i++)
		free(job->headers[i]);
	free(job);
}

/* The first PING_ANSWER_SHOWN bytes of the answer as UTF-8, a bad byte as U+FFFD. */
static char *answer_text(const char *s, size_t len)
{
	size_t n = len < PING_ANSWER_SHOWN ? len : PING_ANSWER_SHOWN, o = 0;
	char *out = malloc(3 * n + 1);
	uint32_t cp;

	for (size_t i = 0, k; out && i < n; i += k) {
		k = utf8_decode((const unsigned char *)s + i, n - i, &cp);
		if (k == 0 || cp == 0) {
			memcpy(out + o, "\xEF\xBF\xBD", 3);
			o += 3;
			k = 1;
		} else {
			memcpy(out + o, s + i, k);
			o += k;
		}
	}
	if (out)
		out[o] = '\0';
	return out;
}

static void post_done(const struct post_result *r, void *arg)
{
	struct admin_ctx *ctx = arg;
	cJSON *body = cJSON_CreateObject();
	char *text = answer_text(r->answer ? r->answer : "", r->answer ? r->answer_len : 0);

	if (r->http_status > 0)
		cJSON_AddNumberToObject(body, "status", (double)r->http_status);
	else
		cJSON_AddNullToObject(body, "status");
	if (r->error)
		cJSON_AddStringToObject(body, "error", r->error);
	else
		cJSON_AddNullToObject(body, "error");
	cJSON_AddNumberToObject(body, "latency_ms", (double)(r->latency_us / 100) / 10.0);
	cJSON_AddStringToObject(body, "body", text ? text : "");
	free(text);
	admin_reply(ctx, 200, body);
}

/* {"type":"hookgate.ping","timestamp","destination":{"kind","name",...}}. */
static char *ping_body(const struct admin_ctx *ctx, const char *module, time_t now)
{
	char stamp[32];
	cJSON *obj = cJSON_CreateObject(), *dest = cJSON_CreateObject();
	char *text;

	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	cJSON_AddStringToObject(obj, "type", "hookgate.ping");
	cJSON_AddStringToObject(obj, "timestamp", stamp);
	cJSON_AddStringToObject(dest, "kind", strncmp(module, "bot", 3) == 0 ? "bot" : "extension");
	cJSON_AddStringToObject(dest, "name", ctx->seg[0]);
	cJSON_AddStringToObject(dest, strncmp(module, "bot", 3) == 0 ? "for" : "env", ctx->seg[1]);
	cJSON_AddItemToObject(obj, "destination", dest);
	text = cJSON_PrintUnformatted(obj);
	cJSON_Delete(obj);
	return text;
}

/* The Standard Webhooks headers signed with the secrets of res (current, then previous). */
static bool ping_headers(struct admin_ctx *ctx, struct ping_job *job, const PGresult *res,
			 time_t now)
{
	char id[48], ts[24], sig[SIGNER_HEADER_MAX(2)], secrets[2][SECRET_LEN + 64], name[128];
	unsigned char rnd[12];
	const char *sp[2] = { secrets[0], secrets[1] };
	int n = PQgetisnull(res, 0, 2) ? 1 : 2;
	bool ok;

	snprintf(name, sizeof(name), "%s:%s", job->module, ctx->seg[0]);
	ok = crypto_random(rnd, sizeof(rnd));
	for (int i = 0; ok && i < n; i++)
		ok = admin_open_secret(ctx, "whsec", name, res, 0, 1 + i, secrets[i], SECRET_LEN);
	strcpy(id, "ping_");
	hex_encode(rnd, sizeof(rnd), id + 5);
	snprintf(ts, sizeof(ts), "%lld", (long long)now);
	ok = ok && signer_sign(id, now, (const unsigned char *)job->body, strlen(job->body), sp, n,
			       sig, sizeof(sig));
	OPENSSL_cleanse(secrets, sizeof(secrets));
	const char *const pairs[PING_HEADERS][2] = {
		{ "content-type", "application/json" },
		{ "webhook-id", id },
		{ "webhook-timestamp", ts },
		{ "webhook-signature", sig },
		{ "hookgate-module", job->module },
		{ "hookgate-target", ctx->seg[0] },
		{ "user-agent", "hookgate/" PACKAGE_VERSION },
	};
	for (int i = 0; ok && i < PING_HEADERS; i++) {
		size_t len = strlen(pairs[i][0]) + strlen(pairs[i][1]) + 3;
		ok = (job->headers[i] = malloc(len)) != NULL;
		if (ok)
			snprintf(job->headers[i], len, "%s: %s", pairs[i][0], pairs[i][1]);
	}
	return ok;
}

/* The destination's URL and secrets came (and the audit row is written): send. */
static void test_done(PGresult *res, void *arg)
{
	struct admin_ctx *ctx = arg;
	struct ping_job *job = ctx->data;
	const struct hg_config *cfg = ctx->w->cfg;
	time_t now = time(NULL);

	if (!admin_endpoint_result(ctx, res))
		return;
	job->body = ping_body(ctx, job->module, now);
	if (job->body == NULL || !ping_headers(ctx, job, res, now)) {
		admin_reply_error(ctx, 500, "internal", "cannot sign the test event");
		return;
	}
	struct post_request req = {
		.url = PQgetvalue(res, 0, 0),
		.headers = (const char *const *)job->headers,
		.nheaders = PING_HEADERS,
		.body = job->body,
		.body_len = strlen(job->body),
		.timeout_ms = cfg->delivery_timeout_ms,
		.connect_timeout_ms = cfg->delivery_connect_timeout_ms,
	};
	if (!post_start(job->p->post, &req, post_done, ctx))
		admin_reply_error(ctx, 500, "internal", "cannot start the test request");
}

/* A free busy slot for key; -1 when key is busy already, -2 when none is free. */
static int busy_slot(struct admin_ping *p, const char *key)
{
	int free_slot = -2;

	for (int i = 0; i < PING_INFLIGHT_MAX; i++) {
		if (strcmp(p->busy[i], key) == 0)
			return -1;
		if (p->busy[i][0] == '\0' && free_slot < 0)
			free_slot = i;
	}
	return free_slot;
}

/* The user's budget; false answered 429. */
static bool ping_budget(struct admin_ctx *ctx, struct admin_ping *p)
{
	int retry = 1;
	char value[16];

	if (ratelimit_take(p->budget, strtoll(ctx->auth.user_id, NULL, 10), PING_RATE, PING_BURST,
			   clock_mono_us(), &retry))
		return true;
	snprintf(value, sizeof(value), "%d", retry);
	admin_add_header(ctx, "Retry-After", value);
	admin_reply_error(ctx, 429, "rate_limited", "too many test events: try again later");
	return false;
}

void admin_ping_send(struct admin_ctx *ctx)
{
	struct admin_ping *p = ((struct admin_role *)ctx->w->role)->ping;
	const char *module = admin_endpoint_module(ctx);
	char key[PING_KEY_MAX];
	struct ping_job *job;
	int slot;

	if (module == NULL || !ping_budget(ctx, p))
		return;
	snprintf(key, sizeof(key), "%s:%s", module, ctx->seg[0]);
	if ((slot = busy_slot(p, key)) < 0) {
		admin_reply_error(ctx, slot == -1 ? 409 : 429, slot == -1 ? "busy" : "rate_limited",
				  slot == -1 ? "a test of this destination is in flight"
					     : "too many test events in flight: try again later");
		return;
	}
	if ((job = calloc(1, sizeof(*job))) == NULL) {
		admin_reply_error(ctx, 500, "internal", "out of memory");
		return;
	}
	*job = (struct ping_job){ .p = p, .slot = slot, .module = module };
	snprintf(p->busy[slot], PING_KEY_MAX, "%s", key);
	ctx->data = job;
	ctx->data_free = job_free;
	const char *params[] = { ctx->auth.user_id, admin_client_inet(ctx), module, ctx->seg[0] };
	admin_query(ctx,
		    "SELECT * FROM hookgate.admin_destination_test($1::bigint, $2::inet, $3, $4)",
		    4, params, test_done);
}
