/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for core/config.c: the value parsers, every default, every error message
 * (with its file and line), the INI syntax, the reload comparison and the example file. */
#include "suites.h"

#include "core/config.h"
#include "core/log.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The two keys without a default, so that a test can add just what it is about. */
#define REQUIRED "[database]\nconninfo = dbname=x\n[security]\nsecret_key_file = /k\n"

static char err[1024];

static bool load(const char *text, struct hg_config *cfg)
{
	err[0] = '\0';
	return cfg_load_string("test.conf", text, cfg, err, sizeof(err));
}

static bool is_zeroed(const struct hg_config *cfg)
{
	static const struct hg_config zero;

	return memcmp(cfg, &zero, sizeof(zero)) == 0;
}

/* Loading must fail with exactly this message and leave nothing behind in cfg. */
static void expect_error(const char *text, const char *message)
{
	struct hg_config cfg;

	memset(&cfg, 0xa5, sizeof(cfg));
	ck_assert_msg(!load(text, &cfg), "accepted, expected: %s", message);
	ck_assert_str_eq(err, message);
	ck_assert(is_zeroed(&cfg));
}

/* REQUIRED followed by one key in its section; the key is on line 6. */
static bool load_one(const char *section, const char *line, struct hg_config *cfg)
{
	char text[8192];

	snprintf(text, sizeof(text), REQUIRED "[%s]\n%s\n", section, line);
	return load(text, cfg);
}

static void expect_value_error(const char *section, const char *line, const char *message)
{
	char text[8192], full[1200];

	snprintf(text, sizeof(text), REQUIRED "[%s]\n%s\n", section, line);
	snprintf(full, sizeof(full), "test.conf:6: %s", message);
	expect_error(text, full);
}

static int64_t load_duration(const char *section, const char *line, size_t offset)
{
	struct hg_config cfg;
	int64_t v;

	ck_assert_msg(load_one(section, line, &cfg), "%s: %s", line, err);
	memcpy(&v, (char *)&cfg + offset, sizeof(v));
	cfg_free(&cfg);
	return v;
}

static int load_int(const char *section, const char *line, size_t offset)
{
	struct hg_config cfg;
	int v;

	ck_assert_msg(load_one(section, line, &cfg), "%s: %s", line, err);
	memcpy(&v, (char *)&cfg + offset, sizeof(v));
	cfg_free(&cfg);
	return v;
}

/* ---- value parsers --------------------------------------------------------------------- */

