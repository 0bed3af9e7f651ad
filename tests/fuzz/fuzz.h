/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz: what the libFuzzer harnesses of tests/fuzz share. Each harness file defines
 * LLVMFuzzerTestOneInput for one parser and checks the parser's promises on every input, so
 * that a wrong answer is a finding like a crash; scripts/fuzz builds and runs them, and
 * replay.c runs their corpus in make check. */
#ifndef HG_FUZZ_H
#define HG_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant of the code under test. abort() makes libFuzzer keep the input as a crash;
 * unlike assert() it is never compiled out. */
#define FUZZ_CHECK(cond)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__,       \
				#cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* The input as C text, in an allocation of its own (a NUL byte in it ends the text, as it
 * would for the daemon's callers); aborts when out of memory. */
static inline char *fuzz_text(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	FUZZ_CHECK(s != NULL);
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#endif
