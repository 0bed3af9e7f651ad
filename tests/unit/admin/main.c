/* SPDX-License-Identifier: Apache-2.0 */
/* The unit tests of src/admin/: its Check suites in one binary, TAP on stdout. */
#include "runner.h"

int main(void)
{
	SRunner *sr = srunner_create(make_suite_totp());
	srunner_add_suite(sr, make_suite_session());
	return run_tap(sr);
}