START_TEST(size_good)
{
	static const struct {
		const char *in;
		uint64_t out;
	} cases[] = {
		{ "0", 0 },
		{ "512", 512 },
		{ "64k", 65536 },
		{ "64K", 65536 },
		{ "1m", 1048576 },
		{ "3M", 3145728 },
		{ "007", 7 },
		{ "18446744073709551615", UINT64_MAX },
		{ "18014398509481983k", 18014398509481983ULL * 1024 },
		{ "17592186044415m", 17592186044415ULL * 1048576 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = 1;

		ck_assert_msg(cfg_parse_size(cases[i].in, &v), "%s", cases[i].in);
		ck_assert_uint_eq(v, cases[i].out);
	}
}
END_TEST

START_TEST(size_bad)
{
	static const char *const cases[] = {
		"",
		"k",
		"-1",
		"+1",
		" 1",
		"1 ",
		"1 k",
		"1.5k",
		"1g",
		"1kb",
		"1kk",
		"0x10",
		"1b",
		"18446744073709551616",
		"18014398509481984k",
		"17592186044416m",
		"99999999999999999999999",
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = 42;

		ck_assert_msg(!cfg_parse_size(cases[i], &v), "accepted \"%s\"", cases[i]);
		ck_assert_uint_eq(v, 42);
	}
}
END_TEST

START_TEST(duration_good)
{
	static const struct {
		const char *in;
		int64_t ms;
	} cases[] = {
		{ "0", 0 },
		{ "10", 10000 },
		{ "500ms", 500 },
		{ "10s", 10000 },
		{ "15m", 900000 },
		{ "1h", 3600000 },
		{ "2d", 172800000 },
		{ "0ms", 0 },
		{ "9223372036854775807ms", INT64_MAX },
		{ "9223372036854775s", 9223372036854775000LL },
		{ "106751991167d", 106751991167LL * 86400000 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t v = -1;

		ck_assert_msg(cfg_parse_duration(cases[i].in, &v), "%s", cases[i].in);
		ck_assert_int_eq(v, cases[i].ms);
	}
}
END_TEST

START_TEST(duration_bad)
{
	static const char *const cases[] = {
		"",
		"s",
		"ms",
		"-1s",
		"+1s",
		"1x",
		"1S",
		"1H",
		"1.5h",
		"1 s",
		" 1s",
		"1sec",
		"1hm",
		"1w",
		"9223372036854775808ms",
		"9223372036854776s",
		"106751991168d",
		"18446744073709551616",
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t v = 42;

		ck_assert_msg(!cfg_parse_duration(cases[i], &v), "accepted \"%s\"", cases[i]);
		ck_assert_int_eq(v, 42);
	}
}
END_TEST

START_TEST(bool_values)
{
	static const char *const yes[] = { "on", "true", "yes", "1", "ON", "True", "YES" };
	static const char *const no[] = { "off", "false", "no", "0", "OFF", "False", "No" };
	static const char *const bad[] = { "", "2", "enable", "y", "n", "on ", "-1", "onn" };
	bool v;

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		v = false;
		ck_assert_msg(cfg_parse_bool(yes[i], &v) && v, "%s", yes[i]);
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		v = true;
		ck_assert_msg(cfg_parse_bool(no[i], &v) && !v, "%s", no[i]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!cfg_parse_bool(bad[i], &v), "accepted \"%s\"", bad[i]);
}
END_TEST

START_TEST(addr_good)
{
	static const struct {
		const char *in, *host;
		int port;
	} cases[] = {
		{ "127.0.0.1:8080", "127.0.0.1", 8080 },
		{ "[::1]:8081", "::1", 8081 },
		{ "localhost:1", "localhost", 1 },
		{ "0.0.0.0:65535", "0.0.0.0", 65535 },
		{ "[fe80::1%eth0]:443", "fe80::1%eth0", 443 },
		{ "[::]:80", "::", 80 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char host[64] = "unchanged";
		int port = -1;

		ck_assert_msg(cfg_parse_addr(cases[i].in, host, sizeof(host), &port), "%s",
			      cases[i].in);
		ck_assert_str_eq(host, cases[i].host);
		ck_assert_int_eq(port, cases[i].port);
	}
}
END_TEST

START_TEST(addr_bad)
{
	static const char *const cases[] = {
		"",
		"host",
		"host:",
		":80",
		"host:0",
		"host:65536",
		"host:99999999999999999999",
		"host:-1",
		"host:+80",
		"host:8o",
		"host:80 ",
		" host:80",
		"ho st:80",
		"::1:80",
		"[::1]80",
		"[::1]",
		"[]:80",
		"[::1:80",
		"::1]:80",
		"[::1]:",
		"[::1]:0",
		"a/b:80",
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char host[64];
		int port;

		ck_assert_msg(!cfg_parse_addr(cases[i], host, sizeof(host), &port),
			      "accepted \"%s\"", cases[i]);
	}
}
END_TEST

START_TEST(addr_host_buffer)
{
	char host[10];
	int port;

	/* "123456789" plus the NUL fills host exactly; one more character does not fit */
	ck_assert(cfg_parse_addr("123456789:80", host, sizeof(host), &port));
	ck_assert_str_eq(host, "123456789");
	ck_assert(!cfg_parse_addr("1234567890:80", host, sizeof(host), &port));
	ck_assert(!cfg_parse_addr("[1234567890]:80", host, sizeof(host), &port));
}
END_TEST

/* ---- defaults and the example file ----------------------------------------------------- */

static void assert_defaults(const struct hg_config *cfg, bool with_tls)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	ck_assert_str_eq(cfg->listen, "127.0.0.1:8080");
	ck_assert_str_eq(cfg->admin_listen, "127.0.0.1:8081");
	ck_assert_str_eq(cfg->public_url, "http://127.0.0.1:8080");
	ck_assert_int_eq(cfg->workers, ncpu < 1 ? 1 : ncpu > 256 ? 256 : ncpu);
	ck_assert_uint_eq(cfg->max_body_size, 65536);
	ck_assert_uint_eq(cfg->admin_max_body_size, 65536);
	ck_assert_int_eq(cfg->shutdown_timeout_ms, 10000);
	if (!with_tls) {
		ck_assert_ptr_null(cfg->tls_cert);
		ck_assert_ptr_null(cfg->tls_key);
	}
	ck_assert_int_eq(cfg->pool_size, 2);
	ck_assert_int_eq(cfg->usage_retention_ms, 400LL * 86400000);
	ck_assert_int_eq(cfg->twofa_session_ttl_ms, 900000);
	ck_assert_int_eq(cfg->login_max_failures, 5);
	ck_assert_int_eq(cfg->login_lockout_ms, 900000);
	ck_assert(cfg->login_rate == 0.5);
	ck_assert_int_eq(cfg->login_burst, 5);
	ck_assert(cfg->token_rate == 0.0);
	ck_assert_int_eq(cfg->token_burst, 20);
	ck_assert_int_eq(cfg->delivery_workers, 1);
	ck_assert_int_eq(cfg->delivery_timeout_ms, 15000);
	ck_assert_int_eq(cfg->delivery_connect_timeout_ms, 5000);
	ck_assert_int_eq(cfg->delivery_max_inflight_per_destination, 8);
	ck_assert_int_eq(cfg->delivery_max_inflight, 256);
	ck_assert_int_eq(cfg->delivery_batch, 256);
	ck_assert_int_eq(cfg->delivery_disable_after_ms, 5LL * 86400000);
	ck_assert_int_eq(cfg->delivery_retry_after_max_ms, 3600000);
	if (!with_tls) {
		ck_assert_ptr_null(cfg->delivery_allow_networks);
		ck_assert_ptr_null(cfg->delivery_ca_file);
	}
	ck_assert_int_eq(cfg->log_level, LOG_LEVEL_INFO);
	ck_assert_str_eq(cfg->log_file, "stderr");
	ck_assert(!cfg->log_access);
	ck_assert_ptr_nonnull(cfg->node_name); /* the host name: node_name_values */
}

START_TEST(defaults)
{
	struct hg_config cfg;

	ck_assert_msg(load(REQUIRED, &cfg), "%s", err);
	assert_defaults(&cfg, false);
	ck_assert_str_eq(cfg.web_dir, HG_WEB_DIR);
	ck_assert_str_eq(cfg.conninfo, "dbname=x");
	ck_assert_str_eq(cfg.secret_key_file, "/k");
	ck_assert_str_eq(cfg.path, "test.conf");
	cfg_free(&cfg);
	ck_assert_msg(load(REQUIRED "[server]\nweb_dir = /srv/hookgate web\n", &cfg), "%s", err);
	ck_assert_str_eq(cfg.web_dir, "/srv/hookgate web");
	cfg_free(&cfg);
	expect_error(REQUIRED "[server]\nweb_dir =\n", "test.conf:6: server.web_dir: empty value");
	ck_assert(is_zeroed(&cfg));
	cfg_free(&cfg); /* freeing a freed (zeroed) config is harmless */
}
END_TEST

static char *example_path(void)
{
	/* The source, not the built file: they differ only in a commented-out path. */
	static const char *const fallbacks[] = { "etc/hookgate.conf.in", "../etc/hookgate.conf.in",
						 "../../etc/hookgate.conf.in" };
	const char *srcdir = getenv("HG_SRCDIR");
	char *path;

	if (srcdir != NULL && *srcdir != '\0') {
		ck_assert_int_ge(asprintf(&path, "%s/etc/hookgate.conf.in", srcdir), 0);
		return path;
	}
	for (size_t i = 0; i < sizeof(fallbacks) / sizeof(fallbacks[0]); i++) {
		if (access(fallbacks[i], R_OK) == 0)
			return strdup(fallbacks[i]);
	}
	ck_abort_msg("etc/hookgate.conf.in not found: set HG_SRCDIR to the source directory");
	return NULL;
}

START_TEST(example_file_parses)
{
	struct hg_config cfg;
	char *path = example_path();

	ck_assert_msg(cfg_load(path, &cfg, err, sizeof(err)), "%s", err);
	ck_assert_str_eq(cfg.path, path);
	ck_assert_str_eq(cfg.conninfo, "host=/var/run/postgresql dbname=hookgate");
	ck_assert_str_eq(cfg.secret_key_file, "/etc/hookgate/secret.key");
	assert_defaults(&cfg, false);
	cfg_free(&cfg);
	free(path);
}
END_TEST

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *text;
	long len;

	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	ck_assert_int_ge(len, 0);
	rewind(f);
	text = calloc(1, (size_t)len + 1);
	ck_assert_ptr_nonnull(text);
	ck_assert_uint_eq(fread(text, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	return text;
}

/* The example documents each key as "#key = default"; uncommenting all of them must give
 * exactly the built-in defaults, so the file and the table cannot drift apart. */
START_TEST(example_documents_every_default)
{
	static const char *const keys[] = {
		"listen",
		"workers",
		"admin_listen",
		"public_url",
		"max_body_size",
		"admin_max_body_size",
		"shutdown_timeout",
		"tls_cert",
		"tls_key",
		"web_dir",
		"conninfo",
		"pool_size",
		"usage_retention",
		"secret_key_file",
		"twofa_session_ttl",
		"login_max_failures",
		"login_lockout",
		"login_rate",
		"login_burst",
		"token_rate",
		"token_burst",
		"workers",
		"timeout",
		"connect_timeout",
		"max_inflight_per_destination",
		"max_inflight",
		"batch",
		"disable_after",
		"retry_after_max",
		"allow_networks",
		"ca_file",
		"name",
		"level",
		"file",
		"access",
	};
	struct hg_config cfg;
	char *path = example_path(), *text = read_all(path);
	char commented[64], set[64];

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		snprintf(commented, sizeof(commented), "\n#%s = ", keys[i]);
		snprintf(set, sizeof(set), "\n%s = ", keys[i]);
		ck_assert_msg(strstr(text, commented) != NULL || strstr(text, set) != NULL,
			      "key %s is not documented", keys[i]);
	}
	for (char *p = text; (p = strstr(p, "\n#")) != NULL; p++) {
		if (p[2] >= 'a' && p[2] <= 'z')
			p[1] = ' ';
	}
	ck_assert_msg(cfg_load_string(path, text, &cfg, err, sizeof(err)), "%s", err);
	assert_defaults(&cfg, true);
	/* The example names the configured prefix's directory, a placeholder in the source. */
	ck_assert_str_eq(cfg.web_dir, "@pkgdatadir@/web");
	ck_assert_ptr_nonnull(cfg.tls_cert);
	ck_assert_ptr_nonnull(cfg.tls_key);
	/* Keys without a default show an example value. */
	ck_assert_str_eq(cfg.delivery_allow_networks, "10.20.0.0/16, fd12:3456::/32");
	ck_assert_ptr_nonnull(cfg.delivery_ca_file);
	cfg_free(&cfg);
	free(text);
	free(path);
}
END_TEST

/* ---- error messages -------------------------------------------------------------------- */

START_TEST(error_unknown_section)
{
	expect_error(REQUIRED "\n[foo]\n", "test.conf:6: unknown section [foo]");
	expect_error("[Server]\n", "test.conf:1: unknown section [Server]");
	expect_error("[]\n", "test.conf:1: unknown section []");
}
END_TEST

START_TEST(error_unknown_key)
{
	expect_error(REQUIRED "[server]\n# comment\nbar = 1\n",
		     "test.conf:7: unknown key \"bar\" in section [server]");
	/* a key is only known in its own section */
	expect_error("[server]\nconninfo = x\n",
		     "test.conf:2: unknown key \"conninfo\" in section [server]");
}
END_TEST

START_TEST(error_key_before_section)
{
	expect_error("# header\n\nlisten = 127.0.0.1:1\n" REQUIRED,
		     "test.conf:3: key \"listen\" before any [section]");
}
END_TEST

START_TEST(error_duplicate_key)
{
	expect_error(REQUIRED "[server]\nworkers = 2\n[database]\npool_size = 3\n"
			      "[server]\nworkers = 2\n",
		     "test.conf:10: duplicate key server.workers (first set on line 6)");
	expect_error(REQUIRED "[database]\nconninfo = y\n",
		     "test.conf:6: duplicate key database.conninfo (first set on line 2)");
}
END_TEST

START_TEST(error_bad_value)
{
	expect_value_error("server", "max_body_size = 12q",
			   "server.max_body_size: bad size \"12q\" "
			   "(use a number with optional k or m)");
	expect_value_error("server", "shutdown_timeout = 1w",
			   "server.shutdown_timeout: bad duration \"1w\" (use a number with "
			   "optional ms, s, m, h or d)");
	expect_value_error("server", "listen = 127.0.0.1",
			   "server.listen: bad address \"127.0.0.1\" (use host:port or "
			   "[v6]:port, port 1-65535)");
	expect_value_error("server", "public_url = ftp://x",
			   "server.public_url: bad URL \"ftp://x\" (use http://HOST[:PORT][/PATH] "
			   "or https://...)");
	expect_value_error("database", "pool_size = two",
			   "database.pool_size: bad integer \"two\"");
	expect_value_error("server", "workers = many",
			   "server.workers: bad value \"many\" (use auto or a number)");
	expect_value_error("limits", "token_rate = fast",
			   "limits.token_rate: bad number \"fast\" (use a decimal number >= 0)");
	expect_value_error("log", "access = maybe",
			   "log.access: bad boolean \"maybe\" (use on/off, true/false, yes/no or "
			   "1/0)");
	expect_value_error("log", "level = verbose",
			   "log.level: bad level \"verbose\" (use error, warn, info or debug)");
	expect_value_error("log", "file =", "log.file: empty value");
	expect_value_error("server", "tls_cert = \"\"", "server.tls_cert: empty value");
}
END_TEST

/* conninfo may hold a password: a bad one is described, never echoed. */
START_TEST(error_does_not_echo_conninfo)
{
	expect_error("[database]\nconninfo = \"password=hunter2\x01\"\n",
		     "test.conf:2: database.conninfo: value contains a control character");
	expect_error("[database]\nconninfo = \"\"\n",
		     "test.conf:2: database.conninfo: empty value");
}
END_TEST

START_TEST(error_syntax)
{
	expect_error(REQUIRED "listen\n",
		     "test.conf:5: syntax error: expected [section], key = value or a comment");
	expect_error("[server\n", "test.conf:1: syntax error: a section line must be [name]");
	expect_error("[server] # x\n", "test.conf:1: syntax error: a section line must be [name]");
	expect_error("[server]\n= 1\n", "test.conf:2: syntax error: missing key");
	expect_error("[server]\nlisten = \"127.0.0.1:80\n",
		     "test.conf:2: syntax error: unterminated quoted value");
	expect_error("[server]\nlisten = \"\n",
		     "test.conf:2: syntax error: unterminated quoted value");
	expect_error("  # c\n\t; c\n [server] \n  // c\n",
		     "test.conf:4: syntax error: expected [section], key = value or a comment");
}
END_TEST

/* Line 2 is "conninfo = aaa..." of len bytes followed by eol; with an empty eol it is the
 * last line of the text, without a newline. A line of exactly 4096 bytes is accepted. */
static char *line_of(size_t len, const char *eol)
{
	static const char head[] = "[database]\nconninfo = ";
	static const char tail[] = "[security]\nsecret_key_file = /k\n";
	size_t key_len = strlen("conninfo = ");
	char *text = calloc(1, sizeof(head) + len + sizeof(tail) + 8);

	ck_assert_ptr_nonnull(text);
	strcpy(text, head);
	memset(text + strlen(text), 'a', len - key_len);
	if (*eol != '\0') {
		strcat(text, eol);
		strcat(text, tail);
	}
	return text;
}

START_TEST(error_line_too_long)
{
	struct hg_config cfg;
	char *ok = line_of(4096, "\n"), *ok_crlf = line_of(4096, "\r\n");
	char *long1 = line_of(4097, "\n"), *last = line_of(5000, "");

	ck_assert_msg(load(ok, &cfg), "%s", err);
	ck_assert_uint_eq(strlen(cfg.conninfo), 4096 - strlen("conninfo = "));
	cfg_free(&cfg);
	ck_assert_msg(load(ok_crlf, &cfg), "%s", err);
	cfg_free(&cfg);
	expect_error(long1, "test.conf:2: line too long (more than 4096 bytes)");
	expect_error(last, "test.conf:2: line too long (more than 4096 bytes)");
	free(ok);
	free(ok_crlf);
	free(long1);
	free(last);
}
END_TEST

START_TEST(error_cannot_open)
{
	struct hg_config cfg;
	char expected[512];

	memset(&cfg, 0xa5, sizeof(cfg));
	ck_assert(!cfg_load("/nonexistent/hookgate.conf", &cfg, err, sizeof(err)));
	snprintf(expected, sizeof(expected), "/nonexistent/hookgate.conf: cannot open: %s",
		 strerror(ENOENT));
	ck_assert_str_eq(err, expected);
	ck_assert(is_zeroed(&cfg));

	ck_assert(!cfg_load("/", &cfg, err, sizeof(err)));
	snprintf(expected, sizeof(expected), "/: cannot read: %s", strerror(EISDIR));
	ck_assert_str_eq(err, expected);
	ck_assert(is_zeroed(&cfg));
}
END_TEST

/* Read at most 1 MiB: "-c /dev/zero" must fail at once, not fill the memory. */
START_TEST(error_file_too_large)
{
	struct hg_config cfg;

	ck_assert(!cfg_load("/dev/zero", &cfg, err, sizeof(err)));
	ck_assert_str_eq(err, "/dev/zero: file too large (over 1048576 bytes)");
	ck_assert(is_zeroed(&cfg));
}
END_TEST

START_TEST(error_required)
{
	expect_error("[security]\nsecret_key_file = /k\n",
		     "test.conf: database.conninfo is required");
	expect_error("[database]\nconninfo = x\n",
		     "test.conf: security.secret_key_file is required");
	expect_error("", "test.conf: database.conninfo is required");
}
END_TEST

START_TEST(error_tls_pair)
{
	struct hg_config cfg;

	expect_error(REQUIRED "[server]\ntls_cert = /c.pem\n",
		     "test.conf: server.tls_cert and server.tls_key must be set together");
	expect_error(REQUIRED "[server]\ntls_key = /k.pem\n",
		     "test.conf: server.tls_cert and server.tls_key must be set together");
	ck_assert_msg(load(REQUIRED "[server]\ntls_cert = /c.pem\ntls_key = /k.pem\n", &cfg), "%s",
		      err);
	ck_assert_str_eq(cfg.tls_cert, "/c.pem");
	ck_assert_str_eq(cfg.tls_key, "/k.pem");
	cfg_free(&cfg);
}
END_TEST

START_TEST(error_same_listeners)
{
	expect_error(REQUIRED "[server]\nlisten = 127.0.0.1:9000\nadmin_listen = 127.0.0.1:9000\n",
		     "test.conf: server.listen and server.admin_listen must differ");
	expect_error(REQUIRED "[server]\nmetrics_listen = 127.0.0.1:8081\n",
		     "test.conf: server.metrics_listen must differ from server.listen and "
		     "server.admin_listen");
	expect_error(REQUIRED "[server]\nmetrics_listen = 127.0.0.1:8080\n",
		     "test.conf: server.metrics_listen must differ from server.listen and "
		     "server.admin_listen");
}
END_TEST

START_TEST(error_nul_byte)
{
	struct hg_config cfg;
	char path[] = "/tmp/check_config_XXXXXX";
	int fd = mkstemp(path);
	char expected[256];

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, REQUIRED "#\0x\n", sizeof(REQUIRED) + 3),
			 (ssize_t)sizeof(REQUIRED) + 3);
	close(fd);
	ck_assert(!cfg_load(path, &cfg, err, sizeof(err)));
	snprintf(expected, sizeof(expected), "%s: contains a NUL byte", path);
	ck_assert_str_eq(err, expected);
	ck_assert(is_zeroed(&cfg));
	unlink(path);
}
END_TEST

