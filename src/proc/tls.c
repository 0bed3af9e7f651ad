/* SPDX-License-Identifier: Apache-2.0 */
/* tls: see tls.h. */
#include "proc/tls.h"

#include <stdio.h>

#include <openssl/err.h>

static SSL_CTX *tls_fail(SSL_CTX *ctx, const char *what, const char *path, char *err, size_t errlen)
{
	char reason[256];
	ERR_error_string_n(ERR_get_error(), reason, sizeof(reason));
	snprintf(err, errlen, "%s %s: %s", what, path, reason);
	ERR_clear_error();
	SSL_CTX_free(ctx);
	return NULL;
}

SSL_CTX *tls_context_new(const struct hg_config *cfg, char *err, size_t errlen)
{
	err[0] = '\0';
	if (cfg->tls_cert == NULL || cfg->tls_key == NULL)
		return NULL;
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL)
		return tls_fail(NULL, "cannot create a TLS context for", cfg->tls_cert, err,
				errlen);
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	if (SSL_CTX_use_certificate_chain_file(ctx, cfg->tls_cert) != 1)
		return tls_fail(ctx, "cannot load TLS certificate", cfg->tls_cert, err, errlen);
	if (SSL_CTX_use_PrivateKey_file(ctx, cfg->tls_key, SSL_FILETYPE_PEM) != 1)
		return tls_fail(ctx, "cannot load TLS key", cfg->tls_key, err, errlen);
	if (SSL_CTX_check_private_key(ctx) != 1)
		return tls_fail(ctx, "TLS key does not match certificate", cfg->tls_cert, err,
				errlen);
	return ctx;
}
