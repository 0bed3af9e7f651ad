/* SPDX-License-Identifier: Apache-2.0 */
/* The unit tests of src/delivery/: its Check suites in one binary, TAP on stdout. */
#include "runner.h"

int main(void)
{
	SRunner *sr = srunner_create(make_suite_signer());
	srunner_add_suite(sr, make_suite_schedule());
	srunner_add_suite(sr, make_suite_netpolicy());
	srunner_add_suite(sr, make_suite_delivery_post());
	return run_tap(sr);
}
