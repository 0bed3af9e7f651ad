/* SPDX-License-Identifier: Apache-2.0 */
/* proctitle: see proctitle.h. */
#include "proc/proctitle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

extern char **environ;

static char *title_start;
static size_t title_len;
static char **saved_environ;

/* argv strings and then environ strings usually lie back to back; the title may use all of
 * that contiguous span once the environment has been copied elsewhere. */
bool proctitle_init(int argc, char **argv)
{
	if (argc < 1 || argv[0] == NULL)
		return false;
	char *end = argv[0] + strlen(argv[0]) + 1;
	for (int i = 1; i < argc; i++)
		if (argv[i] == end)
			end = argv[i] + strlen(argv[i]) + 1;
	size_t n = 0;
	while (environ[n])
		n++;
	char **copy = calloc(n + 1, sizeof(char *));
	if (!copy)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (environ[i] == end)
			end = environ[i] + strlen(environ[i]) + 1;
		copy[i] = strdup(environ[i]);
		if (!copy[i])
			return false;
	}
	environ = copy;
	saved_environ = copy;
	title_start = argv[0];
	title_len = (size_t)(end - argv[0]);
	for (int i = 1; i < argc; i++)
		argv[i] = NULL;
	return true;
}

void proctitle_set(const char *title)
{
	if (title_start == NULL)
		return;
	memset(title_start, 0, title_len);
	snprintf(title_start, title_len, "%s", title);
	/* comm (15 chars) shows in top and pgrep without -f. */
	prctl(PR_SET_NAME, "hookgated", 0, 0, 0);
}

void proctitle_free(void)
{
	if (saved_environ == NULL || environ != saved_environ)
		return;
	for (size_t i = 0; saved_environ[i]; i++)
		free(saved_environ[i]);
	free(saved_environ);
	saved_environ = NULL;
	environ = NULL;
}
