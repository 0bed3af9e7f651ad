/* SPDX-License-Identifier: Apache-2.0 */
/* module: see module.h. */
#include "core/module.h"

static const struct {
	const char *sql_name;
	const char *prefix;
	const char *suffix;
	bool message;
} modules[MODULE_COUNT] = {
	[MODULE_CHANNEL] = { "channel", "/api/v2/channelsbyname/", "/message", true },
	[MODULE_BOT_INCOMING] = { "bot_incoming", "/api/v2/bots/", "/incoming", false },
	[MODULE_BOT_MESSAGE] = { "bot_message", "/api/v2/bots/", "/message", true },
	[MODULE_EXTENSION] = { "extension", "/api/v2/applications/", "/incoming", false },
};

static bool module_known(enum module_kind m)
{
	return (unsigned int)m < MODULE_COUNT;
}

const char *module_path_prefix(enum module_kind m)
{
	return module_known(m) ? modules[m].prefix : "";
}

const char *module_path_suffix(enum module_kind m)
{
	return module_known(m) ? modules[m].suffix : "";
}

const char *module_sql_name(enum module_kind m)
{
	return module_known(m) ? modules[m].sql_name : "invalid";
}

bool module_is_message(enum module_kind m)
{
	return module_known(m) && modules[m].message;
}

bool module_name_fold(char *name, size_t len)
{
	if (len < 1 || len > MODULE_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
			return false;
		name[i] = c;
	}
	return true;
}