/* A short error buffer truncates the message but never overflows. */
START_TEST(error_small_buffer)
{
	struct hg_config cfg;
	char small[12];

	memset(small, 'x', sizeof(small));
	ck_assert(!cfg_load_string("test.conf", "[foo]\n", &cfg, small, sizeof(small)));
	ck_assert_str_eq(small, "test.conf:1");
	ck_assert(!cfg_load_string("test.conf", "[foo]\n", &cfg, NULL, 0));
}
END_TEST

/* ---- keys, types and ranges ------------------------------------------------------------ */

/* An integer key takes lo and hi; lo - 1 and hi + 1 are out of range "(lo..hi)". */
static void expect_int_range(const char *section, const char *key, size_t offset, int lo, int hi)
{
	const int in[] = { lo, hi }, out[] = { lo - 1, hi + 1 };
	char line[128], message[256];

	for (size_t i = 0; i < 2; i++) {
		snprintf(line, sizeof(line), "%s = %d", key, in[i]);
		ck_assert_int_eq(load_int(section, line, offset), in[i]);
		snprintf(line, sizeof(line), "%s = %d", key, out[i]);
		snprintf(message, sizeof(message), "%s.%s: \"%d\" is out of range (%d..%d)",
			 section, key, out[i], lo, hi);
		expect_value_error(section, line, message);
	}
}

