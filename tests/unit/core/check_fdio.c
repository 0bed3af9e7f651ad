/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of core/fdio.c: a buffer larger than a pipe holds goes through whole while a child
 * reads it slowly (so write(2) returns short counts), and errors are reported. */
#include "suites.h"

#include "core/fdio.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define BIG (1024 * 1024) /* 16 times a default pipe */

/* The child: reads everything in small pieces and exits 0 when it saw exactly BIG bytes of
 * the pattern. */
static void drain_child(int fd)
{
	static unsigned char buf[997];
	size_t total = 0;
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] != (unsigned char)((total + (size_t)i) % 251))
				_exit(2);
		}
		total += (size_t)n;
	}
	_exit(n == 0 && total == BIG ? 0 : 1);
}

START_TEST(test_write_all_through_a_pipe)
{
	int fds[2], status;
	unsigned char *data = malloc(BIG);
	ck_assert_ptr_nonnull(data);
	for (size_t i = 0; i < BIG; i++)
		data[i] = (unsigned char)(i % 251);
	ck_assert_int_eq(pipe(fds), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(fds[1]);
		drain_child(fds[0]);
	}
	close(fds[0]);
	ck_assert(fdio_write_all(fds[1], data, BIG));
	close(fds[1]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	free(data);
}
END_TEST

START_TEST(test_write_all_errors)
{
	int fds[2];
	ck_assert(fdio_write_all(-1, "", 0)); /* nothing to write */
	errno = 0;
	ck_assert(!fdio_write_all(-1, "x", 1));
	ck_assert_int_eq(errno, EBADF);
	int ro = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(ro, 0);
	ck_assert(!fdio_write_all(ro, "x", 1));
	close(ro);
	/* A pipe nobody reads: EPIPE (SIGPIPE ignored here, as hookgated ignores it). */
	ck_assert_int_eq(pipe(fds), 0);
	close(fds[0]);
	void (*old)(int) = signal(SIGPIPE, SIG_IGN);
	errno = 0;
	ck_assert(!fdio_write_all(fds[1], "x", 1));
	ck_assert_int_eq(errno, EPIPE);
	signal(SIGPIPE, old);
	close(fds[1]);
}
END_TEST

Suite *make_suite_fdio(void)
{
	Suite *s = suite_create("fdio");
	TCase *tc = tcase_create("write_all");
	tcase_add_test(tc, test_write_all_through_a_pipe);
	tcase_add_test(tc, test_write_all_errors);
	suite_add_tcase(s, tc);
	return s;
}
