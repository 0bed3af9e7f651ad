/* SPDX-License-Identifier: Apache-2.0 */
/* module: the four kinds of webhook endpoint of README "Webhook endpoints" (channel message, bot
 * incoming, bot message, extension incoming): each one's path, the name the schema gives it
 * (token_usage.module, hookgate.ingest_batch) and the rule for channel and bot names. One table
 * serves the webhook router and group commit, the admin API's "Get Webhook URL" and hookgatectl,
 * so that a URL handed out is one the router takes and a name the CLI accepts is one it finds. */
#ifndef HG_MODULE_H
#define HG_MODULE_H

#include <stdbool.h>
#include <stddef.h>

#define MODULE_NAME_MAX 64 /* channel and bot names: [a-z0-9_]{1,64} */

enum module_kind {
	MODULE_CHANNEL,
	MODULE_BOT_INCOMING,
	MODULE_BOT_MESSAGE,
	MODULE_EXTENSION, /* PostgreSQL tells sandbox from marketplace by the app id */
};
#define MODULE_COUNT 4

/* The endpoint's path is prefix, then the channel or bot name or the app id, then suffix:
 * "/api/v2/channelsbyname/" NAME "/message". */
const char *module_path_prefix(enum module_kind m);
const char *module_path_suffix(enum module_kind m);
/* "channel", "bot_incoming", "bot_message", "extension"; "invalid" for a value out of range,
 * which the database refuses. */
const char *module_sql_name(enum module_kind m);
/* Channel message and bot message take a message object; the others any body. */
bool module_is_message(enum module_kind m);

/* Lowercases name[0, len) in place (ASCII letters only; names are compared case-insensitively)
 * and tells whether it is a channel or bot name: 1 to MODULE_NAME_MAX of [a-z0-9_]. */
bool module_name_fold(char *name, size_t len);

#endif
