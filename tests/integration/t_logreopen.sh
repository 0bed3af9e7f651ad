#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# shellcheck disable=SC2119 # lib.sh functions with optional arguments, called without
# Log rotation (hookgated(8), docs/operations.md "Log rotation"): the log file is moved away as
# logrotate does, then SIGUSR1 makes the master and every worker open log.file afresh, without
# replacing a worker; new lines go to the new file and none to the old one.
. "$HG_SRCDIR/tests/integration/lib.sh"
hg_setup
plan 10

LOG=$HG_TMP/daemon.log
OLD=$HG_TMP/daemon.log.1

# fd_on PID FILE: PID holds an open descriptor on FILE (as /proc names it now).
fd_on() {
	local fd
	for fd in /proc/"$1"/fd/*; do
		[[ $(readlink "$fd" 2>/dev/null) == "$2" ]] && return 0
	done
	return 1
}

# every_process_on FILE: the master and each of its children hold FILE open.
every_process_on() {
	local pid
	for pid in "$HG_PID" $(hg_children); do
		fd_on "$pid" "$1" || return 1
	done
}

# no_process_on FILE: none of them does.
no_process_on() {
	local pid
	for pid in "$HG_PID" $(hg_children); do
		fd_on "$pid" "$1" && return 1
	done
	return 0
}

# A request to each listener: each is an access-log line written by a worker.
requests() {
	http_status "http://127.0.0.1:$HG_PORT/healthz" >/dev/null
	http_status "http://127.0.0.1:$HG_ADMIN_PORT/healthz" >/dev/null
}

pg_start
hg_config '[log]' "file = $LOG" 'access = on'
hg_migrate >/dev/null || bail_out "migrate failed"
ok "hookgated starts, logging to log.file" hg_start
requests
before=$(hg_children | sort | paste -sd' ')
ok "the master and every worker write to $LOG" every_process_on "$LOG"

mv "$LOG" "$OLD"
ok "after mv, they all still hold the moved file" every_process_on "$OLD"
kill -USR1 "$HG_PID"
ok "SIGUSR1: the master re-creates $LOG and says so" \
	wait_until 5000 grep -q 'master: SIGUSR1: log file reopened' "$LOG"
ok "every worker re-opens it too" wait_until 5000 every_process_on "$LOG"
ok "no process holds the moved file any more" no_process_on "$OLD"
is "$(hg_children | sort | paste -sd' ')" "$before" "the workers are the same processes"

old_size=$(stat -c %s "$OLD")
requests
ok "new lines (the access log of both listeners) go to the new file" \
	wait_until 5000 grep -q 'GET /healthz' "$LOG"
is "$(stat -c %s "$OLD")" "$old_size" "the moved file gets no new line"
ok "hookgated stops cleanly" hg_stop
