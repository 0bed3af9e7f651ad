/* SPDX-License-Identifier: Apache-2.0 */
/* config: hookgate.conf parsing. Everything about a key (section, type, default, range,
 * whether SIGHUP may change it, where it lives in struct hg_config) is in cfg_keys[]; the
 * parser, the defaults, cfg_free and the reload comparison are all driven by that table. */
/* strdup, strndup, strcasecmp and sysconf are POSIX, not C11. */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include "core/config.h"
#include "core/header_list.h"
#include "core/log.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define CFG_MAX_LINE 4096
#define CFG_MAX_FILE (1024 * 1024)
#define CFG_MAX_WORKERS 256

enum cfg_type {
	CFG_STRING,   /* non-empty text, never echoed (conninfo may hold a password) */
	CFG_PATH,     /* non-empty file path */
	CFG_ADDR,     /* host:port or [v6]:port */
	CFG_URL,      /* http:// or https://, trailing '/' removed */
	CFG_SIZE,     /* uint64_t bytes */
	CFG_DURATION, /* int64_t milliseconds */
	CFG_INT,      /* int */
	CFG_WORKERS,  /* int, or "auto" */
	CFG_DOUBLE,   /* double >= 0 */
	CFG_BOOL,
	CFG_LOG_LEVEL,	  /* int holding an enum log_level */
	CFG_LOG_TARGET,	  /* "stderr", "syslog" or a path */
	CFG_LOG_FORMAT,	  /* int holding an enum log_format */
	CFG_LOG_FACILITY, /* int holding a syslog.h facility */
	CFG_NODE_NAME,	  /* 1-63 of [A-Za-z0-9._-], or "auto": the host name */
};

struct cfg_key {
	const char *section;
	const char *name;
	enum cfg_type type;
	const char *def; /* parsed like a value from the file; NULL = unset */
	bool required;
	bool reloadable;
	size_t offset;
	const char *min; /* range bounds, in the key's own syntax; NULL = unbounded */
	const char *max;
};

#define KEY(sec, name, type, def, req, reload, field, lo, hi)                                      \
	{                                                                                          \
		sec, name, type, def, req, reload, offsetof(struct hg_config, field), lo, hi       \
	}

