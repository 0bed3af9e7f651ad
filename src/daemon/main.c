/* main: hookgated's command line (docs/operations.md). */
#include "core/config.h"
#include "daemon/master.h"
#include "proc/proctitle.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
	fprintf(out,
		"usage: hookgated -c FILE [--foreground]\n"
		"       hookgated --describe-config\n"
		"  -c, --config FILE   configuration file (hookgate.conf)\n"
		"  -f, --foreground    stay attached to the terminal, log to stderr\n"
		"  --describe-config   print every configuration key, tab-separated: key, type,\n"
		"                      default, range, and whether SIGHUP may change it\n"
		"  -h, --help          this text\n"
		"  -V, --version       print the version\n");
}

/* getopt_long's value for --describe-config, which has no short form. */
#define OPT_DESCRIBE_CONFIG 256

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "describe-config", no_argument, NULL, OPT_DESCRIBE_CONFIG },
		{ NULL, 0, NULL, 0 },
	};
	const char *config_path = NULL;
	bool foreground = false;
	int opt;

	while ((opt = getopt_long(argc, argv, "c:fhV", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config_path = optarg;
			break;
		case 'f':
			foreground = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("hookgated %s\n", PACKAGE_VERSION);
			return 0;
		case OPT_DESCRIBE_CONFIG:
			/* The table itself, so that docs and tools need not parse config.c. */
			return cfg_describe(stdout) ? 0 : 1;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (config_path == NULL || optind != argc) {
		usage(stderr);
		return 2;
	}
	/* argv is overwritten by process titles: keep our own copy of the path. */
	char *path = strdup(config_path);
	if (path == NULL || !proctitle_init(argc, argv)) {
		fprintf(stderr, "hookgated: out of memory\n");
		return 1;
	}
	int status = master_run(path, foreground);
	free(path);
	proctitle_free();
	return status;
}
