/* SPDX-License-Identifier: Apache-2.0 */
/* webhook_revoke: see webhook/revoke.h.
 *
 * What a reporter may learn is nothing: the answer (status, headers, body) is the same whether
 * a candidate was a live token, an unknown one, a deleted one or garbage. Candidates that are
 * not well-formed tokens (prefix, length, alphabet, checksum: core/token.h) are dropped here, so
 * a flood of garbage never reaches PostgreSQL; the others travel as keyed look-up hashes, never
 * in clear, in one statement per report. Its timing shows only whether some candidate was well
 * formed, which anyone can compute from the public checksum. */
#include "webhook/revoke.h"
#include "core/log.h"
#include "core/token.h"
#include "http/reply.h"
#include "lib/encoding.h"
#include "lib/jsontext.h"
#include "proc/ratelimit.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#define REVOKE_TIMEOUT_MS 5000
/* "\\x" and 64 hex digits, quoted, and a comma: one element of the bytea[] literal. */
#define REVOKE_HASH_TEXT (2 * CRYPTO_HASH_LEN + 6)

static const char revoke_sql[] = "SELECT hookgate.revoke_exposed($1::bytea[], $2::inet)";

static void revoke_done(PGresult *res, void *arg)
{
	struct http_request *req = arg;

	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
		log_warn("revocation report from %s: PostgreSQL failed (%s); answered 503",
			 req->client_addr,
			 res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : "no answer");
		http_reply_unavailable(req, "PostgreSQL is unavailable; report again later");
		return;
	}
	/* For the operator only: the reporter is told nothing. */
	log_info("revocation report from %s: %s token(s) disabled as exposed", req->client_addr,
		 PQgetvalue(res, 0, 0));
	http_respond(req, 202, NULL, NULL, 0);
}

/* The array of candidates, or NULL (400) for anything else. */
static cJSON *revoke_parse(const struct http_request *req)
{
	if (jsontext_check((const char *)req->body, req->body_len) != NULL)
		return NULL;
	cJSON *root =
		cJSON_ParseWithLengthOpts((const char *)req->body, req->body_len, NULL, false);
	bool ok = cJSON_IsArray(root) && cJSON_GetArraySize(root) <= REVOKE_MAX_CANDIDATES;
	for (const cJSON *it = ok ? root->child : NULL; it != NULL; it = it->next)
		ok = ok && cJSON_IsString(it);
	if (!ok) {
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

/* The bytea[] literal of the look-up hashes of the well-formed candidates; how many. */
static int revoke_hashes(const struct worker *w, const cJSON *list, char *out)
{
	unsigned char hash[CRYPTO_HASH_LEN];
	size_t used = 1;
	int n = 0;

	out[0] = '{';
	for (const cJSON *it = list->child; it != NULL; it = it->next) {
		const char *s = it->valuestring;
		if (!token_check_format(s, strlen(s)))
			continue;
		token_hash(&w->keys, s, hash);
		used += (size_t)sprintf(out + used, "%s\"\\\\x", n ? "," : "");
		hex_encode(hash, sizeof(hash), out + used);
		used += 2 * CRYPTO_HASH_LEN;
		out[used++] = '"';
		n++;
	}
	out[used++] = '}';
	out[used] = '\0';
	return n;
}

static bool revoke_refused(const struct hg_config *cfg, struct ratelimit *rl,
			   struct http_request *req)
{
	char buf[16];
	int retry = 1;

	if (req->method != HTTP_METHOD_POST) {
		http_add_header(req, "Allow", "POST");
		http_respond_error(req, 405, "method_not_allowed", "use POST");
		return true;
	}
	if (!ratelimit_take(rl, ratelimit_addr_key(req->client_addr), cfg->revoke_rate,
			    cfg->revoke_burst, req->started_us, &retry)) {
		snprintf(buf, sizeof(buf), "%d", retry);
		http_add_header(req, "Retry-After", buf);
		http_respond_error(req, 429, "rate_limited",
				   "too many reports from this address; retry later");
		return true;
	}
	if (req->body_too_large) {
		http_respond_error(req, 413, "payload_too_large",
				   "the body is over server.max_body_size");
		return true;
	}
	return false;
}

void webhook_revoke(struct worker *w, struct ratelimit *rl, struct http_request *req)
{
	char hashes[2 + REVOKE_MAX_CANDIDATES * REVOKE_HASH_TEXT];
	unsigned char addr[16];

	if (revoke_refused(w->cfg, rl, req))
		return;
	cJSON *list = revoke_parse(req);
	if (list == NULL) {
		http_respond_error(req, 400, "invalid_request",
				   "the body must be a JSON array of at most 100 strings");
		return;
	}
	int n = revoke_hashes(w, list, hashes);
	cJSON_Delete(list);
	if (n == 0) {
		http_respond(req, 202, NULL, NULL, 0);
		return;
	}
	bool ip = inet_pton(strchr(req->client_addr, ':') ? AF_INET6 : AF_INET, req->client_addr,
			    addr) == 1;
	const char *params[] = { hashes, ip ? req->client_addr : NULL };
	if (!db_query(w->db, revoke_sql, 2, params, REVOKE_TIMEOUT_MS, revoke_done, req))
		http_reply_unavailable(req, "PostgreSQL is unavailable; report again later");
}
