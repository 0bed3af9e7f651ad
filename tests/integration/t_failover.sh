#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# PostgreSQL failover under load (docs/operations.md, "PostgreSQL failover"): a primary and a hot
# standby built with pg_basebackup -R and a replication slot, synchronous_standby_names naming
# the standby, and hookgated's conninfo naming both with target_session_attrs=read-write.
# 1. The standby stopped: commits wait for it, calls get 503 within the deadline, 2xx again
#    once it is back. 2. kill -9 of the primary's postmaster: 503 within 1 s during the gap,
#    2xx within 5 s of pg_ctl promote without restarting hookgated, and every call acknowledged
#    2xx (an acknowledged-ids ledger) is in the new primary. 3. The same failover with
#    asynchronous replication: the acknowledged calls the new primary lacks are counted, not
#    checked (what synchronous replication is for).
. "$HG_SRCDIR/tests/integration/lib.sh"
. "$HG_SRCDIR/tests/integration/webhook_lib.sh"
hg_setup
plan 18

PGBIN=$(pg_bindir)
[[ -x $PGBIN/pg_basebackup ]] || bail_out "pg_basebackup not found"

# The standbys made here are stopped by the cleanup, before lib.sh's (which knows only pg/).
failover_cleanup() {
	local rc=$?
	pg_standbys_stop
	(exit "$rc")
	hg_cleanup
}
trap failover_cleanup EXIT

# ---- load: clients posting in a loop, an acknowledged-ids ledger ---------------------------------

