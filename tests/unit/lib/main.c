/* SPDX-License-Identifier: Apache-2.0 */
/* The unit tests of src/lib/: its Check suites in one binary, TAP on stdout. */
#include "runner.h"

int main(void)
{
	SRunner *sr = srunner_create(make_suite_encoding());
	srunner_add_suite(sr, make_suite_jsontext());
	srunner_add_suite(sr, make_suite_utf8());
	srunner_add_suite(sr, make_suite_text());
	srunner_add_suite(sr, make_suite_percent());
	srunner_add_suite(sr, make_suite_clock());
	return run_tap(sr);
}