static const struct cfg_key cfg_keys[] = {
	KEY("server", "listen", CFG_ADDR, "127.0.0.1:8080", false, false, listen, NULL, NULL),
	KEY("server", "workers", CFG_WORKERS, "auto", false, true, workers, "1", "256"),
	KEY("server", "admin_listen", CFG_ADDR, "127.0.0.1:8081", false, false, admin_listen, NULL,
	    NULL),
	KEY("server", "metrics_listen", CFG_ADDR, NULL, false, false, metrics_listen, NULL, NULL),
	KEY("server", "public_url", CFG_URL, "http://127.0.0.1:8080", false, true, public_url, NULL,
	    NULL),
	KEY("server", "max_body_size", CFG_SIZE, "64k", false, true, max_body_size, "1", "64m"),
	KEY("server", "admin_max_body_size", CFG_SIZE, "64k", false, true, admin_max_body_size, "1",
	    "64m"),
	KEY("server", "shutdown_timeout", CFG_DURATION, "10s", false, true, shutdown_timeout_ms,
	    "0", "1h"),
	KEY("server", "tls_cert", CFG_PATH, NULL, false, false, tls_cert, NULL, NULL),
	KEY("server", "tls_key", CFG_PATH, NULL, false, false, tls_key, NULL, NULL),
	KEY("server", "web_dir", CFG_PATH, HG_WEB_DIR, false, true, web_dir, NULL, NULL),
	KEY("database", "conninfo", CFG_STRING, NULL, true, true, conninfo, NULL, NULL),
	KEY("database", "pool_size", CFG_INT, "2", false, true, pool_size, "1", "64"),
	KEY("database", "read_conninfo", CFG_STRING, NULL, false, true, read_conninfo, NULL, NULL),
	KEY("database", "usage_retention", CFG_DURATION, "400d", false, true, usage_retention_ms,
	    "0", "36500d"),
	KEY("security", "secret_key_file", CFG_PATH, NULL, true, true, secret_key_file, NULL, NULL),
	KEY("security", "twofa_session_ttl", CFG_DURATION, "15m", false, true, twofa_session_ttl_ms,
	    "10s", "24h"),
	KEY("security", "login_max_failures", CFG_INT, "5", false, true, login_max_failures, "1",
	    "1000"),
	KEY("security", "login_lockout", CFG_DURATION, "15m", false, true, login_lockout_ms, "1s",
	    "30d"),
	KEY("security", "login_rate", CFG_DOUBLE, "0.5", false, true, login_rate, "0", "1000"),
	KEY("security", "login_burst", CFG_INT, "5", false, true, login_burst, "1", "1000"),
	KEY("security", "max_token_lifetime", CFG_DURATION, "0", false, true, max_token_lifetime_ms,
	    "0", "3650d"),
	KEY("limits", "token_rate", CFG_DOUBLE, "0", false, true, token_rate, "0", "1000000"),
	KEY("limits", "token_burst", CFG_INT, "20", false, true, token_burst, "1", "1000000"),
	KEY("limits", "revoke_rate", CFG_DOUBLE, "1", false, true, revoke_rate, "0.001", "1000"),
	KEY("limits", "revoke_burst", CFG_INT, "10", false, true, revoke_burst, "1", "1000"),
	KEY("limits", "idempotency_headers", CFG_STRING, HG_IDEMPOTENCY_HEADERS, false, true,
	    idempotency_headers, NULL, NULL),
	KEY("delivery", "workers", CFG_INT, "1", false, false, delivery_workers, "0", "64"),
	KEY("delivery", "timeout", CFG_DURATION, "15s", false, true, delivery_timeout_ms, "1s",
	    "5m"),
	KEY("delivery", "connect_timeout", CFG_DURATION, "5s", false, true,
	    delivery_connect_timeout_ms, "100ms", "1m"),
	KEY("delivery", "max_inflight_per_destination", CFG_INT, "8", false, true,
	    delivery_max_inflight_per_destination, "1", "256"),
	KEY("delivery", "max_inflight", CFG_INT, "256", false, true, delivery_max_inflight, "1",
	    "10000"),
	KEY("delivery", "batch", CFG_INT, "256", false, true, delivery_batch, "1", "10000"),
	KEY("delivery", "disable_after", CFG_DURATION, "5d", false, true, delivery_disable_after_ms,
	    "1h", "365d"),
	KEY("delivery", "retry_after_max", CFG_DURATION, "1h", false, true,
	    delivery_retry_after_max_ms, "1s", "1d"),
	/* Checked by the delivery worker with netpolicy_new (src/delivery/): core parses no
	 * networks, as it may not call the roles. */
	KEY("delivery", "allow_networks", CFG_STRING, NULL, false, true, delivery_allow_networks,
	    NULL, NULL),
	KEY("delivery", "ca_file", CFG_PATH, NULL, false, true, delivery_ca_file, NULL, NULL),
	KEY("node", "name", CFG_NODE_NAME, "auto", false, false, node_name, NULL, NULL),
	KEY("log", "level", CFG_LOG_LEVEL, "info", false, true, log_level, NULL, NULL),
	KEY("log", "file", CFG_LOG_TARGET, "stderr", false, true, log_file, NULL, NULL),
	KEY("log", "format", CFG_LOG_FORMAT, "text", false, true, log_format, NULL, NULL),
	KEY("log", "syslog_facility", CFG_LOG_FACILITY, "daemon", false, true, log_syslog_facility,
	    NULL, NULL),
	KEY("log", "syslog_ident", CFG_STRING, "hookgated", false, true, log_syslog_ident, NULL,
	    NULL),
	KEY("log", "access", CFG_BOOL, "off", false, true, log_access, NULL, NULL),
};

#define CFG_NKEYS (sizeof(cfg_keys) / sizeof(cfg_keys[0]))

union cfg_value {
	struct {
		const char *p;
		size_t len;
	} str;
	uint64_t u;
	int64_t d;
	int i;
	double f;
	bool b;
};

/* Parser state for one file; set_line[] catches a key given twice. */
struct cfg_parser {
	const char *file;
	int line;
	const char *section; /* points into cfg_keys; NULL before the first [section] */
	int set_line[CFG_NKEYS];
	struct hg_config *cfg;
	char *err;
	size_t errlen;
};

