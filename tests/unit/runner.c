/* runner: CK_SILENT keeps Check's own summary off stdout so the stream stays pure TAP. */
#include "runner.h"

#include <stdlib.h>

int run_tap(SRunner *sr)
{
	srunner_set_tap(sr, "-");
	srunner_run_all(sr, CK_SILENT);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
