#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# shellcheck disable=SC2119 # lib.sh functions with optional arguments, called without
# Several nodes on one database (docs/operations.md, "Several nodes"): three hookgated, gw-a,
# gw-b and gw-c, on one PostgreSQL behave as one service. A token disabled on one node is
# refused by the others on the very next call; a session signed in on one works on the others;
# an Idempotency-Key repeated on another node replays the first answer and stores once; token
# creations racing across nodes stop at five; housekeeping and the delivery feed each lead on
# exactly one node and move to another within 10 s when that node is killed (-9, every
# process); each node's name is in its JSON log lines, its metrics and its usage rows.
. "$HG_SRCDIR/tests/integration/lib.sh"
. "$HG_SRCDIR/tests/integration/webhook_lib.sh"
. "$HG_SRCDIR/tests/integration/admin_lib.sh"
hg_setup
plan 32

# webhook_fixtures gives alice "alice-password": admin_lib's login signs in with pw.
pw() { printf '%s-password\n' "$1"; }

NODES=(gw-a gw-b gw-c)
declare -A PORT ADMIN PID
LOG=$HG_TMP/hookgated.log # every node's lines, told apart by their "node" member
METRICS_PORT=

# node_conf NAME [LINE...]: NAME's configuration on its own ports, JSON log lines.
node_conf() {
	local name=$1
	shift
	hg_config '[server]' 'workers = 1' '[node]' "name = $name" '[log]' 'format = json' "$@"
	cp "$HG_CONF" "$HG_TMP/$name.conf"
	PORT[$name]=$HG_PORT
	ADMIN[$name]=$HG_ADMIN_PORT
}

start_node() {
	HG_PORT=${PORT[$1]}
	hg_start "$HG_TMP/$1.conf" || return 1
	PID[$1]=$HG_PID
}

# on NAME CMD...: CMD against NAME's listeners (post, api and their helpers read the ports).
on() {
	local name=$1
	shift
	HG_PORT=${PORT[$name]} HG_ADMIN_PORT=${ADMIN[$name]} "$@"
}

# leaders TEXT [FROM_LINE]: the nodes whose log lines (from line FROM_LINE on) say TEXT, one a
# line, sorted.
leaders() {
	tail -n "+${2:-1}" "$LOG" | grep -F "$1" | grep -oE '"node":"[^"]*"' |
		sed 's/"node":"//; s/"$//' | sort -u
}
one_leader() { [[ $(leaders "$1" "${2:-1}" | wc -l) == 1 ]]; }

# latest_leader TEXT: the node of the last line saying TEXT; led_by NODE TEXT, not_led_by.
latest_leader() {
	grep -F "$1" "$LOG" | tail -n 1 | grep -oE '"node":"[^"]*"' | sed 's/"node":"//; s/"$//'
}
led_by() { [[ $(latest_leader "$2") == "$1" ]]; }
not_led_by() { [[ -n $(latest_leader "$2") && $(latest_leader "$2") != "$1" ]]; }

# folded: no pending token count left (the housekeeping leader folds them every second).
folded() { [[ $(pg_sql "SELECT count(*) FROM hookgate.token_counts_pending") == 0 ]]; }

usage_node_of() { # usage_node_of MESSAGE_ID
	pg_sql "SELECT coalesce(node, 'NULL') FROM hookgate.token_usage WHERE message_id = $1"
}

pg_start
METRICS_PORT=$(hg_free_port)
node_conf gw-a '[server]' "metrics_listen = 127.0.0.1:$METRICS_PORT"
node_conf gw-b
node_conf gw-c
hg_migrate >/dev/null || bail_out "migrate failed"
webhook_fixtures || bail_out "fixtures failed"
pw dave | hgctl user add dave >/dev/null || bail_out "user add dave failed"

# ---- node.name itself ------------------------------------------------------------------------
sed 's/^name = gw-a$/name = gw a/' "$HG_TMP/gw-a.conf" >"$HG_TMP/bad.conf"
err=$("$HG_BUILDDIR/hookgated" -t -c "$HG_TMP/bad.conf" 2>&1)
like "$err" "bad.conf:[0-9]+: node.name: bad node name \"gw a\"" "a node name with a blank is refused, naming the line"