static bool cfg_fail(char *err, size_t errlen, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Writes "FILE:LINE: reason", or "FILE: reason" when line is 0; always returns false. */
static bool cfg_fail(char *err, size_t errlen, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (errlen == 0)
		return false;
	if (line > 0)
		n = snprintf(err, errlen, "%s:%d: ", file, line);
	else
		n = snprintf(err, errlen, "%s: ", file);
	if (n < 0 || (size_t)n >= errlen)
		return false;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return false;
}

/* ---- value parsers ------------------------------------------------------------------- */

/* Unsigned decimal digits only (no sign, no spaces); *end is left after the last digit. */
static bool cfg_parse_digits(const char *s, uint64_t *out, const char **end)
{
	uint64_t v = 0;

	if (!isdigit((unsigned char)*s))
		return false;
	for (; isdigit((unsigned char)*s); s++) {
		unsigned digit = (unsigned)(*s - '0');

		if (v > (UINT64_MAX - digit) / 10)
			return false;
		v = v * 10 + digit;
	}
	*out = v;
	*end = s;
	return true;
}

bool cfg_parse_size(const char *s, uint64_t *out)
{
	uint64_t v, mult = 1;
	const char *end;

	if (!cfg_parse_digits(s, &v, &end))
		return false;
	if (*end == 'k' || *end == 'K')
		mult = 1024;
	else if (*end == 'm' || *end == 'M')
		mult = 1024 * 1024;
	else if (*end != '\0')
		return false;
	if (mult != 1 && end[1] != '\0')
		return false;
	if (v > UINT64_MAX / mult)
		return false;
	*out = v * mult;
	return true;
}

bool cfg_parse_duration(const char *s, int64_t *out_ms)
{
	static const struct {
		const char *suffix;
		uint64_t ms;
	} units[] = {
		{ "", 1000 },	{ "ms", 1 },	  { "s", 1000 },
		{ "m", 60000 }, { "h", 3600000 }, { "d", 86400000 },
	};
	uint64_t v;
	const char *end;

	if (!cfg_parse_digits(s, &v, &end))
		return false;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].suffix) != 0)
			continue;
		if (v > (uint64_t)INT64_MAX / units[i].ms)
			return false;
		*out_ms = (int64_t)(v * units[i].ms);
		return true;
	}
	return false;
}

bool cfg_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "on", "true", "yes", "1" };
	static const char *const no[] = { "off", "false", "no", "0" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return true;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return true;
		}
	}
	return false;
}

static bool cfg_parse_port(const char *s, int *port)
{
	uint64_t v;
	const char *end;

	if (!cfg_parse_digits(s, &v, &end) || *end != '\0' || v < 1 || v > 65535)
		return false;
	*port = (int)v;
	return true;
}

static bool cfg_host_ok(const char *host, size_t len, bool bracketed)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)host[i];

		if (c <= ' ' || c == 0x7f || c == '[' || c == ']' || c == '/')
			return false;
		if (c == ':' && !bracketed)
			return false;
	}
	return true;
}

bool cfg_parse_addr(const char *s, char *host, size_t hostlen, int *port)
{
	const char *h = s, *colon;
	size_t len;
	bool bracketed = (*s == '[');

	if (bracketed) {
		const char *close = strchr(s, ']');

		if (close == NULL || close[1] != ':')
			return false;
		h = s + 1;
		len = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL)
			return false;
		len = (size_t)(colon - s);
	}
	if (!cfg_host_ok(h, len, bracketed) || len >= hostlen || !cfg_parse_port(colon + 1, port))
		return false;
	memcpy(host, h, len);
	host[len] = '\0';
	return true;
}

/* Printable text only (tabs allowed): a control character is almost always a mistake. */
static bool cfg_text_ok(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c < ' ' && c != '\t') || c == 0x7f)
			return false;
	}
	return true;
}

/* A node's name goes into log lines, a metrics label and usage rows unquoted: letters, digits,
 * '.', '_' and '-' only, as host names are. */
static bool cfg_node_name_ok(const char *s)
{
	size_t len = strlen(s);

	return len >= 1 && len <= 63 &&
	       s[strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")] ==
		       '\0';
}

static bool cfg_parse_int(const char *s, int *out)
{
	char *end;
	long long v;

	if (!isdigit((unsigned char)*s) && !(*s == '-' && isdigit((unsigned char)s[1])))
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < INT32_MIN || v > INT32_MAX)
		return false;
	*out = (int)v;
	return true;
}

/* Plain decimal notation only: strtod would also take "inf", "nan" and hex floats. */
static bool cfg_parse_double(const char *s, double *out)
{
	char *end;
	double v;

	if (!isdigit((unsigned char)*s) && !(*s == '.' && isdigit((unsigned char)s[1])))
		return false;
	if (strpbrk(s, "xXpP") != NULL)
		return false;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || *end != '\0' || !isfinite(v) || v < 0)
		return false;
	*out = v;
	return true;
}

