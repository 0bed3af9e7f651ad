/* SPDX-License-Identifier: Apache-2.0 */
/* The unit tests of src/core/: its Check suites in one binary, TAP on stdout. */
#include "runner.h"

int main(void)
{
	SRunner *sr = srunner_create(make_suite_config());
	srunner_add_suite(sr, make_suite_crypto());
	srunner_add_suite(sr, make_suite_token());
	srunner_add_suite(sr, make_suite_redact());
	srunner_add_suite(sr, make_suite_module());
	srunner_add_suite(sr, make_suite_fdio());
	srunner_add_suite(sr, make_suite_log());
	return run_tap(sr);
}
