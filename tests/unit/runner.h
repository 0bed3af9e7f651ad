/* runner: what every unit-test binary shares (one binary per folder of src/, as xrdp has one
 * per library): the suites' declarations and a runner that writes TAP for automake's
 * tap-driver. */
#ifndef HG_TEST_RUNNER_H
#define HG_TEST_RUNNER_H

#include "suites.h"

/* Runs every suite of sr with TAP on stdout and frees it; the process's exit status. */
int run_tap(SRunner *sr);

#endif