static bool cfg_parse_workers(const char *s, int *out)
{
	long n;

	if (strcmp(s, "auto") != 0)
		return cfg_parse_int(s, out);
	n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		n = 1;
	if (n > CFG_MAX_WORKERS)
		n = CFG_MAX_WORKERS;
	*out = (int)n;
	return true;
}

/* A URL is kept as text; we only insist on the scheme and a host, and drop trailing
 * slashes so that "<public_url>/api/..." never has a double slash. *len is what to keep. */
static bool cfg_parse_url(const char *s, size_t *len)
{
	size_t skip, n;

	if (strncasecmp(s, "http://", 7) == 0)
		skip = 7;
	else if (strncasecmp(s, "https://", 8) == 0)
		skip = 8;
	else
		return false;
	for (const char *c = s; *c; c++) {
		if ((unsigned char)*c <= ' ' || *c == 0x7f)
			return false;
	}
	n = strlen(s);
	while (n > skip && s[n - 1] == '/')
		n--;
	if (n == skip || s[skip] == '/')
		return false;
	*len = n;
	return true;
}

/* ---- typed values ---------------------------------------------------------------------- */

static bool cfg_is_string(enum cfg_type type)
{
	return type == CFG_STRING || type == CFG_PATH || type == CFG_ADDR || type == CFG_URL ||
	       type == CFG_LOG_TARGET || type == CFG_NODE_NAME;
}

/* Parses s as a value of type. Strings are not copied here: v->str points into s, so a
 * parse never allocates and cfg_store is the one place that can run out of memory. */
static bool cfg_parse_value(enum cfg_type type, const char *s, union cfg_value *v)
{
	char host[256];
	int port;
	enum log_level level;
	enum log_format format;

	v->str.p = s;
	v->str.len = strlen(s);
	switch (type) {
	case CFG_STRING:
	case CFG_PATH:
	case CFG_LOG_TARGET:
		return cfg_text_ok(s);
	case CFG_ADDR:
		return cfg_parse_addr(s, host, sizeof(host), &port);
	case CFG_URL:
		return cfg_parse_url(s, &v->str.len);
	case CFG_SIZE:
		return cfg_parse_size(s, &v->u);
	case CFG_DURATION:
		return cfg_parse_duration(s, &v->d);
	case CFG_INT:
		return cfg_parse_int(s, &v->i);
	case CFG_WORKERS:
		return cfg_parse_workers(s, &v->i);
	case CFG_DOUBLE:
		return cfg_parse_double(s, &v->f);
	case CFG_BOOL:
		return cfg_parse_bool(s, &v->b);
	case CFG_LOG_LEVEL:
		if (!log_level_parse(s, &level))
			return false;
		v->i = (int)level;
		return true;
	case CFG_LOG_FORMAT:
		if (!log_format_parse(s, &format))
			return false;
		v->i = (int)format;
		return true;
	case CFG_LOG_FACILITY:
		return log_facility_parse(s, &v->i);
	case CFG_NODE_NAME:
		return cfg_node_name_ok(s); /* "auto" is resolved by cfg_validate */
	}
	return false;
}

/* What to tell the user about a value that does not parse. Free text is never echoed:
 * database.conninfo may carry a password. */
static bool cfg_bad_value(struct cfg_parser *p, const struct cfg_key *k, const char *s)
{
	static const struct {
		const char *what, *hint;
	} msg[] = {
		[CFG_ADDR] = { "address", " (use host:port or [v6]:port, port 1-65535)" },
		[CFG_URL] = { "URL", " (use http://HOST[:PORT][/PATH] or https://...)" },
		[CFG_SIZE] = { "size", " (use a number with optional k or m)" },
		[CFG_DURATION] = { "duration", " (use a number with optional ms, s, m, h or d)" },
		[CFG_INT] = { "integer", "" },
		[CFG_WORKERS] = { "value", " (use auto or a number)" },
		[CFG_DOUBLE] = { "number", " (use a decimal number >= 0)" },
		[CFG_BOOL] = { "boolean", " (use on/off, true/false, yes/no or 1/0)" },
		[CFG_LOG_LEVEL] = { "level", " (use error, warn, info or debug)" },
		[CFG_LOG_FORMAT] = { "format", " (use text or json)" },
		[CFG_LOG_FACILITY] = { "facility", " (use daemon, user or local0 to local7)" },
		[CFG_NODE_NAME] = { "node name",
				    " (use 1 to 63 letters, digits, '.', '_' or '-', or auto)" },
	};

	if ((size_t)k->type >= sizeof(msg) / sizeof(msg[0]) || msg[k->type].what == NULL)
		return cfg_fail(p->err, p->errlen, p->file, p->line, "%s.%s: %s", k->section,
				k->name,
				*s == '\0' ? "empty value" : "value contains a control character");
	return cfg_fail(p->err, p->errlen, p->file, p->line, "%s.%s: bad %s \"%s\"%s", k->section,
			k->name, msg[k->type].what, s, msg[k->type].hint);
}

