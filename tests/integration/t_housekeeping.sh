#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# shellcheck disable=SC2119 # lib.sh functions with optional arguments, called without
# The housekeeping process (README "Running" and "Housekeeping"): two hookgated on one database,
# of which exactly one housekeeping process leads (holds the advisory lock 1751869300,2) and runs
# the jobs — counter fold, usage partitions, pruning of idempotency keys and sessions — while the
# other stands by; nothing runs them while nobody holds the lock; and the standby takes over
# when the leader's hookgated stops (SIGTERM) or its housekeeping process is killed (-9); a
# leader whose connection is cut loses the lease with it; after a SIGHUP the new generation
# takes the lease as soon as the old one has left.
. "$HG_SRCDIR/tests/integration/lib.sh"
. "$HG_SRCDIR/tests/integration/webhook_lib.sh"
hg_setup
plan 36

LEASE="l.locktype = 'advisory' AND l.classid = 1751869300 AND l.objid = 2 AND l.objsubid = 2"

# lease_state: "sessions|holders|strays" of the housekeeping connections (application_name
# 'hookgated housekeeping'): how many there are, how many hold the lease, and how many do not
# hold it although their last statement was something else than an attempt to take it (a job
# run without the lease).
lease_state() {
	pg_sql "SELECT count(*), count(l.pid), count(*) FILTER (WHERE l.pid IS NULL
		AND a.query <> '' AND a.query NOT LIKE '%pg_try_advisory_lock%')
	FROM pg_stat_activity a LEFT JOIN pg_locks l ON l.pid = a.pid AND $LEASE AND l.granted
	WHERE a.application_name = 'hookgated housekeeping'"
}
lease_is() { [[ $(lease_state) == "$1" ]]; }

# sample_states MS: lease_state every 0.2 s for MS; the distinct states seen, one a line.
sample_states() {
	local until=$(($(hg_now_ms) + $1))
	while (($(hg_now_ms) < until)); do
		lease_state
		sleep 0.2
	done | sort -u
}

# The housekeeping child of the master PID.
housekeeping_of() {
	local pid
	for pid in $(hg_children "$1"); do
		[[ $(proc_title "$pid") == "hookgated: housekeeping" ]] && printf '%s\n' "$pid"
	done
}

# logged PID TEXT: a line of process PID in the log holds TEXT.
logged() { grep -F "[$1] " "$HG_TMP/hookgated.log" | grep -qF "$2"; }

# start_node CONF PORT: hookgated on CONF (its webhook port PORT); its pid in HG_PID.
start_node() {
	HG_PORT=$2
	hg_start "$1"
}

# A call through the webhook port PORT is folded into webhook_tokens (by whichever process
# leads) within MS; false when it stays pending.
TOKEN_ID=
invocations() { pg_sql "SELECT invocations FROM hookgate.webhook_tokens WHERE id = $TOKEN_ID"; }
folded_to() { [[ $(invocations) == "$1" ]]; }
call_folds() {
	local before
	before=$(invocations)
	post_via "$1" || return 1
	wait_until "$2" folded_to "$((before + 1))"
}
post_via() {
	HG_PORT=$1 post "$(channel_path general "$TOK_A")" '{"text":"housekeeping"}'
	[[ $HTTP_STATUS == 204 ]]
}

pg_start
hg_config
cp "$HG_CONF" "$HG_TMP/a.conf"
PORT_A=$HG_PORT
hg_config
cp "$HG_CONF" "$HG_TMP/b.conf"
PORT_B=$HG_PORT
hg_migrate >/dev/null || bail_out "migrate failed"
webhook_fixtures || bail_out "fixtures failed"
TOKEN_ID=$(pg_sql "SELECT id FROM hookgate.webhook_tokens WHERE public_id = '$PUB_A'")

