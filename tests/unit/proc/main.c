/* The unit tests of src/proc/: its Check suites in one binary, TAP on stdout. */
#include "runner.h"

int main(void)
{
	SRunner *sr = srunner_create(make_suite_ratelimit());
	return run_tap(sr);
}