# client I: posts until $HG_TMP/stop exists; one line per call in load.I:
# "START_MS DURATION_S STATUS MESSAGE_ID MARKER", the marker being the call's text.
client() {
	local i=$1 n=0 t0 out
	while [[ ! -e $HG_TMP/stop ]]; do
		t0=${EPOCHREALTIME//[.,]/}
		out=$(curl -s -o /dev/null --max-time 5 -X POST -H 'Content-Type: application/json' \
			--data-binary "{\"text\":\"fo-$i-$n\"}" \
			-w '%{time_total} %{http_code} %header{x-message-id}' "$URL")
		printf '%s %s fo-%s-%s\n' "$((t0 / 1000))" "$out" "$i" "$n" >>"$HG_TMP/load.$i"
		n=$((n + 1))
	done
}
load_start() {
	local i
	rm -f "$HG_TMP/stop" "$HG_TMP"/load.*
	LOAD_PIDS=()
	for ((i = 0; i < 4; i++)); do
		client "$i" &
		LOAD_PIDS+=($!)
	done
}
load_stop() {
	touch "$HG_TMP/stop"
	wait "${LOAD_PIDS[@]}"
}
# The calls answered 2xx: "MESSAGE_ID MARKER", sorted.
ledger() {
	cat "$HG_TMP"/load.* | awk '$3 ~ /^2/ && NF == 5 { print $4, $5 }' | sort
}
# ledger_missing PORT: the ledger's lines whose message is not in that cluster's messages
# with its marker.
ledger_missing() {
	comm -23 <(ledger) <(pg_at "$1" "SELECT id || ' ' || substring(body from 'fo-[0-9]+-[0-9]+')
		FROM hookgate.messages WHERE body LIKE '%fo-%'" | sort)
}
# window FROM_MS TO_MS: the calls that started in [FROM, TO): "CALLS SLOWEST_MS STATUSES",
# STATUSES as "204:12,503:40".
window() {
	cat "$HG_TMP"/load.* | awk -v from="$1" -v to="$2" '
		$1 >= from && $1 < to {
			n++; ms = $2 * 1000; if (ms > slow) slow = ms; st[$3]++
		}
		END {
			s = ""; for (k in st) s = s (s == "" ? "" : ",") k ":" st[k]
			printf "%d %d %s\n", n, slow, (s == "" ? "none" : s)
		}'
}
# back_after FROM_MS: ms from FROM to the end of the first 2xx of a call started after it, or
# nothing.
back_after() {
	cat "$HG_TMP"/load.* | awk -v from="$1" '
		$1 >= from && $3 ~ /^2/ { end = $1 + $2 * 1000; if (first == "" || end < first) first = end }
		END { if (first != "") printf "%d\n", first - from }'
}
# only_204_503 STATUSES: a window's statuses hold no other answer (000: none, curl gave up).
only_204_503() {
	[[ $(tr ',' '\n' <<<"$1" | grep -cvE '^(204|503):') == 0 ]]
}
served_since() {
	[[ -n $(back_after "$1") ]]
}

# ---- a primary, a synchronous hot standby, hookgated naming both ---------------------------------

pg_start
P1=$PGPORT
standby_make "$HG_TMP/pg2" standby1 "$P1" || bail_out "the standby does not stream"
P2=$(cat "$HG_TMP/pg2/port")
pg_at "$P1" "ALTER SYSTEM SET synchronous_standby_names = 'standby1'" &&
	pg_at "$P1" "SELECT pg_reload_conf()" >/dev/null
ok "the standby streams synchronously" wait_until 5000 eval \
	"[[ \$(pg_at $P1 \"SELECT sync_state FROM pg_stat_replication\") == sync ]]"
hg_config "[database]" \
	"conninfo = host=127.0.0.1,127.0.0.1 port=$P1,$P2 dbname=hookgate user=hookgate target_session_attrs=read-write"
hg_migrate >/dev/null || bail_out "migrate failed"
webhook_fixtures || bail_out "fixtures failed"
hg_start || bail_out "hookgated does not start"
URL="http://127.0.0.1:$HG_PORT$(channel_path general "$TOK_A")"
load_start
sleep 1

# ---- 1. the synchronous standby down: commits wait -----------------------------------------------

down=$(hg_now_ms)
pg_tmp stop "$HG_TMP/pg2" >/dev/null || diag "could not stop the standby"
sleep 2
up=$(hg_now_ms)
read -r calls slow statuses < <(window "$down" "$up")
diag "standby down for $((up - down)) ms: $calls calls ($statuses), slowest answer $slow ms"
like "$statuses" '503:' "standby down: commits wait, calls get 503"
ok "standby down: every call answered within 1.5 s (slowest $slow ms)" test "$slow" -lt 1500
pg_tmp start "$HG_TMP/pg2" "$P2" >/dev/null || bail_out "the standby does not start again"
ok "standby back: 2xx again" wait_until 10000 served_since "$up"
diag "2xx again $(back_after "$up") ms after the standby's restart began"

# ---- 2. kill -9 of the primary, promotion of the standby -----------------------------------------

sleep 1
killed=$(hg_now_ms)
kill -KILL "$(head -n 1 "$HG_TMP/pg/data/postmaster.pid")"
sleep 2
promoted=$(hg_now_ms)
ok "pg_ctl promote" as_pg_owner "$PGBIN/pg_ctl" promote -w -D "$HG_TMP/pg2/data"
diag "promotion took $(($(hg_now_ms) - promoted)) ms"
read -r calls slow statuses < <(window "$killed" "$promoted")
diag "gap of $((promoted - killed)) ms: $calls calls ($statuses), slowest answer $slow ms"
like "$statuses" '503:' "gap: calls get 503"
ok "gap: every call answered within 1 s (slowest $slow ms)" test "$slow" -lt 1000
ok "gap: no answer other than 204 or 503 ($statuses)" only_204_503 "$statuses"
ok "2xx within 5 s of the promotion, hookgated not restarted" wait_until 5000 served_since "$promoted"
diag "2xx again $(back_after "$promoted") ms after pg_ctl promote began"
sleep 1
load_stop
acked=$(ledger | wc -l)
missing=$(ledger_missing "$P2")
diag "acknowledged 2xx: $acked; missing from the new primary: $(grep -c . <<<"$missing")"
ok "the ledger holds acknowledged calls ($acked)" test "$acked" -gt 50
is "$missing" "" "synchronous: every acknowledged call is in the new primary"
ok "the new primary is read-write" eval "[[ \$(pg_at $P2 'SELECT pg_is_in_recovery()') == f ]]"

# ---- 3. the same with asynchronous replication: what it loses ------------------------------------

hg_stop >/dev/null 2>&1
standby_make "$HG_TMP/pg3" standby2 "$P2" || bail_out "the second standby does not stream"
P3=$(cat "$HG_TMP/pg3/port")
is "$(pg_at "$P2" "SELECT sync_state FROM pg_stat_replication")" async \
	"asynchronous: the standby is not synchronous"
hg_config "[database]" \
	"conninfo = host=127.0.0.1,127.0.0.1 port=$P2,$P3 dbname=hookgate user=hookgate target_session_attrs=read-write"
ok "hookgated starts on the asynchronous pair" hg_start
URL="http://127.0.0.1:$HG_PORT$(channel_path general "$TOK_A")"
load_start
sleep 1.5
# The standby falls 1 s behind, as over a congested link (the primary's WAL sender stops
# meanwhile), then the primary's host dies: every process of it killed at once.
primary=$(head -n 1 "$HG_TMP/pg2/data/postmaster.pid")
primary_all=$(printf '%s\n' "$primary"; hg_children "$primary")
sender=$(for p in $primary_all; do
	[[ $(proc_title "$p") == *walsender* ]] && printf '%s\n' "$p"
done)
[[ -n $sender ]] && kill -STOP "$sender"
sleep 1
killed=$(hg_now_ms)
# shellcheck disable=SC2086 # one pid a word
kill -KILL $primary_all
sleep 1
promoted=$(hg_now_ms)
ok "asynchronous: pg_ctl promote" as_pg_owner "$PGBIN/pg_ctl" promote -w -D "$HG_TMP/pg3/data"
wait_until 5000 served_since "$promoted" || diag "asynchronous: no 2xx within 5 s of promote"
sleep 1
load_stop
acked=$(ledger | wc -l)
lagging=$(window "$((killed - 1000))" "$killed")
missing=$(ledger_missing "$P3" | grep -c .)
diag "asynchronous replication, the standby 1 s behind: $acked calls acknowledged" \
	"($lagging started in the last second before the kill: calls, slowest ms, statuses)," \
	"$missing of them missing from the new primary (counted, not checked: what" \
	"synchronous_standby_names prevents)"
ok "hookgated stops with status 0" hg_stop

# ---- 4. a first host that never answers ---------------------------------------------------------

# A host that takes the connection and never answers (a hung machine; no refusal to move on
# from): libpq, polled, waits on it until hookgated's time-out, and must try the other first.
HANG_PORT=$(hg_free_port)
python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64); time.sleep(120)' \
	"$HANG_PORT" &
HANG_PID=$!
wait_until 5000 eval "! hg_port_is_free $HANG_PORT" || diag "the silent listener is not up"
hg_config "[database]" \
	"conninfo = host=127.0.0.1,127.0.0.1 port=$HANG_PORT,$P3 dbname=hookgate user=hookgate target_session_attrs=read-write connect_timeout=2"
started=$(hg_now_ms)
ok "a silent first host: hookgated serves through the second" hg_start
diag "healthy $(($(hg_now_ms) - started)) ms after the start (connect_timeout = 2 s)"
ok "a silent first host: hookgated stops with status 0" hg_stop
kill "$HANG_PID"
wait "$HANG_PID" 2>/dev/null || true
