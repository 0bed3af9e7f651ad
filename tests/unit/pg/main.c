/* SPDX-License-Identifier: Apache-2.0 */
/* The unit tests of src/pg/: its Check suites in one binary, TAP on stdout. */
#include "runner.h"

int main(void)
{
	SRunner *sr = srunner_create(make_suite_pgbin());
	srunner_add_suite(sr, make_suite_hosts());
	return run_tap(sr);
}
