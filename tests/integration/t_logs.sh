#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Logs an operator can parse (docs/operations.md, "Logs"): log.format = json writes one JSON
# object per line; the access line of a webhook call carries the token's public id (never the
# token), its message id and its batch id, which find the message and the usage row in
# PostgreSQL; a failed ingest batch is a warn line with its size and cause, rate-limited while
# PostgreSQL is gone; on a stderr that journald reads (JOURNAL_STREAM naming it) every line
# starts with a "<N>" priority prefix, and with a JOURNAL_STREAM naming another stream none does.
. "$HG_SRCDIR/tests/integration/lib.sh"
. "$HG_SRCDIR/tests/integration/webhook_lib.sh"
hg_setup
plan 16

LOG=$HG_TMP/hookgated.log
pg_start
hg_config '[log]' 'format = json' 'access = on'
hg_migrate >/dev/null || bail_out "migrate failed"
webhook_fixtures || bail_out "fixtures failed"
hg_start || bail_out "hookgated does not start"

post "$(channel_path general "$TOK_A")" '{"text":"hello"}'
is "$HTTP_STATUS" 204 "a call with the token is stored"
MSG=$(msg_id)

# every line: one JSON object with time, level, role, pid and message
json_lines_ok() {
	python3 -c '
import json, sys
n = 0
for line in open(sys.argv[1], encoding="utf-8"):
    o = json.loads(line)
    assert all(k in o for k in ("time", "level", "role", "pid", "message")), line
    n += 1
assert n > 0
' "$LOG"
}
access_line() { grep '"message":"access: ' "$LOG" | grep "\"message_id\":\"$MSG\"" | tail -n 1; }
wait_until 5000 test -n "$(access_line)"
ok "every line of the log is a JSON object with time, level, role, pid and message" json_lines_ok
LINE=$(access_line)
is "$(json_field "$LINE" token)" "$PUB_A" "the access line names the token by its public id"
is "$(json_field "$LINE" status)" 204 "and has the status as a field"
BATCH=$(json_field "$LINE" batch)
like "$BATCH" '^[0-9]+$' "and the batch id"
is "$(pg_sql "SELECT count(*) FROM hookgate.messages WHERE id = $MSG AND xid = '$BATCH'::xid8")" 1 \
	"the batch id is the xid of the message stored"
is "$(pg_sql "SELECT count(*) FROM hookgate.token_usage u JOIN hookgate.webhook_tokens t
	ON t.id = u.token_id WHERE t.public_id = '$PUB_A'
	AND u.xmin = ($BATCH % 4294967296)::text::xid AND u.message_id = $MSG")" 1 \
	"and finds the call's usage row with the public id"

ok "no token in the log, with or without its prefix" \
	bash -c '! grep -qF -e "$1" -e "${1#hgt_}" "$2"' _ "$TOK_A" "$LOG"

# a refusal before any token is known: no token field, and never the token itself
post "$(channel_path general "${TOK_B:0:20}x")" '{"text":"x"}'
is "$HTTP_STATUS" 401 "a malformed token is refused"

# PostgreSQL hung (SIGSTOP to all its processes): the batches get no answer by their deadline,
# each worker says so at warn, once per 5 s at most. A stopped PostgreSQL would race: a worker
# that sees its connections close first drops its token cache and answers 503 at the token
# look-up, before any batch is sent.
pg_signal_all STOP
url="http://127.0.0.1:$HG_PORT$(channel_path general "$TOK_A")"
curls=()
for i in $(seq 1 20); do
	curl -s -o /dev/null -w '%{http_code}\n' --max-time 10 -X POST --data-binary '{"text":"down"}' \
		-H 'Content-Type: application/json' "$url" >>"$HG_TMP/hung-codes" &
	curls+=("$!")
done
wait "${curls[@]}"
is "$(sort -u "$HG_TMP/hung-codes" | tr '\n' ' ')" "503 " "with PostgreSQL hung, all 20 calls get 503"
fail_lines() { grep '"level":"warn"' "$LOG" | grep -c 'ingest batch of [0-9]* calls failed: '; }
wait_until 3000 test "$(fail_lines)" -ge 1
FAILS=$(fail_lines)
hg_result "$((FAILS >= 1))" "a failed batch is logged at warn with its size and cause"
hg_result "$((FAILS <= 4))" "rate-limited: $FAILS lines for 20 failed calls on 2 workers"
pg_signal_all CONT
ok "the log is still one JSON object per line" json_lines_ok
ok "hookgated stops with status 0" hg_stop

# journald: JOURNAL_STREAM names hookgated's stderr (the log file: device and inode)
STREAM=$(stat -c '%d:%i' "$LOG")
sed -i 's/^format = json$/format = text/' "$HG_CONF"
: >"$LOG"
JOURNAL_STREAM=$STREAM hg_start || bail_out "hookgated does not start under a journald stream"
hg_stop >/dev/null
like "$(head -n 1 "$LOG")" '^<6>\[[0-9]+\] info master: ' \
	"under journald a line starts with its priority, without a time of its own"
: >"$LOG"
JOURNAL_STREAM=1:1 hg_start || bail_out "hookgated does not start"
hg_stop >/dev/null
like "$(head -n 1 "$LOG")" '^20[0-9-]+T[0-9:.]+Z \[[0-9]+\] info master: ' \
	"an inherited JOURNAL_STREAM naming another stream changes nothing"