for n in "${NODES[@]}"; do
	start_node "$n" || bail_out "hookgated $n does not start"
done
ok "the three nodes' masters say their node in the start line" bash -c \
	"for n in ${NODES[*]}; do grep -F '\"node\":\"'\$n'\"' '$LOG' | grep -qF 'started as node '\$n || exit 1; done"
is "$(grep -c '^{' "$LOG")" "$(wc -l <"$LOG")" "every line of the shared log is a JSON object"
is "$(leaders '"role":')" "$(printf '%s\n' "${NODES[@]}")" "each node's lines carry its node"
is "$(curl -s "http://127.0.0.1:$METRICS_PORT/metrics" | grep '^hookgate_node_info')" \
	'hookgate_node_info{node="gw-a"} 1' "gw-a's metrics name it in hookgate_node_info"

# ---- each call's usage row names the node that took it -----------------------------------------
for n in "${NODES[@]}"; do
	on "$n" post "$(channel_path general "$TOK_A")" "{\"text\":\"via $n\"}"
	is "$HTTP_STATUS/$(usage_node_of "$(msg_id)")" "204/$n" "a call through $n: its usage row says $n"
done
pg_sql "INSERT INTO hookgate.token_usage (token_id, user_id, module, target, http_status)
	SELECT id, user_id, 'channel', 'general', 204 FROM hookgate.webhook_tokens
	WHERE public_id = '$PUB_A'" >/dev/null
is "$(pg_sql "SELECT count(*) FROM hookgate.token_usage WHERE node IS NULL")" 1 \
	"a row written by hand has node NULL"

# ---- one session, every node ---------------------------------------------------------------------
ok "alice signs in on gw-a" on gw-a login alice
on gw-b api alice GET /admin/api/session ''
is "$HTTP_STATUS/$(jstr login)" "200/alice" "gw-b knows the session made on gw-a"
on gw-c api alice GET "/admin/api/tokens/$PUB_A/usage?limit=4" ''
like "$HTTP_STATUS $HTTP_BODY" '^200 .*"node":null.*"node":"gw-c".*"node":"gw-b".*"node":"gw-a"' \
	"gw-c answers alice's usage history, newest first, each row with its node"

# ---- disabled on one node, refused by the others on the very next call ---------------------------
on gw-b post "$(channel_path general "$TOK_A2")" '{"text":"warm"}'
on gw-c post "$(channel_path general "$TOK_A2")" '{"text":"warm"}'
is "$HTTP_STATUS" 204 "TOK_A2 works on gw-b and gw-c (now in their caches)"
on gw-a api alice PATCH "/admin/api/tokens/$PUB_A2" '{"status":"disabled"}'
is "$HTTP_STATUS" 200 "alice disables it through gw-a's admin API"
on gw-b post "$(channel_path general "$TOK_A2")" '{"text":"after"}'
is "$HTTP_STATUS $(jstr code)" "401 token_disabled" "gw-b refuses the very next call"
on gw-c post "$(channel_path general "$TOK_A2")" '{"text":"after"}'
is "$HTTP_STATUS $(jstr code)" "401 token_disabled" "so does gw-c"
on gw-a post "$(channel_path general "$TOK_C")" '{"text":"warm"}'
hgctl token disable "$PUB_C" >/dev/null
on gw-a post "$(channel_path general "$TOK_C")" '{"text":"after"}'
is "$HTTP_STATUS $(jstr code)" "401 token_disabled" \
	"hookgatectl token disable: gw-a refuses the very next call"

