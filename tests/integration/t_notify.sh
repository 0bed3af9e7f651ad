#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The service manager's notifications (docs/operations.md, "Under systemd"): a listener of the
# tests' own on NOTIFY_SOCKET, as systemd's for a Type=notify unit, sees READY=1 with the
# master's pid only once every worker of the first generation serves, RELOADING=1 then READY=1
# around a SIGHUP (a good and a bad file), and STOPPING=1 on SIGTERM.
. "$HG_SRCDIR/tests/integration/lib.sh"
hg_setup
if [[ ${HG_WITH_SYSTEMD:-} != yes ]]; then
	printf '1..0 # SKIP built without libsystemd (configure --with-systemd, libsystemd-dev)\n'
	exit 0
fi
command -v python3 >/dev/null 2>&1 || {
	printf '1..0 # SKIP python3 is not installed\n'
	exit 0
}
plan 11

# One line per datagram (its newlines as spaces); on READY=1 it adds how many processes had
# logged "started" by then, so that the test can tell READY came after the workers served.
# It leaves by itself after STOPPING=1 or two minutes.
NOTIFY_LOG=$HG_TMP/notify.log
python3 - "$HG_TMP/notify.sock" "$NOTIFY_LOG" "$HG_TMP/hookgated.log" <<'PY' &
import socket, sys, time
path, out, daemon_log = sys.argv[1:4]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
s.settimeout(1.0)
end = time.time() + 120
with open(out, "a", buffering=1) as f:
    while time.time() < end:
        try:
            msg = s.recv(4096).decode().strip().replace("\n", " ")
        except socket.timeout:
            continue
        if "READY=1" in msg:
            with open(daemon_log) as d:
                msg += " started=%d" % sum(1 for l in d if l.rstrip().endswith(": started"))
        f.write(msg + "\n")
        if "STOPPING=1" in msg:
            break
PY
LISTENER=$!
wait_until 5000 test -S "$HG_TMP/notify.sock" || bail_out "the notify listener did not start"

pg_start
hg_config
hg_migrate >/dev/null || bail_out "migrate failed"
NOTIFY_SOCKET=$HG_TMP/notify.sock hg_start || bail_out "hookgated does not start"

ok "READY=1 arrives after the start" wait_until 10000 grep -q READY=1 "$NOTIFY_LOG"
first=$(grep -m1 READY=1 "$NOTIFY_LOG")
like "$first" "MAINPID=$HG_PID( |$)" "with MAINPID, the master's pid ($HG_PID)"
workers=$(hg_children | wc -l)
like "$first" "started=$workers\$" "once all $workers workers had started serving"

kill -HUP "$HG_PID"
ok "SIGHUP: RELOADING=1, then READY=1" \
	wait_until 10000 eval '[[ $(grep -o "RELOADING=1\|READY=1" "$NOTIFY_LOG" | tr "\n" " ") == "READY=1 RELOADING=1 READY=1 " ]]'
reready=$(grep READY=1 "$NOTIFY_LOG" | sed -n 2p)
# the new generation logged its "started" lines too: twice the workers by then
like "$reready" "started=$((2 * workers))\$" "READY=1 after the new generation started serving"

printf '[server]\nbogus_key = 1\n' >>"$HG_CONF"
kill -HUP "$HG_PID"
ok "a bad file: RELOADING=1, then READY=1 again (the old configuration stays)" \
	wait_until 10000 eval '[[ $(grep -c "READY=1" "$NOTIFY_LOG") == 3 && $(grep -c RELOADING=1 "$NOTIFY_LOG") == 2 ]]'
like "$(tail -n 1 "$NOTIFY_LOG")" "READY=1" "ending with READY=1"
ok "the reload failure is logged" grep -q "reload failed" "$HG_TMP/hookgated.log"

ok "SIGTERM: hookgated stops with status 0" hg_stop
ok "STOPPING=1 was sent" grep -q STOPPING=1 "$NOTIFY_LOG"
is "$(grep -c . "$NOTIFY_LOG")" 6 "nothing else: READY, RELOADING, READY, RELOADING, READY, STOPPING"
kill "$LISTENER" 2>/dev/null
wait "$LISTENER" 2>/dev/null
