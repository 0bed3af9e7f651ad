/* SPDX-License-Identifier: Apache-2.0 */
/* The unit tests of src/webhook/: its Check suites in one binary, TAP on stdout. */
#include "runner.h"

int main(void)
{
	SRunner *sr = srunner_create(make_suite_webhook_request());
	srunner_add_suite(sr, make_suite_webhook_batch());
	srunner_add_suite(sr, make_suite_webhook_token_table());
	srunner_add_suite(sr, make_suite_webhook_token_limits());
	return run_tap(sr);
}
