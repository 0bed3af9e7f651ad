#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Every fuzz harness (tests/fuzz) run once on each input of its corpus, seeds and the inputs of
# past findings alike, with this build's compiler and sanitizers: a finding once fixed stays
# fixed, and the harnesses keep building without clang.
. "$HG_SRCDIR/tests/integration/lib.sh"
hg_setup
HARNESSES=(http_head webhook_query webhook_body config pgbin)
plan "${#HARNESSES[@]}"

for h in "${HARNESSES[@]}"; do
	corpus=$HG_SRCDIR/tests/fuzz/corpus/$h
	n=$(find "$corpus" -type f | wc -l)
	ok "$h: its $n corpus inputs run clean" "$HG_BUILDDIR/tests/fuzz/replay_$h" "$corpus"
done
