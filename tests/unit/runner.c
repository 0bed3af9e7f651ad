/* SPDX-License-Identifier: Apache-2.0 */
/* runner: CK_SILENT keeps Check's own summary off stdout so the stream stays pure TAP. */
#include "runner.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

int run_tap(SRunner *sr)
{
	srunner_set_tap(sr, "-");
	srunner_run_all(sr, CK_SILENT);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

long take_file_text(const char *path, char *text, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, text, len - 1);

	if (fd >= 0)
		close(fd);
	unlink(path);
	text[n > 0 ? n : 0] = '\0';
	return (long)n;
}
