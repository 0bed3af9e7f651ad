/* SPDX-License-Identifier: Apache-2.0 */
/* runner: what every unit-test binary shares (one binary per folder of src/, as xrdp has one
 * per library): the suites' declarations and a runner that writes TAP for automake's
 * tap-driver. */
#ifndef HG_TEST_RUNNER_H
#define HG_TEST_RUNNER_H

#include "suites.h"

#include <stddef.h>

/* Runs every suite of sr with TAP on stdout and frees it; the process's exit status. */
int run_tap(SRunner *sr);

/* A test's scratch file (a log file): its text, NUL-terminated, into text (len > 0), then the
 * file is removed. Returns how many bytes were read, -1 when it could not be. */
long take_file_text(const char *path, char *text, size_t len);

#endif
