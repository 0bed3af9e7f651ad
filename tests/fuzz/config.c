/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes the hookgate.conf parser (src/core/config.c) from text: on success every key is in its
 * range and the required ones are set, on failure the message names the file; and the value
 * parsers, each on the whole input. */
#include "fuzz.h"

#include "core/config.h"

#include <stdbool.h>

#define FUZZ_CONF_NAME "fuzz.conf"

static void check_loaded(const struct hg_config *cfg)
{
	char changed[256];

	FUZZ_CHECK(cfg->listen && cfg->admin_listen && strcmp(cfg->listen, cfg->admin_listen));
	FUZZ_CHECK(cfg->conninfo && cfg->secret_key_file && cfg->public_url && cfg->log_file);
	FUZZ_CHECK((cfg->tls_cert == NULL) == (cfg->tls_key == NULL));
	FUZZ_CHECK(cfg->workers >= 1 && cfg->workers <= 256);
	FUZZ_CHECK(cfg->pool_size >= 1 && cfg->pool_size <= 64);
	FUZZ_CHECK(cfg->max_body_size >= 1 && cfg->max_body_size <= 64 * 1024 * 1024);
	FUZZ_CHECK(cfg->shutdown_timeout_ms >= 0 && cfg->shutdown_timeout_ms <= 3600 * 1000);
	FUZZ_CHECK(cfg->login_rate >= 0 && cfg->login_rate <= 1000);
	FUZZ_CHECK(cfg->token_rate >= 0 && cfg->token_rate <= 1000000);
	FUZZ_CHECK(strcmp(cfg->path, FUZZ_CONF_NAME) == 0);
	FUZZ_CHECK(cfg_unreloadable_changes(cfg, cfg, changed, sizeof(changed)) == 0);
}

static void check_values(const char *s)
{
	uint64_t size;
	int64_t ms;
	bool b;
	char host[256];
	int port = -1;

	if (cfg_parse_size(s, &size))
		FUZZ_CHECK(*s != '\0');
	if (cfg_parse_duration(s, &ms))
		FUZZ_CHECK(ms >= 0);
	if (cfg_parse_bool(s, &b))
		FUZZ_CHECK(*s != '\0');
	if (cfg_parse_addr(s, host, sizeof(host), &port))
		FUZZ_CHECK(port >= 0 && port <= 65535 && strlen(host) < sizeof(host));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);
	struct hg_config cfg;
	char err[512] = "";

	if (cfg_load_string(FUZZ_CONF_NAME, text, &cfg, err, sizeof(err))) {
		check_loaded(&cfg);
		cfg_free(&cfg);
	} else {
		FUZZ_CHECK(strncmp(err, FUZZ_CONF_NAME ":", sizeof(FUZZ_CONF_NAME)) == 0);
	}
	check_values(text);
	free(text);
	return 0;
}
