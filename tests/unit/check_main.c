/* The unit-test runner: every module suite in one SRunner, TAP on stdout for automake's
 * tap-driver. CK_SILENT keeps Check's own summary off stdout so the stream stays pure TAP. */
#include "suites.h"

#include <stdlib.h>

int main(void)
{
	SRunner *sr = srunner_create(make_suite_config());
	srunner_add_suite(sr, make_suite_encoding());
	srunner_add_suite(sr, make_suite_crypto());
	srunner_add_suite(sr, make_suite_token());
	srunner_add_suite(sr, make_suite_totp());
	srunner_add_suite(sr, make_suite_session());
	srunner_add_suite(sr, make_suite_webhook_request());
	srunner_add_suite(sr, make_suite_ratelimit());
	srunner_add_suite(sr, make_suite_pgbin());
	srunner_add_suite(sr, make_suite_redact());
	srunner_add_suite(sr, make_suite_http());
	srunner_add_suite(sr, make_suite_jsontext());
	srunner_set_tap(sr, "-");
	srunner_run_all(sr, CK_SILENT);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