/* Numeric order of two parsed values of the same (numeric) type. */
static int cfg_compare_num(enum cfg_type type, const union cfg_value *a, const union cfg_value *b)
{
	switch (type) {
	case CFG_SIZE:
		return (a->u > b->u) - (a->u < b->u);
	case CFG_DURATION:
		return (a->d > b->d) - (a->d < b->d);
	case CFG_DOUBLE:
		return (a->f > b->f) - (a->f < b->f);
	default:
		return (a->i > b->i) - (a->i < b->i);
	}
}

/* Range bounds are written in the key's own syntax, so "1..64m" reads the same in the
 * table and in the error message. */
static bool cfg_in_range(const struct cfg_key *k, const union cfg_value *v)
{
	union cfg_value bound;

	if (k->min != NULL &&
	    (!cfg_parse_value(k->type, k->min, &bound) || cfg_compare_num(k->type, v, &bound) < 0))
		return false;
	if (k->max != NULL &&
	    (!cfg_parse_value(k->type, k->max, &bound) || cfg_compare_num(k->type, v, &bound) > 0))
		return false;
	return true;
}

static void *cfg_field(struct hg_config *cfg, const struct cfg_key *k)
{
	return (char *)cfg + k->offset;
}

static const void *cfg_cfield(const struct hg_config *cfg, const struct cfg_key *k)
{
	return (const char *)cfg + k->offset;
}

/* Stores v into the key's field, replacing (and freeing) an earlier string. */
static bool cfg_store(struct hg_config *cfg, const struct cfg_key *k, const union cfg_value *v)
{
	void *field = cfg_field(cfg, k);
	char *copy;

	switch (k->type) {
	case CFG_SIZE:
		*(uint64_t *)field = v->u;
		return true;
	case CFG_DURATION:
		*(int64_t *)field = v->d;
		return true;
	case CFG_INT:
	case CFG_WORKERS:
	case CFG_LOG_LEVEL:
	case CFG_LOG_FORMAT:
	case CFG_LOG_FACILITY:
		*(int *)field = v->i;
		return true;
	case CFG_DOUBLE:
		*(double *)field = v->f;
		return true;
	case CFG_BOOL:
		*(bool *)field = v->b;
		return true;
	default:
		copy = strndup(v->str.p, v->str.len);
		if (copy == NULL)
			return false;
		free(*(char **)field);
		*(char **)field = copy;
		return true;
	}
}

/* Parses, range-checks and stores one value (from the file, or a default with line 0). */
static bool cfg_set(struct cfg_parser *p, const struct cfg_key *k, const char *s)
{
	union cfg_value v;

	if (!cfg_parse_value(k->type, s, &v))
		return cfg_bad_value(p, k, s);
	if (!cfg_is_string(k->type) && !cfg_in_range(k, &v))
		return cfg_fail(p->err, p->errlen, p->file, p->line,
				"%s.%s: \"%s\" is out of range (%s..%s)", k->section, k->name, s,
				k->min ? k->min : "", k->max ? k->max : "");
	if (!cfg_store(p->cfg, k, &v))
		return cfg_fail(p->err, p->errlen, p->file, p->line, "out of memory");
	return true;
}

static bool cfg_apply_defaults(struct cfg_parser *p)
{
	for (size_t i = 0; i < CFG_NKEYS; i++) {
		if (cfg_keys[i].def != NULL && !cfg_set(p, &cfg_keys[i], cfg_keys[i].def))
			return false;
	}
	return true;
}

/* ---- the INI reader ------------------------------------------------------------------- */

/* Trims s[0..len) in place and returns the start; the result is NUL-terminated. */
static char *cfg_trim(char *s, size_t len)
{
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	s[len] = '\0';
	while (isspace((unsigned char)*s))
		s++;
	return s;
}

static const char *cfg_find_section(const char *name)
{
	for (size_t i = 0; i < CFG_NKEYS; i++) {
		if (strcmp(cfg_keys[i].section, name) == 0)
			return cfg_keys[i].section;
	}
	return NULL;
}

