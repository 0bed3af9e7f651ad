/* SPDX-License-Identifier: Apache-2.0 */
/* config: hookgate.conf (docs/configuration.md). One table of keys with their type, default and
 * whether a SIGHUP may change them; the parser rejects unknown sections/keys and bad values naming
 * file and line, and cfg_validate checks what involves several keys. */
#ifndef HG_CONFIG_H
#define HG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define HG_IDEMPOTENCY_HEADERS "Idempotency-Key, webhook-id, X-GitHub-Delivery"

struct hg_config {
	/* [server] */
	char *listen;		      /* "127.0.0.1:8080" */
	char *admin_listen;	      /* "127.0.0.1:8081" */
	char *metrics_listen;	      /* GET /metrics; NULL when unset (no metrics process) */
	char *public_url;	      /* "http://127.0.0.1:8080", no trailing slash */
	int workers;		      /* "auto" resolves to the CPU count when parsed */
	uint64_t max_body_size;	      /* bytes, default 64k */
	uint64_t admin_max_body_size; /* bytes, default 64k: admin API request bodies */
	int64_t shutdown_timeout_ms;
	char *tls_cert; /* NULL when unset */
	char *tls_key;
	char *web_dir; /* the dashboard's files; default HG_WEB_DIR (installed web/) */
	/* [database] */
	char *conninfo;		    /* required */
	int pool_size;		    /* default 2, 1..64 */
	char *read_conninfo;	    /* a standby for the admin worker's reads; NULL: unset */
	int64_t usage_retention_ms; /* extension: token_usage partitions older than this are
				       dropped; 0 = keep */
	/* [security] */
	char *secret_key_file; /* required */
	int64_t twofa_session_ttl_ms;
	int login_max_failures;
	int64_t login_lockout_ms;
	int64_t max_token_lifetime_ms; /* 0 = unlimited */
	double login_rate;	       /* password checks/s per client address, 0 = off */
	int login_burst;
	/* [limits] */
	double token_rate; /* calls/s per token, 0 = off */
	int token_burst;
	/* Leaked-token reports per second per client address, and their burst */
	double revoke_rate;
	int revoke_burst;
	/* Headers whose value is a call's idempotency key, the first present wins; holds
	 * Idempotency-Key (core/header_list.h) */
	char *idempotency_headers;
	/* [delivery] */
	int delivery_workers; /* delivery worker processes, 0 = no delivery */
	int64_t delivery_timeout_ms;
	int64_t delivery_connect_timeout_ms;
	int delivery_max_inflight_per_destination;
	int delivery_max_inflight; /* all destinations, per worker */
	int delivery_batch;	   /* rows per feed read and per claim */
	int64_t delivery_disable_after_ms;
	int64_t delivery_retry_after_max_ms;
	char *delivery_allow_networks; /* CIDR list, NULL when unset; parsed by netpolicy */
	char *delivery_ca_file;	       /* NULL: the system's CA bundle */
	/* [node] */
	char *node_name; /* 1-63 of [A-Za-z0-9._-]; "auto" resolves to the host name */
	/* [log] */
	int log_level;		 /* enum log_level */
	char *log_file;		 /* "stderr", "syslog" or a path */
	int log_format;		 /* enum log_format */
	int log_syslog_facility; /* LOG_DAEMON, LOG_LOCAL0… */
	char *log_syslog_ident;
	bool log_access;

	char *path; /* the file this was read from */
};

/* Parse the file at path into *cfg (defaults first, then the file, then cfg_validate).
 * On failure returns false, leaves *cfg freed, and writes "FILE:LINE: reason" (or "FILE: reason"
 * for whole-file problems such as a missing required key) into err. */
bool cfg_load(const char *path, struct hg_config *cfg, char *err, size_t errlen);
/* Same, from a string in memory; name is used in messages as the file name. */
bool cfg_load_string(const char *name, const char *text, struct hg_config *cfg, char *err,
		     size_t errlen);
void cfg_free(struct hg_config *cfg);

/* Keys that cannot change on reload: writes their names ("server.listen, ...") into buf and
 * returns how many differ between old and new. */
int cfg_unreloadable_changes(const struct hg_config *old_cfg, const struct hg_config *new_cfg,
			     char *buf, size_t buflen);

/* The key table, one key a line: "section.key", type, default ("required", or "-" when there is
 * none), range ("lo..hi" in the key's own syntax, "-" when unbounded) and "yes" or "restart" for
 * whether SIGHUP may change it, separated by tabs ("hookgated --describe-config"; the test of
 * docs/configuration.md compares the two). False when writing failed. */
bool cfg_describe(FILE *out);

/* Value parsers, exposed for hookgatectl and tests. */
bool cfg_parse_size(const char *s, uint64_t *out);	 /* "64k", "1m", "512" */
bool cfg_parse_duration(const char *s, int64_t *out_ms); /* "10s", "15m", "1h", "2d", "500ms" */
bool cfg_parse_bool(const char *s, bool *out);		 /* on/off, true/false, yes/no, 1/0 */
/* "host:port" or "[v6]:port"; host copied into host (NUL-terminated). */
bool cfg_parse_addr(const char *s, char *host, size_t hostlen, int *port);

#endif
