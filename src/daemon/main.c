/* SPDX-License-Identifier: Apache-2.0 */
/* main: hookgated's command line (hookgated(8), docs/operations.md): the options, the usage,
 * and the choice between running the master, checking the configuration (-t) and describing
 * the configuration table. */
#include "core/config.h"
#include "daemon/check.h"
#include "daemon/master.h"
#include "proc/proctitle.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_CONFIG HG_SYSCONF_DIR "/hookgate.conf"

static void usage(void)
{
	printf("usage: hookgated [-c FILE] [-f] [-t]\n"
	       "       hookgated --describe-config | -h | -V\n"
	       "\n"
	       "options:\n"
	       "  -c, --config FILE   configuration file (default " DEFAULT_CONFIG ")\n"
	       "  -f, --foreground    stay attached to the terminal\n"
	       "  -t, --test-config   check the configuration, the secret key file and the TLS\n"
	       "                      files; print \"configuration ok\" or the error; exit 0 or 1\n"
	       "  --describe-config   print every configuration key, tab-separated: key, type,\n"
	       "                      default, range, and whether SIGHUP may change it\n"
	       "  -h, --help          this text\n"
	       "  -V, --version       print the version\n"
	       "\n"
	       "signals (to the master):\n"
	       "  SIGHUP              reload the configuration and replace the workers\n"
	       "  SIGUSR1             reopen the log file (after rotation); workers keep running\n"
	       "  SIGTERM, SIGINT     stop gracefully: answer the requests in flight, then exit\n"
	       "  SIGQUIT             stop now\n"
	       "\n"
	       "paths:\n"
	       "  configuration       " DEFAULT_CONFIG "\n"
	       "  schema migrations   " HG_SQL_DIR " (hookgatectl migrate)\n"
	       "  dashboard files     " HG_WEB_DIR " (server.web_dir)\n"
	       "\n"
	       "exit status: 0 stopped or configuration ok, 1 failure, 2 bad usage\n");
}

/* One line saying what is wrong, not the whole usage: that is what --help is for. */
__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
	va_list ap;
	fputs("hookgated: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\ntry 'hookgated --help'\n", stderr);
	return 2;
}

/* getopt_long's value for --describe-config, which has no short form. */
#define OPT_DESCRIBE_CONFIG 256

enum daemon_action { ACTION_RUN, ACTION_TEST, ACTION_EXIT };

struct daemon_options {
	const char *config_path;
	bool foreground;
	enum daemon_action action;
	int status; /* with ACTION_EXIT */
};

/* Names the option getopt stopped at: "-x", or the word itself ("--bogus", "--config" with
 * its value missing) when it was a long one. */
static int option_error(const char *what, char **argv)
{
	const char *word = argv[optind - 1];
	if (strncmp(word, "--", 2) == 0)
		return usage_error("%s %.*s", what, (int)strcspn(word, "="), word);
	return usage_error("%s -%c", what, optopt);
}

static void parse_one(struct daemon_options *o, int opt, char **argv)
{
	switch (opt) {
	case 'c':
		o->config_path = optarg;
		break;
	case 'f':
		o->foreground = true;
		break;
	case 't':
		o->action = ACTION_TEST;
		break;
	case 'h':
		usage();
		o->action = ACTION_EXIT;
		break;
	case 'V':
		printf("hookgated %s\n", PACKAGE_VERSION);
		o->action = ACTION_EXIT;
		break;
	case OPT_DESCRIBE_CONFIG:
		/* The table itself, so that docs and tools need not parse config.c. */
		o->status = cfg_describe(stdout) ? 0 : 1;
		o->action = ACTION_EXIT;
		break;
	case ':':
		o->status = option_error("a value is missing after option", argv);
		o->action = ACTION_EXIT;
		break;
	default:
		o->status = option_error("unknown option", argv);
		o->action = ACTION_EXIT;
		break;
	}
}

static void parse_options(struct daemon_options *o, int argc, char **argv)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "test-config", no_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "describe-config", no_argument, NULL, OPT_DESCRIBE_CONFIG },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	opterr = 0; /* our own one-line messages */
	while (o->action != ACTION_EXIT &&
	       (opt = getopt_long(argc, argv, ":c:fthV", options, NULL)) != -1)
		parse_one(o, opt, argv);
	if (o->action != ACTION_EXIT && optind != argc) {
		o->status = usage_error("unexpected argument %s", argv[optind]);
		o->action = ACTION_EXIT;
	}
}

int main(int argc, char **argv)
{
	struct daemon_options o = { .config_path = DEFAULT_CONFIG, .action = ACTION_RUN };

	parse_options(&o, argc, argv);
	if (o.action == ACTION_EXIT)
		return o.status;
	if (o.action == ACTION_TEST)
		return check_config_main(o.config_path);
	/* argv is overwritten by process titles: keep our own copy of the path. */
	char *path = strdup(o.config_path);
	if (path == NULL || !proctitle_init(argc, argv)) {
		fprintf(stderr, "hookgated: out of memory\n");
		return 1;
	}
	int status = master_run(path, o.foreground);
	free(path);
	proctitle_free();
	return status;
}