# ---- an Idempotency-Key repeated on another node replays -----------------------------------------
on gw-a post "$(channel_path general "$TOK_A")" '{"text":"once"}' -H 'Idempotency-Key: nodes-1'
first="$HTTP_STATUS $(msg_id)"
on gw-b post "$(channel_path general "$TOK_A")" '{"text":"once"}' -H 'Idempotency-Key: nodes-1'
is "$HTTP_STATUS $(msg_id)" "$first" "the key used on gw-a, repeated on gw-b: the first answer again"
on gw-c post "$(channel_path general "$TOK_A")" '{"text":"once"}' -H 'Idempotency-Key: nodes-1'
is "$HTTP_STATUS $(msg_id)" "$first" "and on gw-c"
is "$(pg_sql "SELECT count(*) FROM hookgate.messages WHERE idempotency_key = 'nodes-1'")/$(
	pg_sql "SELECT count(*) FROM hookgate.idempotency_keys WHERE key = 'nodes-1'")" "1/1" \
	"one message and one key stored"

# ---- the five-token trigger under creations racing across nodes ---------------------------------
ok "dave signs in on gw-b" on gw-b login dave
racers=()
for i in $(seq 1 10); do
	n=${NODES[i % 3]}
	curl -s --max-time 10 -o "$HG_TMP/race.$i.body" -w '%{http_code}\n' -X POST \
		-b "$HG_TMP/dave.jar" -H "X-CSRF-Token: ${CSRF[dave]}" \
		-H 'Content-Type: application/json' --data-binary "{\"name\":\"race $i\"}" \
		"http://127.0.0.1:${ADMIN[$n]}/admin/api/tokens" >"$HG_TMP/race.$i.status" &
	racers+=("$!")
done
wait "${racers[@]}" # not a bare wait: the nodes are children of this shell too
hg_note_secrets "$(cat "$HG_TMP"/race.*.body)"
is "$(cat "$HG_TMP"/race.*.status | sort | uniq -c | awk '{print $2 "x" $1}' | paste -sd' ')" \
	"201x5 409x5" "10 creations across the nodes at once: 5 created, 5 refused with 409"
is "$(grep -l '"code":"token_limit"' "$HG_TMP"/race.*.body | wc -l)" 5 "the refusals say token_limit"
is "$(pg_sql "SELECT count(*) FROM hookgate.webhook_tokens t JOIN hookgate.users u
	ON u.id = t.user_id WHERE u.login = 'dave' AND t.deleted_at IS NULL")" 5 "dave has 5 tokens"

# ---- one housekeeping leader; it moves within 10 s when its node is killed ----------------------
HK='leading: took the housekeeping lease'
DF='leading: took the delivery feed lease'
ok "a node leads housekeeping" wait_until 5000 one_leader "$HK"
is "$(leaders "$HK" | wc -l)" 1 "exactly one node ever took the housekeeping lease"
ok "a node leads the delivery feed" wait_until 5000 one_leader "$DF"
hk=$(leaders "$HK")
mark=$(($(wc -l <"$LOG") + 1))
kill -KILL -- "-${PID[$hk]}"
start=$(hg_now_ms)
ok "kill -9 of $hk (every process): another node leads housekeeping within 10 s" \
	wait_until 10000 one_leader "$HK" "$mark"
diag "housekeeping moved from $hk to $(leaders "$HK" "$mark") in $(($(hg_now_ms) - start)) ms"
on "$(latest_leader "$HK")" post "$(channel_path general "$TOK_A")" '{"text":"fold me"}'
ok "the new leader runs the fold: a call is folded within 3 s" wait_until 3000 folded

# The delivery feed's leader among the two nodes left is killed too: the last node takes it.
ok "the delivery feed leads on a node left" wait_until 10000 not_led_by "$hk" "$DF"
df=$(latest_leader "$DF")
last=$(printf '%s\n' "${NODES[@]}" | grep -vxF -e "$hk" -e "$df")
kill -KILL -- "-${PID[$df]}"
start=$(hg_now_ms)
ok "kill -9 of $df: $last leads the delivery feed within 10 s" \
	wait_until 10000 led_by "$last" "$DF"
diag "the delivery feed moved from $df to $last in $(($(hg_now_ms) - start)) ms"
on "$last" post "$(channel_path general "$TOK_A")" '{"text":"last"}'
is "$HTTP_STATUS/$(usage_node_of "$(msg_id)")" "204/$last" \
	"$last alone still serves; its usage rows say $last"
