#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# limits.token_rate across nodes (docs/decisions/0015-rate-shares.md): two hookgated on one
# PostgreSQL cut the limit into two shares, so a client alternating between them gets at most
# 1.1 × rate over 10 s, not twice the rate; when one node is killed, the other takes the whole
# limit back within a few seconds; while PostgreSQL is away they keep the count they knew.
. "$HG_SRCDIR/tests/integration/lib.sh"
. "$HG_SRCDIR/tests/integration/webhook_lib.sh"
hg_setup
command -v python3 >/dev/null 2>&1 || {
	printf '1..0 # SKIP python3 is not installed\n'
	exit 0
}
plan 11

RATE=20
BURST=4

pg_start
# node_config N: node N's config (its own ports and log file) in $HG_TMP/nodeN.conf.
node_config() {
	hg_config '[limits]' "token_rate = $RATE" "token_burst = $BURST" \
		'[log]' "file = $HG_TMP/node$1.log"
	cp "$HG_CONF" "$HG_TMP/node$1.conf"
}
node_config 1
hg_migrate >/dev/null || bail_out "migrate failed"
webhook_fixtures || bail_out "fixtures failed"
hg_start "$HG_TMP/node1.conf" || bail_out "node 1 does not start"
PORT1=$HG_PORT PID1=$HG_PID
node_config 2
hg_start "$HG_TMP/node2.conf" || bail_out "node 2 does not start"
PORT2=$HG_PORT PID2=$HG_PID

# calls SECONDS PORT...: posts as fast as it can for SECONDS, round robin over the ports (four
# threads, each with a keep-alive connection to every port), and prints "ACCEPTED REFUSED OTHER".
calls() {
	python3 - "$1" "$(channel_path general "$TOK_A")" "${@:2}" <<'PY'
import http.client, sys, threading, time
secs, path, ports = float(sys.argv[1]), sys.argv[2], sys.argv[3:]
counts = {"2xx": 0, "429": 0, "other": 0}
lock = threading.Lock()
def run():
    conns = [http.client.HTTPConnection("127.0.0.1", int(p), timeout=5) for p in ports]
    end, i = time.monotonic() + secs, 0
    while time.monotonic() < end:
        c = conns[i % len(conns)]
        i += 1
        try:
            c.request("POST", path, b'{"text":"r"}', {"Content-Type": "application/json"})
            r = c.getresponse()
            r.read()
            key = "2xx" if 200 <= r.status < 300 else "429" if r.status == 429 else "other"
        except (OSError, http.client.HTTPException):
            c.close()
            key = "other"
        with lock:
            counts[key] += 1
threads = [threading.Thread(target=run) for _ in range(4)]
for t in threads: t.start()
for t in threads: t.join()
print(counts["2xx"], counts["429"], counts["other"])
PY
}

shares_logged() { # shares_logged N LOG: the node's last count of nodes is N
	[[ $(grep -o 'rate shares: [0-9]* node(s) share' "$2" | tail -n 1) == "rate shares: $1 node(s) share" ]]
}
both_see_two() { shares_logged 2 "$HG_TMP/node1.log" && shares_logged 2 "$HG_TMP/node2.log"; }
ok "both nodes see two nodes share the limit" wait_until 10000 both_see_two
is "$(pg_sql "SELECT count(*), count(DISTINCT node_id), bool_and(host <> '') FROM hookgate.rate_shares")" \
	"2|2|t" "hookgate.rate_shares holds one row per node"

read -r accepted refused other < <(calls 10 "$PORT1" "$PORT2")
diag "10 s round robin over two nodes: $accepted accepted, $refused refused (429), $other other"
max=$((RATE * 10 * 11 / 10 + BURST))
ok "at most 1.1 × rate × 10 s + burst accepted ($accepted <= $max)" test "$accepted" -le "$max"
ok "at least 0.8 × rate × 10 s accepted ($accepted)" test "$accepted" -ge $((RATE * 10 * 8 / 10))
ok "the rest was refused with 429, nothing else" test "$refused" -gt 0 -a "$other" -eq 0

# PostgreSQL away for 3 s: the nodes keep the count they knew, and after it, although the first
# beats find each other's rows 3 s old, neither takes the other for gone.
pg_signal_all STOP
sleep 3
pg_signal_all CONT
beats_back() { grep -q 'rate shares: beats work again' "$HG_TMP/node1.log" &&
	grep -q 'rate shares: beats work again' "$HG_TMP/node2.log"; }
ok "both nodes beat again once PostgreSQL is back" wait_until 10000 beats_back
sleep 1
is "$(cat "$HG_TMP/node1.log" "$HG_TMP/node2.log" | grep -c 'rate shares: 1 node(s) share')" 0 \
	"neither node counted the other gone because PostgreSQL was away"

t0=$(hg_now_ms)
kill -KILL -- "-$PID2"
wait "$PID2" 2>/dev/null
ok "within 5 s of node 2's death node 1 holds the whole limit" \
	wait_until 5000 shares_logged 1 "$HG_TMP/node1.log"
diag "node 1 took the whole limit back $(($(hg_now_ms) - t0)) ms after node 2 was killed"

read -r accepted refused other < <(calls 5 "$PORT1")
diag "5 s on node 1 alone: $accepted accepted, $refused refused (429), $other other"
ok "the survivor admits about the whole rate: at least 0.8 × rate × 5 s ($accepted)" \
	test "$accepted" -ge $((RATE * 5 * 8 / 10))
ok "and at most 1.1 × rate × 5 s + burst ($accepted)" \
	test "$accepted" -le $((RATE * 5 * 11 / 10 + BURST))
HG_PID=$PID1
ok "node 1 stops with status 0" hg_stop