START_TEST(workers_values)
{
	size_t off = offsetof(struct hg_config, workers);
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	ck_assert_int_eq(load_int("server", "workers = auto", off), ncpu < 1	 ? 1
								    : ncpu > 256 ? 256
										 : ncpu);
	ck_assert_int_eq(load_int("server", "workers = 1", off), 1);
	ck_assert_int_eq(load_int("server", "workers = 256", off), 256);
	expect_value_error("server", "workers = 0",
			   "server.workers: \"0\" is out of range (1..256)");
	expect_value_error("server", "workers = 257",
			   "server.workers: \"257\" is out of range (1..256)");
	expect_value_error("server", "workers = -1",
			   "server.workers: \"-1\" is out of range (1..256)");
	expect_value_error("server", "workers = 99999999999",
			   "server.workers: bad value \"99999999999\" (use auto or a number)");
	expect_value_error("server", "workers = AUTO",
			   "server.workers: bad value \"AUTO\" (use auto or a number)");
}
END_TEST

START_TEST(int_ranges)
{
	expect_int_range("database", "pool_size", offsetof(struct hg_config, pool_size), 1, 64);
	expect_value_error("database", "pool_size = +2", "database.pool_size: bad integer \"+2\"");
	expect_value_error("database", "pool_size = 2.0",
			   "database.pool_size: bad integer \"2.0\"");
	expect_int_range("security", "login_max_failures",
			 offsetof(struct hg_config, login_max_failures), 1, 1000);
	expect_int_range("security", "login_burst", offsetof(struct hg_config, login_burst), 1,
			 1000);
	expect_int_range("limits", "token_burst", offsetof(struct hg_config, token_burst), 1,
			 1000000);
	expect_value_error("limits", "token_burst = 2147483648",
			   "limits.token_burst: bad integer \"2147483648\"");
	expect_int_range("delivery", "workers", offsetof(struct hg_config, delivery_workers), 0,
			 64);
	expect_int_range("delivery", "max_inflight_per_destination",
			 offsetof(struct hg_config, delivery_max_inflight_per_destination), 1, 256);
	expect_int_range("delivery", "max_inflight",
			 offsetof(struct hg_config, delivery_max_inflight), 1, 10000);
	expect_int_range("delivery", "batch", offsetof(struct hg_config, delivery_batch), 1, 10000);
}
END_TEST

