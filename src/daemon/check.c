/* SPDX-License-Identifier: Apache-2.0 */
/* check: see check.h. */
#include "daemon/check.h"
#include "core/crypto.h"
#include "core/redact.h"
#include "proc/tls.h"

#include <stdio.h>

static bool check_keys(const struct hg_config *cfg, char *err, size_t errlen)
{
	struct crypto_keys keys;
	if (!crypto_load_keys(cfg->secret_key_file, &keys, err, errlen))
		return false;
	crypto_keys_wipe(&keys);
	return true;
}

/* Workers build their own TLS contexts after fork; building one here is what proves the
 * certificate, the key and their match. */
static bool check_tls(const struct hg_config *cfg, char *err, size_t errlen)
{
	SSL_CTX *ctx = tls_context_new(cfg, err, errlen);
	bool ok = ctx != NULL || err[0] == '\0'; /* NULL with no error: TLS is not configured */
	SSL_CTX_free(ctx);
	return ok;
}

bool check_files(const struct hg_config *cfg, char *err, size_t errlen)
{
	return check_keys(cfg, err, errlen) && check_tls(cfg, err, errlen);
}

/* Redacted like the master's start-up failures: a value quoted from a bad line may hold a
 * token. */
static int check_failed(char *err)
{
	redact_secrets(err, false);
	fprintf(stderr, "hookgated: %s\n", err);
	return 1;
}

int check_config_main(const char *path)
{
	struct hg_config cfg;
	char err[1024];

	if (!cfg_load(path, &cfg, err, sizeof(err)))
		return check_failed(err);
	bool ok = check_files(&cfg, err, sizeof(err));
	cfg_free(&cfg);
	if (!ok)
		return check_failed(err);
	printf("configuration ok\n");
	return 0;
}
