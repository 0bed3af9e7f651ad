#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# shellcheck disable=SC2119 # lib.sh functions with optional arguments, called without
# The master (docs/operations.md): its children and their titles, replacing a dead worker, SIGHUP with a
# good and a bad configuration, SIGTERM, SIGQUIT, and workers that outlive a killed master.
. "$HG_SRCDIR/tests/integration/lib.sh"
hg_setup
plan 32

# "pid title" of each live child of the master, sorted by title.
children_by_title() {
	local pid
	for pid in $(hg_children); do
		printf '%s %s\n' "$pid" "$(proc_title "$pid")"
	done | sort -k2
}

titles() {
	children_by_title | cut -d' ' -f2- | paste -sd'|' -
}

# A child just forked still bears its parent's title for a moment.
titles_are() {
	[[ $(titles) == "$1" ]]
}

pid_of_title() {
	children_by_title | awk -v t="$1" '{ p = $1; $1 = ""; if (substr($0, 2) == t) print p }'
}

child_count_is() {
	[[ $(hg_children | wc -l) == "$1" ]]
}

# A live child with that title, and not the given old pid.
replaced() {
	local title=$1 old=$2 now
	now=$(pid_of_title "$title")
	[[ -n $now && $now != "$old" ]] && child_count_is 5
}

# No pid of the list is still alive.
all_gone() {
	local pid
	for pid in "$@"; do
		hg_pid_alive "$pid" && return 1
	done
	return 0
}

# kill_replaced TITLE: kill -9 the child of that title and wait up to 1 s for its successor;
# KILLED is the pid killed, KILL_MS how long the wait took.
kill_replaced() {
	local start
	KILLED=$(pid_of_title "$1")
	kill -KILL "$KILLED"
	start=$(hg_now_ms)
	wait_until 1000 replaced "$1" "$KILLED"
	KILL_MS=$(($(hg_now_ms) - start))
}

# All the current children are new (none in the old list) and there are N of them.
all_new() {
	local n=$1 pid
	shift
	child_count_is "$n" || return 1
	for pid in $(hg_children); do
		[[ " $* " == *" $pid "* ]] && return 1
	done
	return 0
}

# The log written since $log_lines was taken.
new_log() {
	tail -n "+$((log_lines + 1))" "$HG_TMP/hookgated.log"
}

reload_failed() {
	new_log | grep -q 'reload failed'
}

admin_ok() {
	[[ $(admin_healthz) == 200 ]]
}

admin_healthz() {
	http_status "http://127.0.0.1:$HG_ADMIN_PORT/healthz"
}

webhook_healthz() {
	http_status "http://127.0.0.1:$HG_PORT/healthz"
}

expected_titles='hookgated: admin worker|hookgated: delivery worker 1|hookgated: housekeeping|hookgated: webhook worker 1|hookgated: webhook worker 2'

pg_start
hg_config
hg_migrate >/dev/null || bail_out "migrate failed"
hg_start || bail_out "hookgated does not start"
conf=$HG_TMP/hookgate.conf

# ---- titles ------------------------------------------------------------------------------------
is "$(proc_title "$HG_PID")" "hookgated: master" "the master's title"
wait_until 2000 child_count_is 5
is "$(hg_children | wc -l)" 5 "workers=2: five children (two webhook workers, admin, housekeeping, delivery)"
is "$(titles)" "$expected_titles" "the children's titles"

# ---- a dead worker is replaced within 1 s ------------------------------------------------------
kill_replaced "hookgated: webhook worker 1"
ok "kill -9 of webhook worker 1: replaced within 1 s ($KILL_MS ms)" \
	replaced "hookgated: webhook worker 1" "$KILLED"
is "$(titles)" "$expected_titles" "the titles after the replacement"
is "$(webhook_healthz)" 200 "healthz 200 after the replacement"

kill_replaced "hookgated: admin worker"
ok "kill -9 of the admin worker: replaced within 1 s ($KILL_MS ms)" \
	replaced "hookgated: admin worker" "$KILLED"
wait_until 2000 admin_ok
is "$(admin_healthz)" 200 "the new admin worker answers healthz"

kill_replaced "hookgated: housekeeping"
ok "kill -9 of the housekeeping process: replaced within 1 s ($KILL_MS ms)" \
	replaced "hookgated: housekeeping" "$KILLED"

kill_replaced "hookgated: delivery worker 1"
ok "kill -9 of the delivery worker: replaced within 1 s ($KILL_MS ms)" \
	replaced "hookgated: delivery worker 1" "$KILLED"

# Two quick deaths of the same worker: back-off is allowed, but not giving up.
old=$(pid_of_title "hookgated: webhook worker 2")
kill -KILL "$old"
wait_until 1000 replaced "hookgated: webhook worker 2" "$old"
old=$(pid_of_title "hookgated: webhook worker 2")
kill -KILL "$old"
wait_until 5000 replaced "hookgated: webhook worker 2" "$old"
ok "a worker killed twice in a row is still replaced (within 5 s)" \
	replaced "hookgated: webhook worker 2" "$old"