START_TEST(size_range)
{
	struct hg_config cfg;

	ck_assert_msg(load_one("server", "max_body_size = 64m", &cfg), "%s", err);
	ck_assert_uint_eq(cfg.max_body_size, 64 * 1048576);
	cfg_free(&cfg);
	ck_assert_msg(load_one("server", "max_body_size = 1", &cfg), "%s", err);
	ck_assert_uint_eq(cfg.max_body_size, 1);
	cfg_free(&cfg);
	ck_assert_msg(load_one("server", "max_body_size = 512K", &cfg), "%s", err);
	ck_assert_uint_eq(cfg.max_body_size, 524288);
	cfg_free(&cfg);
	expect_value_error("server", "max_body_size = 67108865",
			   "server.max_body_size: \"67108865\" is out of range (1..64m)");
	expect_value_error("server", "max_body_size = 0",
			   "server.max_body_size: \"0\" is out of range (1..64m)");
	expect_value_error("server", "max_body_size = 18446744073709551616",
			   "server.max_body_size: bad size \"18446744073709551616\" (use a number "
			   "with optional k or m)");
	/* the admin API's own limit, independent of the webhooks' */
	ck_assert_msg(load_one("server", "admin_max_body_size = 2k", &cfg), "%s", err);
	ck_assert_uint_eq(cfg.admin_max_body_size, 2048);
	ck_assert_uint_eq(cfg.max_body_size, 65536);
	cfg_free(&cfg);
	expect_value_error("server", "admin_max_body_size = 0",
			   "server.admin_max_body_size: \"0\" is out of range (1..64m)");
	expect_value_error("server", "admin_max_body_size = 65m",
			   "server.admin_max_body_size: \"65m\" is out of range (1..64m)");
}
END_TEST

/* A duration key takes lo and hi (given as text, expected in ms); below and above are out of
 * range "(lo..hi)". */
static void expect_duration_range(const char *section, const char *key, size_t offset,
				  const char *lo, int64_t lo_ms, const char *hi, int64_t hi_ms,
				  const char *below, const char *above)
{
	const char *out[] = { below, above };
	char line[128], message[256];

	snprintf(line, sizeof(line), "%s = %s", key, lo);
	ck_assert_int_eq(load_duration(section, line, offset), lo_ms);
	snprintf(line, sizeof(line), "%s = %s", key, hi);
	ck_assert_int_eq(load_duration(section, line, offset), hi_ms);
	for (size_t i = 0; i < 2; i++) {
		snprintf(line, sizeof(line), "%s = %s", key, out[i]);
		snprintf(message, sizeof(message), "%s.%s: \"%s\" is out of range (%s..%s)",
			 section, key, out[i], lo, hi);
		expect_value_error(section, line, message);
	}
}

