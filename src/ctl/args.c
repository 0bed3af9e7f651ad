/* SPDX-License-Identifier: Apache-2.0 */
/* ctl_args: the words of a command line after the global options: options with a value,
 * positional arguments and subcommand tables. Usage errors are reported through out.c; no
 * command is called from here except through the table a caller passes in. */
#include "ctl/ctl.h"
#include "lib/text.h"

#include <string.h>

/* "--name" matches "--name" (value in the next word) and "--name=value". */
static const char *opt_match(const char *arg, const char *name, bool *inline_value)
{
	size_t len = strlen(name);

	if (strncmp(arg, name, len) != 0)
		return NULL;
	if (arg[len] == '\0') {
		*inline_value = false;
		return arg + len;
	}
	if (arg[len] == '=') {
		*inline_value = true;
		return arg + len + 1;
	}
	return NULL;
}

int ctl_opt_take(int argc, char **argv, int *i, const char *name, const char **value)
{
	bool inline_value;
	const char *rest = opt_match(argv[*i], name, &inline_value);

	if (!rest)
		return 0;
	if (inline_value) {
		*value = rest;
		return 1;
	}
	if (*i + 1 >= argc)
		return -1;
	*value = argv[++*i];
	return 1;
}

int ctl_args(struct ctl_ctx *ctx, const char *cmd, int argc, char **argv,
	     const struct ctl_opt *opts, size_t nopts, const char **pos, size_t npos)
{
	size_t got = 0;

	for (int i = 0; i < argc; i++) {
		int matched = 0;

		for (size_t k = 0; k < nopts && !matched; k++) {
			if (opts[k].flag) {
				matched = strcmp(argv[i], opts[k].name) == 0;
				*opts[k].flag = *opts[k].flag || matched;
				continue;
			}
			matched = ctl_opt_take(argc, argv, &i, opts[k].name, opts[k].value);
			if (matched < 0)
				return ctl_usage_error(ctx, "%s: option %s needs a value", cmd,
						       opts[k].name);
		}
		if (matched)
			continue;
		if (argv[i][0] == '-' && argv[i][1] != '\0')
			return ctl_usage_error(ctx, "%s: unknown option %s", cmd, argv[i]);
		if (got == npos)
			return ctl_usage_error(ctx, "%s: unexpected argument %s", cmd, argv[i]);
		pos[got++] = argv[i];
	}
	if (got < npos)
		return ctl_usage_error(ctx, "%s: missing argument", cmd);
	return CTL_OK;
}

int ctl_subcommand(struct ctl_ctx *ctx, const char *group, const struct ctl_command *table,
		   size_t n, int argc, char **argv)
{
	if (argc < 2)
		return ctl_usage_error(ctx, "%s: missing subcommand", group);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(argv[1], table[i].name) == 0)
			return table[i].fn(ctx, argc - 1, argv + 1);
	}
	return ctl_usage_error(ctx, "%s: unknown subcommand %s", group, argv[1]);
}

bool ctl_text_arg(struct ctl_ctx *ctx, const char *what, const char *text, int max_chars)
{
	if (text_valid(text, (size_t)max_chars))
		return true;
	ctl_fail(ctx, "invalid %s: 1-%d characters, no control characters", what, max_chars);
	return false;
}