static bool cfg_section_line(struct cfg_parser *p, char *line)
{
	size_t len = strlen(line);
	char *name;

	if (line[len - 1] != ']')
		return cfg_fail(p->err, p->errlen, p->file, p->line,
				"syntax error: a section line must be [name]");
	name = cfg_trim(line + 1, len - 2);
	p->section = cfg_find_section(name);
	if (p->section == NULL)
		return cfg_fail(p->err, p->errlen, p->file, p->line, "unknown section [%s]", name);
	return true;
}

static const struct cfg_key *cfg_find_key(const char *section, const char *name, size_t *idx)
{
	for (size_t i = 0; i < CFG_NKEYS; i++) {
		if (strcmp(cfg_keys[i].section, section) == 0 &&
		    strcmp(cfg_keys[i].name, name) == 0) {
			*idx = i;
			return &cfg_keys[i];
		}
	}
	return NULL;
}

/* Removes one pair of surrounding double quotes; a lone opening quote is an error. */
static bool cfg_unquote(struct cfg_parser *p, char **value)
{
	char *v = *value;
	size_t len = strlen(v);

	if (v[0] != '"')
		return true;
	if (len < 2 || v[len - 1] != '"')
		return cfg_fail(p->err, p->errlen, p->file, p->line,
				"syntax error: unterminated quoted value");
	v[len - 1] = '\0';
	*value = v + 1;
	return true;
}

static bool cfg_key_line(struct cfg_parser *p, char *line)
{
	char *eq = strchr(line, '=');
	char *name, *value;
	const struct cfg_key *k;
	size_t idx;

	if (eq == NULL)
		return cfg_fail(p->err, p->errlen, p->file, p->line,
				"syntax error: expected [section], key = value or a comment");
	name = cfg_trim(line, (size_t)(eq - line));
	value = cfg_trim(eq + 1, strlen(eq + 1));
	if (*name == '\0')
		return cfg_fail(p->err, p->errlen, p->file, p->line, "syntax error: missing key");
	if (p->section == NULL)
		return cfg_fail(p->err, p->errlen, p->file, p->line,
				"key \"%s\" before any [section]", name);
	k = cfg_find_key(p->section, name, &idx);
	if (k == NULL)
		return cfg_fail(p->err, p->errlen, p->file, p->line,
				"unknown key \"%s\" in section [%s]", name, p->section);
	if (p->set_line[idx] != 0)
		return cfg_fail(p->err, p->errlen, p->file, p->line,
				"duplicate key %s.%s (first set on line %d)", k->section, k->name,
				p->set_line[idx]);
	if (!cfg_unquote(p, &value) || !cfg_set(p, k, value))
		return false;
	p->set_line[idx] = p->line;
	return true;
}

static bool cfg_line(struct cfg_parser *p, char *raw, size_t len)
{
	char *line;

	if (len > CFG_MAX_LINE)
		return cfg_fail(p->err, p->errlen, p->file, p->line,
				"line too long (more than %d bytes)", CFG_MAX_LINE);
	line = cfg_trim(raw, len);
	if (*line == '\0' || *line == '#' || *line == ';')
		return true;
	if (*line == '[')
		return cfg_section_line(p, line);
	return cfg_key_line(p, line);
}

/* Walks the text line by line; each line is copied into a bounded buffer so that the
 * caller's text stays untouched and a long line cannot make us allocate. */
static bool cfg_parse_text(struct cfg_parser *p, const char *text)
{
	char buf[CFG_MAX_LINE + 2];

	if (strncmp(text, "\xef\xbb\xbf", 3) == 0)
		text += 3;
	while (*text != '\0') {
		const char *nl = strchr(text, '\n');
		size_t len = nl != NULL ? (size_t)(nl - text) : strlen(text);

		p->line++;
		if (len > 0 && text[len - 1] == '\r')
			len--;
		if (len > CFG_MAX_LINE)
			len = CFG_MAX_LINE + 1;
		memcpy(buf, text, len);
		if (!cfg_line(p, buf, len))
			return false;
		if (nl == NULL)
			break;
		text = nl + 1;
	}
	return true;
}