START_TEST(duration_ranges)
{
	ck_assert_int_eq(load_duration("server", "shutdown_timeout = 0",
				       offsetof(struct hg_config, shutdown_timeout_ms)),
			 0);
	ck_assert_int_eq(load_duration("server", "shutdown_timeout = 1h",
				       offsetof(struct hg_config, shutdown_timeout_ms)),
			 3600000);
	expect_value_error("server", "shutdown_timeout = 3601s",
			   "server.shutdown_timeout: \"3601s\" is out of range (0..1h)");
	ck_assert_int_eq(load_duration("security", "twofa_session_ttl = 10s",
				       offsetof(struct hg_config, twofa_session_ttl_ms)),
			 10000);
	ck_assert_int_eq(load_duration("security", "twofa_session_ttl = 24h",
				       offsetof(struct hg_config, twofa_session_ttl_ms)),
			 86400000);
	expect_value_error("security", "twofa_session_ttl = 9999ms",
			   "security.twofa_session_ttl: \"9999ms\" is out of range (10s..24h)");
	expect_value_error("security", "twofa_session_ttl = 1441m",
			   "security.twofa_session_ttl: \"1441m\" is out of range (10s..24h)");
	ck_assert_int_eq(load_duration("security", "login_lockout = 1",
				       offsetof(struct hg_config, login_lockout_ms)),
			 1000);
	ck_assert_int_eq(load_duration("security", "login_lockout = 30d",
				       offsetof(struct hg_config, login_lockout_ms)),
			 2592000000LL);
	expect_value_error("security", "login_lockout = 999ms",
			   "security.login_lockout: \"999ms\" is out of range (1s..30d)");
	expect_value_error("security", "login_lockout = 31d",
			   "security.login_lockout: \"31d\" is out of range (1s..30d)");
	ck_assert_int_eq(load_duration("database", "usage_retention = 0",
				       offsetof(struct hg_config, usage_retention_ms)),
			 0);
	ck_assert_int_eq(load_duration("database", "usage_retention = 36500d",
				       offsetof(struct hg_config, usage_retention_ms)),
			 36500LL * 86400000);
	expect_value_error("database", "usage_retention = 36501d",
			   "database.usage_retention: \"36501d\" is out of range (0..36500d)");
	expect_duration_range("delivery", "timeout",
			      offsetof(struct hg_config, delivery_timeout_ms), "1s", 1000, "5m",
			      300000, "999ms", "301s");
	expect_duration_range("delivery", "connect_timeout",
			      offsetof(struct hg_config, delivery_connect_timeout_ms), "100ms", 100,
			      "1m", 60000, "99ms", "61s");
	expect_duration_range("delivery", "disable_after",
			      offsetof(struct hg_config, delivery_disable_after_ms), "1h", 3600000,
			      "365d", 365LL * 86400000, "59m", "366d");
	expect_duration_range("delivery", "retry_after_max",
			      offsetof(struct hg_config, delivery_retry_after_max_ms), "1s", 1000,
			      "1d", 86400000, "999ms", "25h");
}
END_TEST

/* The delivery keys without a default: unset, or any text (the allow list is parsed by the
 * delivery worker); an empty value is refused like every string's. */
START_TEST(delivery_strings)
{
	struct hg_config cfg;

	ck_assert_msg(load_one("delivery", "allow_networks = 127.0.0.0/8, ::1/128", &cfg), "%s",
		      err);
	ck_assert_str_eq(cfg.delivery_allow_networks, "127.0.0.0/8, ::1/128");
	cfg_free(&cfg);
	ck_assert_msg(load_one("delivery", "ca_file = /etc/ssl/ours.pem", &cfg), "%s", err);
	ck_assert_str_eq(cfg.delivery_ca_file, "/etc/ssl/ours.pem");
	ck_assert_ptr_null(cfg.delivery_allow_networks);
	cfg_free(&cfg);
	expect_value_error("delivery", "allow_networks =", "delivery.allow_networks: empty value");
	expect_value_error("delivery", "ca_file = \"\"", "delivery.ca_file: empty value");
}
END_TEST

START_TEST(token_rate_values)
{
	static const struct {
		const char *in;
		double out;
	} good[] = { { "0", 0 },   { "0.5", 0.5 },     { ".25", 0.25 },
		     { "10", 10 }, { "1000000", 1e6 }, { "1e3", 1000 } };
	static const char *const bad[] = {
		"-1", "inf", "nan", "0x10", "1,5", "", "1 ", "e3", "-0.5"
	};
	struct hg_config cfg;
	char line[64];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(line, sizeof(line), "token_rate = %s", good[i].in);
		ck_assert_msg(load_one("limits", line, &cfg), "%s: %s", line, err);
		ck_assert(cfg.token_rate == good[i].out);
		cfg_free(&cfg);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(line, sizeof(line), "token_rate = \"%s\"", bad[i]);
		ck_assert_msg(!load_one("limits", line, &cfg), "accepted %s", line);
		ck_assert_msg(strstr(err, "limits.token_rate: bad number") != NULL, "%s", err);
	}
	expect_value_error("limits", "token_rate = 1000000.5",
			   "limits.token_rate: \"1000000.5\" is out of range (0..1000000)");
	ck_assert_msg(load_one("security", "login_rate = 0", &cfg), "%s", err);
	ck_assert(cfg.login_rate == 0);
	cfg_free(&cfg);
	ck_assert_msg(load_one("security", "login_rate = 1000", &cfg), "%s", err);
	ck_assert(cfg.login_rate == 1000);
	cfg_free(&cfg);
	expect_value_error("security", "login_rate = 1000.5",
			   "security.login_rate: \"1000.5\" is out of range (0..1000)");
	expect_value_error("security", "login_rate = -1",
			   "security.login_rate: bad number \"-1\" (use a decimal number >= 0)");
}
END_TEST

START_TEST(log_values)
{
	static const struct {
		const char *name;
		int level;
	} levels[] = { { "error", LOG_LEVEL_ERROR },
		       { "warn", LOG_LEVEL_WARN },
		       { "info", LOG_LEVEL_INFO },
		       { "debug", LOG_LEVEL_DEBUG } };
	struct hg_config cfg;
	char text[512];

	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		snprintf(text, sizeof(text), "level = %s", levels[i].name);
		ck_assert_int_eq(load_int("log", text, offsetof(struct hg_config, log_level)),
				 levels[i].level);
	}
	ck_assert_msg(load(REQUIRED "[log]\nfile = syslog\naccess = on\n", &cfg), "%s", err);
	ck_assert_str_eq(cfg.log_file, "syslog");
	ck_assert(cfg.log_access);
	cfg_free(&cfg);
	ck_assert_msg(load(REQUIRED "[log]\nfile = /var/log/hookgate/hookgate.log\n", &cfg), "%s",
		      err);
	ck_assert_str_eq(cfg.log_file, "/var/log/hookgate/hookgate.log");
	cfg_free(&cfg);
}
END_TEST

/* node.name: a name as given, or the host name for auto (the default); anything a log line, a
 * metrics label or a usage row could not carry unquoted is refused. */