# Work for the jobs: the partition three months ahead forgotten, an expired idempotency key and
# an expired session.
ahead=$(pg_sql "SELECT 'token_usage_' || to_char(now() AT TIME ZONE 'UTC' + interval '3 months', '\"y\"YYYY\"m\"MM')")
pg_sql "DROP TABLE hookgate.$ahead" >/dev/null
pg_sql "INSERT INTO hookgate.idempotency_keys (token_id, key, created_at, http_status)
	VALUES ($TOKEN_ID, 'old', now() - interval '2 days', 204)" >/dev/null
pg_sql "INSERT INTO hookgate.admin_sessions (id_hash, user_id, stage, expires_at)
	SELECT '\\x01', id, 'full', now() - interval '1 minute' FROM hookgate.users
	WHERE login = 'alice'" >/dev/null

# ---- nobody runs the jobs while another session holds the lock -----------------------------------
PGAPPNAME=hg-test-lease psql -X -q -c "SELECT pg_advisory_lock(1751869300, 2)" \
	-c "SELECT pg_sleep(120)" >/dev/null 2>&1 &
holder=$!
holder_has_it() {
	[[ $(pg_sql "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
		WHERE $LEASE AND l.granted AND a.application_name = 'hg-test-lease'") == 1 ]]
}
wait_until 5000 holder_has_it || bail_out "the test's session did not take the lock"
start_node "$HG_TMP/a.conf" "$PORT_A" || bail_out "hookgated A does not start"
PID_A=$HG_PID
HK_A=$(housekeeping_of "$PID_A")
ok "ps shows the housekeeping process" \
	test "$(ps -o args= -p "$HK_A" | sed 's/ *$//')" = "hookgated: housekeeping"
ok "its session is named 'hookgated housekeeping' and holds nothing" wait_until 3000 lease_is "1|0|0"
ok "it logs that it stands by" \
	wait_until 3000 logged "$HK_A" "housekeeping: standing by: another process holds the housekeeping lease"
ok "a call is accepted" post_via "$PORT_A"
sleep 2.5
is "$(pg_sql "SELECT count(*) FROM hookgate.token_counts_pending WHERE token_id = $TOKEN_ID")" 1 \
	"without the lease nothing folds (the call stays pending 2.5 s)"
pg_sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
	WHERE application_name = 'hg-test-lease'" >/dev/null
wait "$holder" 2>/dev/null
start=$(hg_now_ms)
ok "once the lock is free, A's housekeeping takes it within 3 s" wait_until 3000 lease_is "1|1|0"
diag "took $(($(hg_now_ms) - start)) ms (retried every 2 s)"
ok "it logs that it leads" logged "$HK_A" "housekeeping: leading"
ok "and folds the pending call" wait_until 1500 folded_to 1

# ---- two nodes: exactly one leads, and it runs the jobs ---------------------------------------------
start_node "$HG_TMP/b.conf" "$PORT_B" || bail_out "hookgated B does not start"
PID_B=$HG_PID
HK_B=$(housekeeping_of "$PID_B")
ok "B's housekeeping connects and stands by" wait_until 3000 lease_is "2|1|0"
ok "B logs that it stands by" wait_until 3000 logged "$HK_B" "housekeeping: standing by"
states=$(sample_states 5000)
is "$states" "2|1|0" "5 s of samples: always two sessions, one leader, no job run without the lease"
is "$(grep -F "[$HK_B] " "$HG_TMP/hookgated.log" | grep -c 'standing by')" 1 \
	"B said it stands by once, though it tried again every 2 s"
ok "a call through B is folded (by A) within 1.5 s" call_folds "$PORT_B" 1500
ok "the partition three months ahead is re-created" \
	wait_until 10000 bash -c "[[ \$(psql -X -At -c \"SELECT count(*) FROM pg_class WHERE relname = '$ahead'\") == 1 ]]"
ok "by A's housekeeping" logged "$HK_A" "maintenance: created 1 usage partition"
ok "the expired idempotency key is deleted" \
	wait_until 15000 bash -c "[[ \$(psql -X -At -c \"SELECT count(*) FROM hookgate.idempotency_keys WHERE key = 'old'\") == 0 ]]"
ok "the expired session is deleted" \
	wait_until 5000 bash -c "[[ \$(psql -X -At -c 'SELECT count(*) FROM hookgate.admin_sessions') == 0 ]]"
ok "B's housekeeping ran no job" \
	bash -c "! grep -F '[$HK_B] ' '$HG_TMP/hookgated.log' | grep -qE 'maintenance:|counters:|housekeeping: deleted'"

# ---- the leader's hookgated stops: B takes over --------------------------------------------------
HG_PID=$PID_A
hg_stop >/dev/null
start=$(hg_now_ms)
ok "SIGTERM to A: B's housekeeping leads within 5 s" wait_until 5000 lease_is "1|1|0"
diag "B took over $(($(hg_now_ms) - start)) ms after A stopped"
ok "B logs that it leads" logged "$HK_B" "housekeeping: leading"
ok "a call is folded (by B) within 1.5 s" call_folds "$PORT_B" 1500

# ---- the leader's housekeeping process is killed: the other node takes over -------------------
start_node "$HG_TMP/a.conf" "$PORT_A" || bail_out "hookgated A does not start again"
PID_A=$HG_PID
HK_A=$(housekeeping_of "$PID_A")
ok "A, started again, stands by" wait_until 3000 logged "$HK_A" "housekeeping: standing by"
is "$(lease_state)" "2|1|0" "two sessions, one leader"
kill -KILL "$HK_B"
start=$(hg_now_ms)
states=$(sample_states 5000)
ok "kill -9 of B's housekeeping: A's housekeeping leads within 5 s" \
	logged "$HK_A" "housekeeping: leading"
diag "states seen meanwhile: $(paste -sd' ' - <<<"$states")"
ok "never more than one leader and no job run without the lease meanwhile" \
	bash -c "! grep -vE '^[0-9]+\|[01]\|0$' <<<'$states'"
NEW_B=$(housekeeping_of "$PID_B")
ok "B's master replaced its housekeeping process" test -n "$NEW_B" -a "$NEW_B" != "$HK_B"
ok "which stands by" wait_until 6000 logged "$NEW_B" "housekeeping: standing by"
is "$(lease_state)" "2|1|0" "two sessions, one leader again"
ok "a call through B is folded (by A) within 1.5 s" call_folds "$PORT_B" 1500

# ---- the leader's connection is cut: the lease goes with it ----------------------------------------
pg_sql "SELECT pg_terminate_backend(l.pid) FROM pg_locks l WHERE $LEASE AND l.granted" >/dev/null
ok "the leader's session terminated: A logs that it lost the lease" \
	wait_until 3000 logged "$HK_A" "lost the housekeeping lease"
ok "within 5 s, two sessions again and one of them leads" wait_until 5000 lease_is "2|1|0"
ok "a call is folded within 1.5 s" call_folds "$PORT_B" 1500

# ---- SIGHUP: the new generation's housekeeping takes over at once ---------------------------------
HG_PID=$PID_B
hg_stop >/dev/null
ok "B stopped: A leads within 5 s" wait_until 5000 lease_is "1|1|0"
old=$(housekeeping_of "$PID_A")
kill -HUP "$PID_A"
start=$(hg_now_ms)
new_leads() {
	local hk
	hk=$(housekeeping_of "$PID_A")
	[[ -n $hk && $hk != "$old" ]] && logged "$hk" "housekeeping: leading" && lease_is "1|1|0"
}
ok "SIGHUP: the new housekeeping process leads within 1.5 s" wait_until 1500 new_leads
diag "it led $(($(hg_now_ms) - start)) ms after the SIGHUP"
ok "the old one is gone" wait_until 3000 hg_pid_dead "$old"
ok "a call is folded within 1.5 s" call_folds "$PORT_A" 1500