/* node.name = auto (the default) becomes the host name, which must then pass the same rule. */
static bool cfg_resolve_node_name(struct cfg_parser *p)
{
	struct hg_config *cfg = p->cfg;
	char host[256];
	char *copy;

	if (strcmp(cfg->node_name, "auto") != 0)
		return true;
	if (gethostname(host, sizeof(host)) != 0)
		return cfg_fail(p->err, p->errlen, p->file, 0,
				"node.name: gethostname(): %s; set node.name", strerror(errno));
	host[sizeof(host) - 1] = '\0';
	if (!cfg_node_name_ok(host))
		return cfg_fail(p->err, p->errlen, p->file, 0,
				"node.name: the host name \"%.80s\" is not a node name (1 to 63 "
				"letters, digits, '.', '_' or '-'); set node.name",
				host);
	copy = strdup(host);
	if (copy == NULL)
		return cfg_fail(p->err, p->errlen, p->file, 0, "out of memory");
	free(cfg->node_name);
	cfg->node_name = copy;
	return true;
}

/* Split again by each webhook worker; checked here so that a bad list is refused at start-up
 * and on reload (the old config stays). */
static bool cfg_idempotency_headers_ok(struct cfg_parser *p)
{
	struct header_list list;
	char why[160];

	if (header_list_parse(p->cfg->idempotency_headers, "Idempotency-Key", &list, why,
			      sizeof(why)))
		return true;
	return cfg_fail(p->err, p->errlen, p->file, 0, "limits.idempotency_headers: %s", why);
}

