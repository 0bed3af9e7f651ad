/* SPDX-License-Identifier: Apache-2.0 */
/* token_limits: a token's source and target limits as a webhook worker checks them from its
 * token cache (docs/api-admin.md, "Token lifecycle"; docs/decisions/0017-token-limits.md): the
 * networks a call may come from and the targets it may go to, parsed once from the token row
 * and then compared per call without PostgreSQL. The batch statement checks the same again. */
#ifndef HG_TOKEN_LIMITS_H
#define HG_TOKEN_LIMITS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/module.h"

/* As the columns' CHECK constraints allow (sql/009_token_lifecycle.sql). */
#define TOKEN_LIMITS_MAX 16

struct token_net {
	uint8_t family; /* 4 or 6 */
	uint8_t bits;
	uint8_t addr[16];
};

enum token_target_kind { TOKEN_TARGET_CHANNEL, TOKEN_TARGET_BOT, TOKEN_TARGET_EXTENSION };

struct token_target {
	uint8_t kind; /* enum token_target_kind */
	char name[MODULE_NAME_MAX + 1];
};

/* Shared by the cache entry and the look-ups it answers, hence counted. nnets 0 = any source,
 * ntargets 0 = any target. */
struct token_limits {
	int refs;
	int nnets;
	int ntargets;
	struct token_net nets[TOKEN_LIMITS_MAX];
	struct token_target targets[TOKEN_LIMITS_MAX];
};

/* From the text of PostgreSQL's cidr[] and text[] ("{10.0.0.0/8,::1/128}", "{channel:alerts}");
 * NULL for either = no limit of that kind. *out is NULL when both are absent; false when a value
 * cannot be parsed or memory runs out. */
bool token_limits_parse(const char *networks, const char *targets, struct token_limits **out);
/* "channel:alerts", "bot:deploybot", "extension:app_…": what the API and hookgatectl accept. */
bool token_target_parse(const char *text, struct token_target *out);
/* "10.0.0.0/8", "2001:db8::/32", or an address alone (a /32 or /128); the host bits must be 0
 * as in PostgreSQL's cidr. */
bool token_net_parse(const char *text, struct token_net *out);

void token_limits_ref(struct token_limits *l);
void token_limits_unref(struct token_limits *l);

/* addr: the client's address as text ("203.0.113.7", "2001:db8::1"); NULL or unparsable fails
 * when networks are set. An address of the other family never matches (as in PostgreSQL). */
bool token_limits_source_ok(const struct token_limits *l, const char *addr);
/* target: the call's channel or bot name (lowercase) or app id. */
bool token_limits_target_ok(const struct token_limits *l, enum module_kind m, const char *target);

#endif