START_TEST(node_name_values)
{
	struct hg_config cfg;
	char host[256], line[100];
	char name63[64] = "";

	ck_assert_msg(load_one("node", "name = gw-2.eu_west", &cfg), "%s", err);
	ck_assert_str_eq(cfg.node_name, "gw-2.eu_west");
	cfg_free(&cfg);
	ck_assert_int_eq(gethostname(host, sizeof(host)), 0);
	ck_assert_msg(load_one("node", "name = auto", &cfg), "%s", err);
	ck_assert_str_eq(cfg.node_name, host);
	cfg_free(&cfg);
	memset(name63, 'a', 63);
	snprintf(line, sizeof(line), "name = %s", name63);
	ck_assert_msg(load_one("node", line, &cfg), "%s", err);
	ck_assert_str_eq(cfg.node_name, name63);
	cfg_free(&cfg);
	snprintf(line, sizeof(line), "name = %sa", name63);
	snprintf(host, sizeof(host),
		 "node.name: bad node name \"%sa\" (use 1 to 63 letters, digits, '.', '_' or '-', "
		 "or auto)",
		 name63);
	expect_value_error("node", line, host);
	expect_value_error(
		"node", "name = gw 2",
		"node.name: bad node name \"gw 2\" (use 1 to 63 letters, digits, '.', '_' "
		"or '-', or auto)");
	expect_value_error(
		"node", "name = gw/2",
		"node.name: bad node name \"gw/2\" (use 1 to 63 letters, digits, '.', '_' "
		"or '-', or auto)");
}
END_TEST

START_TEST(url_values)
{
	static const struct {
		const char *in, *out;
	} good[] = {
		{ "http://example.com", "http://example.com" },
		{ "https://example.com/", "https://example.com" },
		{ "https://example.com/hooks//", "https://example.com/hooks" },
		{ "HTTPS://Example.com:8443/x", "HTTPS://Example.com:8443/x" },
		{ "http://[::1]:8080/", "http://[::1]:8080" },
	};
	static const char *const bad[] = { "ftp://x",	  "http://",	"https:///", "http:///x",
					   "example.com", "http://a b", "http:/x",   "//x" };
	struct hg_config cfg;
	char line[128];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(line, sizeof(line), "public_url = %s", good[i].in);
		ck_assert_msg(load_one("server", line, &cfg), "%s: %s", line, err);
		ck_assert_str_eq(cfg.public_url, good[i].out);
		cfg_free(&cfg);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(line, sizeof(line), "public_url = %s", bad[i]);
		ck_assert_msg(!load_one("server", line, &cfg), "accepted %s", line);
		ck_assert_msg(strstr(err, "server.public_url: bad URL") != NULL, "%s", err);
	}
}
END_TEST

START_TEST(addr_keys)
{
	struct hg_config cfg;

	ck_assert_msg(
		load(REQUIRED "[server]\nlisten = [::1]:8080\nadmin_listen = 0.0.0.0:9\n", &cfg),
		"%s", err);
	ck_assert_str_eq(cfg.listen, "[::1]:8080");
	ck_assert_str_eq(cfg.admin_listen, "0.0.0.0:9");
	cfg_free(&cfg);
	expect_value_error("server", "admin_listen = 127.0.0.1:65536",
			   "server.admin_listen: bad address \"127.0.0.1:65536\" (use host:port "
			   "or [v6]:port, port 1-65535)");
}
END_TEST

/* ---- syntax ---------------------------------------------------------------------------- */

START_TEST(quotes_and_whitespace)
{
	struct hg_config cfg;

	ck_assert_msg(load("[database]\n  conninfo\t=\t\"  host=a  dbname=b \"  \n"
			   "[ security ]\nsecret_key_file=/k\n[server]\nlisten = \"[::1]:1\"\n"
			   "public_url=\"http://x/\"\n[log]\nfile = \"a\"b\"\n",
			   &cfg),
		      "%s", err);
	ck_assert_str_eq(cfg.conninfo, "  host=a  dbname=b ");
	ck_assert_str_eq(cfg.secret_key_file, "/k");
	ck_assert_str_eq(cfg.listen, "[::1]:1");
	ck_assert_str_eq(cfg.public_url, "http://x");
	ck_assert_str_eq(cfg.log_file, "a\"b");
	cfg_free(&cfg);
}
END_TEST

START_TEST(comments_and_blank_lines)
{
	struct hg_config cfg;

	ck_assert_msg(load("# top\n; also\n\n   \n\t# indented\n  ; indented\n"
			   "[database]\nconninfo = dbname=a # not a comment\n"
			   "#conninfo = ignored\n;pool_size = 9\n"
			   "[security]\nsecret_key_file = /k;x\n",
			   &cfg),
		      "%s", err);
	ck_assert_str_eq(cfg.conninfo, "dbname=a # not a comment");
	ck_assert_str_eq(cfg.secret_key_file, "/k;x");
	ck_assert_int_eq(cfg.pool_size, 2);
	cfg_free(&cfg);
}
END_TEST

START_TEST(crlf_and_bom)
{
	struct hg_config cfg;

	ck_assert_msg(load("\xef\xbb\xbf# bom\r\n[database]\r\nconninfo = \"dbname=a\"\r\n\r\n"
			   "[security]\r\nsecret_key_file = /k\r\n[log]\r\naccess = yes",
			   &cfg),
		      "%s", err);
	ck_assert_str_eq(cfg.conninfo, "dbname=a");
	ck_assert_str_eq(cfg.secret_key_file, "/k");
	ck_assert(cfg.log_access);
	cfg_free(&cfg);
	/* line numbers count CRLF lines too */
	expect_error("[server]\r\n\r\nnope = 1\r\n",
		     "test.conf:3: unknown key \"nope\" in section [server]");
}
END_TEST

START_TEST(repeated_section_header)
{
	struct hg_config cfg;

	ck_assert(!load(REQUIRED "[server]\nworkers = 3\n[log]\n[server]\npool = x\n", &cfg));
	ck_assert_str_eq(err, "test.conf:9: unknown key \"pool\" in section [server]");
	ck_assert_msg(load(REQUIRED "[server]\nworkers = 3\n[log]\nlevel = debug\n[server]\n"
				    "max_body_size = 1k\n",
			   &cfg),
		      "%s", err);
	ck_assert_int_eq(cfg.workers, 3);
	ck_assert_uint_eq(cfg.max_body_size, 1024);
	ck_assert_int_eq(cfg.log_level, LOG_LEVEL_DEBUG);
	cfg_free(&cfg);
}
END_TEST