# ---- SIGHUP replaces every worker --------------------------------------------------------------
old_pids=$(hg_children | paste -sd' ' -)
# shellcheck disable=SC2086 # a list of pids
{
	kill -HUP "$HG_PID"
	wait_until 5000 all_new 5 $old_pids
	ok "SIGHUP: five new workers (none of $old_pids)" all_new 5 $old_pids
	wait_until 3000 all_gone $old_pids
	ok "SIGHUP: the old workers exit" all_gone $old_pids
}
is "$(titles)" "$expected_titles" "SIGHUP: the titles"
is "$(webhook_healthz)" 200 "SIGHUP: webhook healthz 200"
wait_until 2000 admin_ok
is "$(admin_healthz)" 200 "SIGHUP: admin healthz 200"
is "$(proc_title "$HG_PID")" "hookgated: master" "SIGHUP: the same master"

# workers is reloadable: a third webhook worker appears.
sed -i 's/^workers = 2$/workers = 3/' "$conf"
old_pids=$(hg_children | paste -sd' ' -)
kill -HUP "$HG_PID"
# shellcheck disable=SC2086 # a list of pids
wait_until 5000 all_new 6 $old_pids
wait_until 2000 titles_are "$expected_titles|hookgated: webhook worker 3"
is "$(titles)" "$expected_titles|hookgated: webhook worker 3" "SIGHUP with workers = 3: six workers"
sed -i 's/^workers = 3$/workers = 2/' "$conf"
# A count of five alone can be seen mid-reload (old workers draining while new ones start), so
# wait for five children none of which belongs to the six, and for the six to be gone.
old_pids=$(hg_children | paste -sd' ' -)
kill -HUP "$HG_PID"
# shellcheck disable=SC2086 # a list of pids
{
	wait_until 5000 all_new 5 $old_pids
	wait_until 3000 all_gone $old_pids
}
wait_until 2000 titles_are "$expected_titles"
is "$(titles)" "$expected_titles" "SIGHUP with workers = 2 again: five workers"

# ---- SIGHUP with a broken configuration keeps everything as it was ------------------------------
old_pids=$(hg_children | paste -sd' ' -)
cp "$conf" "$HG_TMP/good.conf"
printf '[server]\nno_such_key = 1\n' >>"$conf"
log_lines=$(wc -l <"$HG_TMP/hookgated.log")
kill -HUP "$HG_PID"
wait_until 3000 reload_failed
ok "SIGHUP with a bad config: 'reload failed' logged" reload_failed
like "$(new_log | grep -m 1 'reload failed')" "no_such_key" "the log line says what is wrong"
sleep 0.3
is "$(hg_children | paste -sd' ' -)" "$old_pids" "SIGHUP with a bad config: the same workers"
is "$(webhook_healthz)" 200 "SIGHUP with a bad config: webhook healthz 200"
is "$(admin_healthz)" 200 "SIGHUP with a bad config: admin healthz 200"
cp "$HG_TMP/good.conf" "$conf"

# ---- SIGTERM: graceful stop, exit 0, no child left ----------------------------------------------
old_pids=$(hg_children | paste -sd' ' -)
start=$(hg_now_ms)
hg_stop
is "$?" 0 "SIGTERM: exit status 0"
took=$(($(hg_now_ms) - start))
ok "SIGTERM: stopped within shutdown_timeout (took $took ms)" test "$took" -lt 10000
# shellcheck disable=SC2086 # a list of pids
ok "SIGTERM: no worker remains" all_gone $old_pids

# ---- SIGQUIT: immediate stop --------------------------------------------------------------------
hg_start || bail_out "hookgated does not start again"
wait_until 2000 child_count_is 5
old_pids=$(hg_children | paste -sd' ' -)
pid=$HG_PID
start=$(hg_now_ms)
kill -QUIT "$pid"
wait_until 2000 hg_pid_dead "$pid"
ok "SIGQUIT: the master exits within 2 s ($(($(hg_now_ms) - start)) ms)" hg_pid_dead "$pid"
# shellcheck disable=SC2086 # a list of pids
{
	wait_until 2000 all_gone $old_pids
	ok "SIGQUIT: no worker remains" all_gone $old_pids
}
wait "$pid" 2>/dev/null

# ---- kill -9 of the master: the workers notice and exit -----------------------------------------
hg_start || bail_out "hookgated does not start a third time"
wait_until 2000 child_count_is 5
old_pids=$(hg_children | paste -sd' ' -)
is "$(wc -w <<<"$old_pids")" 5 "five workers before killing the master"
kill -KILL "$HG_PID"
start=$(hg_now_ms)
# shellcheck disable=SC2086 # a list of pids
{
	wait_until 2000 all_gone $old_pids
	ok "kill -9 of the master: the workers exit within 2 s ($(($(hg_now_ms) - start)) ms)" \
		all_gone $old_pids
}
wait "$HG_PID" 2>/dev/null
is "$(http_status "http://127.0.0.1:$HG_PORT/healthz" --max-time 1)" 000 \
	"nothing answers on the webhook port any more"
