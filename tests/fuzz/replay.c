/* SPDX-License-Identifier: Apache-2.0 */
/* replay: a main() for a libFuzzer harness without libFuzzer. It runs the harness once on each
 * file it is given, or on each file in a directory it is given, so that make check replays the
 * seed corpus, and every input that once crashed, with whatever compiler and sanitizers the
 * build uses. */
#include "fuzz.h"

#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <sys/stat.h>

/* Runs the harness on one file; false when it cannot be read. */
static bool replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return false;
	}
	size_t cap = 4096, len = 0, n;
	uint8_t *buf = malloc(cap);
	while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
		len += n;
		if (len == cap) {
			uint8_t *more = realloc(buf, cap *= 2);
			if (more == NULL)
				free(buf);
			buf = more;
		}
	}
	bool ok = buf != NULL && !ferror(f);
	fclose(f);
	if (ok)
		LLVMFuzzerTestOneInput(buf, len);
	else
		fprintf(stderr, "replay: %s: cannot read it\n", path);
	free(buf);
	return ok;
}

/* The files of a directory, in no particular order (each run is independent). */
static bool replay_dir(const char *dir, int *count)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[4096];
	bool ok = true;

	if (d == NULL) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return false;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		ok = replay_file(path) && ok;
		(*count)++;
	}
	closedir(d);
	return ok;
}

int main(int argc, char **argv)
{
	int count = 0;
	bool ok = true;
	struct stat st;

	for (int i = 1; i < argc; i++) {
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			ok = replay_dir(argv[i], &count) && ok;
		} else {
			ok = replay_file(argv[i]) && ok;
			count++;
		}
	}
	printf("replayed %d inputs\n", count);
	return ok && count > 0 ? 0 : 1;
}
