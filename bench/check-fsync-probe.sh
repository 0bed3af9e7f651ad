#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# bench/fsync-probe, the disk probe bench/bench-ingest runs beside each hookgate run and whose
# one "fsync:" line it parses: its usage errors, and a short real run on disk. "make bench" runs
# this (TAP) after building the probe, and bench-ingest runs make bench before measuring.
. "$HG_SRCDIR/tests/integration/lib.sh"
hg_setup
plan 9

PROBE=$HG_BUILDDIR/bench/fsync-probe
mkdir -p "$HG_TMP/probe"

rc=0
"$PROBE" "$HG_TMP/probe" >/dev/null 2>"$HG_TMP/err" || rc=$?
is "$rc" 2 "no SECONDS: a usage error (exit 2)"
rc=0
"$PROBE" "$HG_TMP/probe" 1 0 >/dev/null 2>"$HG_TMP/err" || rc=$?
is "$rc" 2 "an interval of 0 ms: a usage error (exit 2)"
rc=0
"$PROBE" "$HG_TMP/probe" 1s >/dev/null 2>"$HG_TMP/err" || rc=$?
is "$rc" 2 "SECONDS that is not a number: a usage error (exit 2)"
rc=0
"$PROBE" "$HG_TMP/missing" 1 >/dev/null 2>"$HG_TMP/err" || rc=$?
is "$rc" 1 "a directory that does not exist: exit 1"
like "$(cat "$HG_TMP/err")" "^fsync-probe: .*missing: No such file or directory$" \
	"... and it says which, on one line"

rc=0
started=$(hg_now_ms)
out=$("$PROBE" "$HG_TMP/probe" 2 20) || rc=$?
took=$(($(hg_now_ms) - started))
is "$rc" 0 "a 2-second run exits 0"
like "$out" '^fsync: ops=[0-9]+ p50_us=[0-9]+ p99_us=[0-9]+ max_us=[0-9]+ slow=[0-9]+ slow_ms=[0-9]+$' \
	"it prints the one line bench-ingest parses"
# One flush every 20 ms for 2 s: 100 at most (a stalling disk makes them fewer, never more).
ops=$(sed -n 's/^fsync: ops=\([0-9]*\) .*/\1/p' <<<"$out")
ok "it flushed at its interval, not faster ($ops flushes in ${took} ms)" \
	test "${ops:-0}" -ge 1 -a "${ops:-0}" -le 101
is "$(find "$HG_TMP/probe" -type f | wc -l)" 0 "it leaves no file behind"
