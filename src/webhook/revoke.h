/* SPDX-License-Identifier: Apache-2.0 */
/* webhook_revoke: POST /api/v2/tokens/revoke on server.listen (docs/api-webhooks.md,
 * "Reporting leaked tokens"): a secret scanner posts up to 100 strings it found, without
 * authentication; every live token among them is disabled with reason 'exposed'
 * (sql/010_token_revoke.sql). The answer says nothing about what was found. */
#ifndef HG_WEBHOOK_REVOKE_H
#define HG_WEBHOOK_REVOKE_H

#include "http/server.h"
#include "proc/worker.h"

#define REVOKE_PATH "/api/v2/tokens/revoke"
#define REVOKE_MAX_CANDIDATES 100
/* Reports are limited per client address (ratelimit_addr_key), across all webhook workers, by
 * limits.revoke_rate and limits.revoke_burst. */

struct ratelimit;

/* Answers req: 202 (also when nothing was found), 400 invalid_request for a body that is not a
 * JSON array of at most REVOKE_MAX_CANDIDATES strings, 405, 413, 429 over the address's budget
 * in rl, 503 when PostgreSQL could not be asked. */
void webhook_revoke(struct worker *w, struct ratelimit *rl, struct http_request *req);

#endif