START_TEST(load_from_file)
{
	struct hg_config cfg;
	char path[] = "/tmp/check_config_XXXXXX";
	int fd = mkstemp(path);
	static const char text[] = REQUIRED "[server]\nlisten = 127.0.0.1:18080\n";

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
	close(fd);
	ck_assert_msg(cfg_load(path, &cfg, err, sizeof(err)), "%s", err);
	ck_assert_str_eq(cfg.path, path);
	ck_assert_str_eq(cfg.listen, "127.0.0.1:18080");
	cfg_free(&cfg);
	unlink(path);
}
END_TEST

/* ---- reload ---------------------------------------------------------------------------- */

START_TEST(reload_comparison)
{
	struct hg_config a, b;
	char buf[256];

	ck_assert_msg(load(REQUIRED "[server]\ntls_cert = /c\ntls_key = /k\n", &a), "%s", err);
	ck_assert_msg(load("[database]\nconninfo = dbname=other\npool_size = 9\n"
			   "[security]\nsecret_key_file = /other\n[server]\nworkers = 7\n"
			   "tls_cert = /c\ntls_key = /k\nmax_body_size = 1m\n"
			   "admin_max_body_size = 2k\n[log]\nlevel = debug\n",
			   &b),
		      "%s", err);
	memset(buf, 'x', sizeof(buf));
	ck_assert_int_eq(cfg_unreloadable_changes(&a, &b, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "");
	cfg_free(&b);

	ck_assert_msg(load(REQUIRED "[server]\nlisten = [::1]:8080\nadmin_listen = 127.0.0.1:8082\n"
				    "tls_cert = /c2\ntls_key = /k\n",
			   &b),
		      "%s", err);
	ck_assert_int_eq(cfg_unreloadable_changes(&a, &b, buf, sizeof(buf)), 3);
	ck_assert_str_eq(buf, "server.listen, server.admin_listen, server.tls_cert");
	ck_assert_int_eq(cfg_unreloadable_changes(&a, &b, buf, 20), 3);
	ck_assert_str_eq(buf, "server.listen, serv");
	ck_assert_int_eq(cfg_unreloadable_changes(&a, &b, NULL, 0), 3);
	cfg_free(&b);

	/* going from TLS to plain text is a change too (set vs unset) */
	ck_assert_msg(load(REQUIRED, &b), "%s", err);
	ck_assert_int_eq(cfg_unreloadable_changes(&a, &b, buf, sizeof(buf)), 2);
	ck_assert_str_eq(buf, "server.tls_cert, server.tls_key");
	ck_assert_int_eq(cfg_unreloadable_changes(&b, &a, buf, sizeof(buf)), 2);
	cfg_free(&a);
	cfg_free(&b);

	/* delivery.workers needs a restart; every other delivery key reloads. */
	ck_assert_msg(load(REQUIRED, &a), "%s", err);
	ck_assert_msg(load(REQUIRED
			   "[delivery]\ntimeout = 20s\nconnect_timeout = 1s\n"
			   "max_inflight_per_destination = 2\nmax_inflight = 9\nbatch = 5\n"
			   "disable_after = 1d\nretry_after_max = 1m\n"
			   "allow_networks = 10.0.0.0/8\nca_file = /ca.pem\n",
			   &b),
		      "%s", err);
	ck_assert_int_eq(cfg_unreloadable_changes(&a, &b, buf, sizeof(buf)), 0);
	cfg_free(&b);
	ck_assert_msg(load(REQUIRED "[delivery]\nworkers = 0\n", &b), "%s", err);
	ck_assert_int_eq(cfg_unreloadable_changes(&a, &b, buf, sizeof(buf)), 1);
	ck_assert_str_eq(buf, "delivery.workers");
	cfg_free(&a);
	cfg_free(&b);
}
END_TEST

Suite *make_suite_config(void)
{
	Suite *s = suite_create("config");
	TCase *parsers = tcase_create("parsers");
	TCase *file = tcase_create("file");
	TCase *errors = tcase_create("errors");
	TCase *keys = tcase_create("keys");

	tcase_add_test(parsers, size_good);
	tcase_add_test(parsers, size_bad);
	tcase_add_test(parsers, duration_good);
	tcase_add_test(parsers, duration_bad);
	tcase_add_test(parsers, bool_values);
	tcase_add_test(parsers, addr_good);
	tcase_add_test(parsers, addr_bad);
	tcase_add_test(parsers, addr_host_buffer);
	suite_add_tcase(s, parsers);

	tcase_add_test(file, defaults);
	tcase_add_test(file, example_file_parses);
	tcase_add_test(file, example_documents_every_default);
	tcase_add_test(file, quotes_and_whitespace);
	tcase_add_test(file, comments_and_blank_lines);
	tcase_add_test(file, crlf_and_bom);
	tcase_add_test(file, repeated_section_header);
	tcase_add_test(file, load_from_file);
	tcase_add_test(file, reload_comparison);
	suite_add_tcase(s, file);

	tcase_add_test(errors, error_unknown_section);
	tcase_add_test(errors, error_unknown_key);
	tcase_add_test(errors, error_key_before_section);
	tcase_add_test(errors, error_duplicate_key);
	tcase_add_test(errors, error_bad_value);
	tcase_add_test(errors, error_does_not_echo_conninfo);
	tcase_add_test(errors, error_syntax);
	tcase_add_test(errors, error_line_too_long);
	tcase_add_test(errors, error_cannot_open);
	tcase_add_test(errors, error_file_too_large);
	tcase_add_test(errors, error_required);
	tcase_add_test(errors, error_tls_pair);
	tcase_add_test(errors, error_same_listeners);
	tcase_add_test(errors, error_nul_byte);
	tcase_add_test(errors, error_small_buffer);
	suite_add_tcase(s, errors);

	tcase_add_test(keys, workers_values);
	tcase_add_test(keys, int_ranges);
	tcase_add_test(keys, size_range);
	tcase_add_test(keys, duration_ranges);
	tcase_add_test(keys, delivery_strings);
	tcase_add_test(keys, token_rate_values);
	tcase_add_test(keys, log_values);
	tcase_add_test(keys, url_values);
	tcase_add_test(keys, node_name_values);
	tcase_add_test(keys, addr_keys);
	suite_add_tcase(s, keys);
	return s;
}