/* Checks that involve more than one key, or a key's absence. */
static bool cfg_validate(struct cfg_parser *p)
{
	const struct hg_config *cfg = p->cfg;

	for (size_t i = 0; i < CFG_NKEYS; i++) {
		const struct cfg_key *k = &cfg_keys[i];

		if (k->required && *(char *const *)cfg_cfield(cfg, k) == NULL)
			return cfg_fail(p->err, p->errlen, p->file, 0, "%s.%s is required",
					k->section, k->name);
	}
	if (!cfg_idempotency_headers_ok(p))
		return false;
	if ((cfg->tls_cert == NULL) != (cfg->tls_key == NULL))
		return cfg_fail(p->err, p->errlen, p->file, 0,
				"server.tls_cert and server.tls_key must be set together");
	if (strcmp(cfg->listen, cfg->admin_listen) == 0)
		return cfg_fail(p->err, p->errlen, p->file, 0,
				"server.listen and server.admin_listen must differ");
	/* The tag of every syslog line: a blank or a colon would end it early. */
	if (strlen(cfg->log_syslog_ident) > 32 ||
	    cfg->log_syslog_ident[strspn(cfg->log_syslog_ident,
					 "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					 "0123456789._-")] != '\0')
		return cfg_fail(p->err, p->errlen, p->file, 0,
				"log.syslog_ident: use 1 to 32 letters, digits, '.', '_' or '-'");
	if (cfg->metrics_listen != NULL && (strcmp(cfg->metrics_listen, cfg->listen) == 0 ||
					    strcmp(cfg->metrics_listen, cfg->admin_listen) == 0))
		return cfg_fail(p->err, p->errlen, p->file, 0,
				"server.metrics_listen must differ from server.listen and "
				"server.admin_listen");
	return cfg_resolve_node_name(p);
}

bool cfg_load_string(const char *name, const char *text, struct hg_config *cfg, char *err,
		     size_t errlen)
{
	struct cfg_parser p;

	memset(cfg, 0, sizeof(*cfg));
	memset(&p, 0, sizeof(p));
	p.file = name;
	p.cfg = cfg;
	p.err = err;
	p.errlen = errlen;
	cfg->path = strdup(name);
	if (cfg->path == NULL) {
		cfg_fail(err, errlen, name, 0, "out of memory");
		return false;
	}
	if (!cfg_apply_defaults(&p) || !cfg_parse_text(&p, text) || !cfg_validate(&p)) {
		cfg_free(cfg);
		return false;
	}
	return true;
}

/* Reads the whole file. A config file is small: anything over CFG_MAX_FILE, or holding a
 * NUL byte (which would silently end the text early), is refused, so "-c /dev/zero" fails
 * at once instead of eating memory. */
static char *cfg_read_file(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *text;
	size_t len;
	bool ok = true;

	if (f == NULL) {
		cfg_fail(err, errlen, path, 0, "cannot open: %s", strerror(errno));
		return NULL;
	}
	text = malloc(CFG_MAX_FILE + 1);
	if (text == NULL) {
		fclose(f);
		cfg_fail(err, errlen, path, 0, "out of memory");
		return NULL;
	}
	len = fread(text, 1, CFG_MAX_FILE + 1, f);
	if (ferror(f))
		ok = cfg_fail(err, errlen, path, 0, "cannot read: %s", strerror(errno));
	else if (len > CFG_MAX_FILE)
		ok = cfg_fail(err, errlen, path, 0, "file too large (over %d bytes)", CFG_MAX_FILE);
	else if (memchr(text, '\0', len) != NULL)
		ok = cfg_fail(err, errlen, path, 0, "contains a NUL byte");
	fclose(f);
	if (!ok) {
		free(text);
		return NULL;
	}
	text[len] = '\0';
	return text;
}

bool cfg_load(const char *path, struct hg_config *cfg, char *err, size_t errlen)
{
	char *text;
	bool ok;

	memset(cfg, 0, sizeof(*cfg));
	text = cfg_read_file(path, err, errlen);
	if (text == NULL)
		return false;
	ok = cfg_load_string(path, text, cfg, err, errlen);
	free(text);
	return ok;
}

void cfg_free(struct hg_config *cfg)
{
	for (size_t i = 0; i < CFG_NKEYS; i++) {
		if (cfg_is_string(cfg_keys[i].type))
			free(*(char **)cfg_field(cfg, &cfg_keys[i]));
	}
	free(cfg->path);
	memset(cfg, 0, sizeof(*cfg));
}

/* ---- reload --------------------------------------------------------------------------- */

static bool cfg_same(const struct cfg_key *k, const struct hg_config *a, const struct hg_config *b)
{
	const void *fa = cfg_cfield(a, k), *fb = cfg_cfield(b, k);

	switch (k->type) {
	case CFG_SIZE:
		return *(const uint64_t *)fa == *(const uint64_t *)fb;
	case CFG_DURATION:
		return *(const int64_t *)fa == *(const int64_t *)fb;
	case CFG_INT:
	case CFG_WORKERS:
	case CFG_LOG_LEVEL:
	case CFG_LOG_FORMAT:
	case CFG_LOG_FACILITY:
		return *(const int *)fa == *(const int *)fb;
	case CFG_DOUBLE:
		return *(const double *)fa == *(const double *)fb;
	case CFG_BOOL:
		return *(const bool *)fa == *(const bool *)fb;
	default: {
		const char *sa = *(char *const *)fa, *sb = *(char *const *)fb;

		if (sa == NULL || sb == NULL)
			return sa == sb;
		return strcmp(sa, sb) == 0;
	}
	}
}

int cfg_unreloadable_changes(const struct hg_config *old_cfg, const struct hg_config *new_cfg,
			     char *buf, size_t buflen)
{
	int count = 0;
	size_t used = 0;

	if (buflen > 0)
		buf[0] = '\0';
	for (size_t i = 0; i < CFG_NKEYS; i++) {
		const struct cfg_key *k = &cfg_keys[i];
		int n;

		if (k->reloadable || cfg_same(k, old_cfg, new_cfg))
			continue;
		count++;
		if (used >= buflen)
			continue;
		n = snprintf(buf + used, buflen - used, "%s%s.%s", count > 1 ? ", " : "",
			     k->section, k->name);
		used = n < 0 ? buflen : used + (size_t)n;
	}
	return count;
}

/* ---- the table, for people ------------------------------------------------------------ */

/* The type names docs/configuration.md explains; tabs separate the fields, so they may hold
 * spaces. */
static const char *const cfg_type_names[] = {
	[CFG_STRING] = "string",
	[CFG_PATH] = "path",
	[CFG_ADDR] = "address",
	[CFG_URL] = "url",
	[CFG_SIZE] = "size",
	[CFG_DURATION] = "duration",
	[CFG_INT] = "integer",
	[CFG_WORKERS] = "integer or auto",
	[CFG_DOUBLE] = "number",
	[CFG_BOOL] = "boolean",
	[CFG_LOG_LEVEL] = "log level",
	[CFG_LOG_TARGET] = "log target",
	[CFG_LOG_FORMAT] = "log format",
	[CFG_LOG_FACILITY] = "syslog facility",
	[CFG_NODE_NAME] = "node name",
};

bool cfg_describe(FILE *out)
{
	for (size_t i = 0; i < CFG_NKEYS; i++) {
		const struct cfg_key *k = &cfg_keys[i];
		const char *def = k->required ? "required" : k->def ? k->def : "-";
		char range[64] = "-";

		if (k->min != NULL || k->max != NULL)
			snprintf(range, sizeof(range), "%s..%s", k->min ? k->min : "",
				 k->max ? k->max : "");
		fprintf(out, "%s.%s\t%s\t%s\t%s\t%s\n", k->section, k->name,
			cfg_type_names[k->type], def, range, k->reloadable ? "yes" : "restart");
	}
	return fflush(out) == 0 && !ferror(out);
}
