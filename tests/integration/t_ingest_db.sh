#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# shellcheck disable=SC2119 # lib.sh functions with optional arguments, called without
# The database side of webhook ingest (sql/002_ingest.sql, docs/api-webhooks.md): hookgate.ingest_batch()
# called by hand with psql — accepted calls, the 403/404 rules of every module, disabled and
# deleted tokens, idempotency keys, a failing batch storing nothing, counters equal to usage
# rows, disable and delete racing a batch on the token's row lock, one idempotency key used by
# two batches at once — and the hookgate_tokens NOTIFY.
. "$HG_SRCDIR/tests/integration/lib.sh"
hg_setup
plan 100

AT='2026-01-02T03:04:05.123456Z'

pg_start
hg_config
ok "migrate (001, 002, ...)" hg_migrate
is "$(pg_sql "SELECT count(*) FROM hookgate.schema_migrations WHERE version = 2")" 1 \
	"002 recorded in schema_migrations"

# ---- fixtures: alice, bob, their tokens, a channel each, bots, an extension ---------------------
pg_sql "
INSERT INTO hookgate.users (login, display_name, password_hash)
VALUES ('alice', 'Alice', 'x'), ('bob', 'Bob', 'x'), ('carol', 'Carol', 'x');
INSERT INTO hookgate.webhook_tokens (public_id, user_id, name, token_hash, secret_enc)
SELECT 'tk_' || lpad(n::text, 16, '0'), u.id, 't' || n, sha256(('t' || n)::bytea), '\x00'
  FROM (VALUES (1, 'alice'), (2, 'alice'), (3, 'alice'), (4, 'bob'), (5, 'bob'), (6, 'carol'))
       AS v(n, login)
  JOIN hookgate.users u ON u.login = v.login;
INSERT INTO hookgate.channels (name) VALUES ('general'), ('secret');
INSERT INTO hookgate.channel_members (channel_id, user_id)
SELECT c.id, u.id FROM hookgate.channels c, hookgate.users u
 WHERE (c.name, u.login) IN (('general', 'alice'), ('general', 'carol'), ('secret', 'bob'));
INSERT INTO hookgate.bots (name, owner_id)
SELECT b, (SELECT id FROM hookgate.users WHERE login = o)
  FROM (VALUES ('alicebot', 'alice'), ('bobbot', 'bob'), ('pubbot', 'bob')) AS v(b, o);
INSERT INTO hookgate.bot_subscribers (bot_id, user_id)
SELECT (SELECT id FROM hookgate.bots WHERE name = 'pubbot'),
       (SELECT id FROM hookgate.users WHERE login = 'alice');
INSERT INTO hookgate.extensions (name, owner_id, sandbox_app_id, sandbox_appkey_hash,
	sandbox_appkey_enc, marketplace_app_id, marketplace_appkey_hash, marketplace_appkey_enc)
SELECT 'ext', id, 'app_Sandbox000000001', sha256('sk'), '\x00', 'app_Market0000000001',
       sha256('mk'), '\x00'
  FROM hookgate.users WHERE login = 'bob';
" >/dev/null 2>"$HG_TMP/seed.err" && pg_sql "SELECT 1 FROM hookgate.extensions" >/dev/null
seeded=$?
((seeded == 0)) || diag "$(cat "$HG_TMP/seed.err")"
is "$seeded" 0 "fixtures inserted"

tid() { pg_sql "SELECT id FROM hookgate.webhook_tokens WHERE name = 't$1'"; }
T1=$(tid 1) T2=$(tid 2) T3=$(tid 3) T4=$(tid 4) T5=$(tid 5) T6=$(tid 6)
SK=$(pg_sql "SELECT encode(sha256('sk'), 'hex')")
MK=$(pg_sql "SELECT encode(sha256('mk'), 'hex')")
APP_S=app_Sandbox000000001
APP_M=app_Market0000000001

# call I TOKEN_ID STATUS MODULE TARGET [MORE]: one call object; MORE = further JSON members.
call() {
	printf '{"i":%s,"token_id":%s,"user_id":0,"status":%s,"module":"%s","target":"%s",' \
		"$1" "$2" "$3" "$4" "$5"
	printf '"content_type":"application/json","body":"{\\"text\\":\\"m%s\\"}",' "$1"
	printf '"client_addr":"192.0.2.7","user_agent":"t/1","request_bytes":21,"latency_us":5,'
	printf '"at":"%s"%s}' "${AT_CALL:-$AT}" "${6:+,$6}"
}

# batch_sql CALL...: the statement running one batch, printing "i status code message_id".
batch_sql() {
	local json
	json="[$(IFS=,; printf '%s' "$*")]"
	printf "SELECT i || ' ' || http_status || ' ' || coalesce(code, '-') || ' ' ||
		coalesce(message_id::text, '-') FROM hookgate.ingest_batch('%s') ORDER BY i" \
		"${json//\'/\'\'}"
}

# batch CALL...: runs one batch. GOT: "i status code m" per call (m: a message id, -: none);
# MSG[i]: the message ids.
batch() {
	local out i st code id
	out=$(pg_sql "$(batch_sql "$@")") || return 1
	MSG=()
	GOT=
	while read -r i st code id; do
		MSG[i]=$id
		[[ $id != - ]] && id=m
		GOT+="${GOT:+$'\n'}$i $st $code $id"
	done <<<"$out"
}

# fails SQL: the statement fails.
fails() {
	! pg_sql "$1" >/dev/null 2>&1
}

lines() {
	printf '%s\n' "$@"
}

# The exact counter (folded + pending): nothing folds here, no hookgated runs.
counted() {
	pg_sql "SELECT invocations FROM hookgate.token_counts WHERE token_id = $1"
}

usage_rows() {
	pg_sql "SELECT count(*) FROM hookgate.token_usage WHERE token_id = $1 ${2:+AND $2}"
}

# ---- an accepted call stores message, usage row and counter -------------------------------------
batch "$(call 0 "$T1" 0 channel general)"
is "$GOT" "0 204 - m" "accepted channel call: 204 with a message id"
m=${MSG[0]}
is "$(pg_sql "SELECT module, target, content_type, body, token_id = $T1,
	user_id = (SELECT id FROM hookgate.users WHERE login = 'alice'),
	at = '$AT'::timestamptz, idempotency_key IS NULL
	FROM hookgate.messages WHERE id = $m")" \
	'channel|general|application/json|{"text":"m0"}|t|t|t|t' "message row holds the call"
is "$(pg_sql "SELECT module, target, http_status, client_addr, user_agent, request_bytes,
	latency_us, message_id = $m, at = '$AT'::timestamptz FROM hookgate.token_usage
	WHERE token_id = $T1")" 'channel|general|204|192.0.2.7|t/1|21|5|t|t' \
	"usage row holds the outcome and the message id"
is "$(pg_sql "SELECT invocations, last_invoked_at = '$AT'::timestamptz
	FROM hookgate.token_counts WHERE token_id = $T1")" '1|t' "invocations 1, last_invoked_at = at"

# ---- target and permission rules, one batch -----------------------------------------------------
batch \
	"$(call 0 "$T1" 0 channel secret)" \
	"$(call 1 "$T1" 0 channel nochan)" \
	"$(call 2 "$T1" 0 bot_incoming alicebot)" \
	"$(call 3 "$T1" 0 bot_message pubbot)" \
	"$(call 4 "$T1" 0 bot_message bobbot)" \
	"$(call 5 "$T1" 0 bot_incoming nobot)" \
	"$(call 6 "$T1" 0 extension "$APP_S" "\"appkey_hash\":\"$SK\"")" \
	"$(call 7 "$T1" 0 extension "$APP_M" "\"appkey_hash\":\"$MK\"")" \
	"$(call 8 "$T1" 0 extension "$APP_M" "\"appkey_hash\":\"$SK\"")" \
	"$(call 9 "$T1" 0 extension "$APP_S" "\"appkey_hash\":\"$MK\"")" \
	"$(call 10 "$T1" 0 extension "$APP_M")" \
	"$(call 11 "$T1" 0 extension app_Nothing000000001 "\"appkey_hash\":\"$SK\"")" \
	"$(call 12 "$T1" 429 channel general)" \
	"$(call 13 999999 0 channel general)"
want=$(lines "0 403 forbidden -" "1 404 not_found -" "2 204 - m" "3 204 - m" \
	"4 403 forbidden -" "5 404 not_found -" "6 204 - m" "7 204 - m" "8 403 forbidden -" \
	"9 403 forbidden -" "10 403 forbidden -" "11 404 not_found -" "12 429 - -" \
	"13 401 token_invalid -")
is "$GOT" "$want" "channel/bot/extension rules: 403 and 404 per docs/api-webhooks.md, appkeys never cross"
is "$(pg_sql "SELECT string_agg(module, ',' ORDER BY id) FROM hookgate.messages
	WHERE id IN (${MSG[6]}, ${MSG[7]})")" "extension_sandbox,extension_marketplace" \
	"extension messages stored as extension_sandbox / extension_marketplace"
is "$(pg_sql "SELECT string_agg(module || ':' || http_status, ',' ORDER BY http_status, module)
	FROM hookgate.token_usage WHERE token_id = $T1 AND target LIKE 'app_%'")" \
	"$(printf '%s,' marketplace:204 sandbox:204 marketplace:403 marketplace:403 sandbox:403 \
		sandbox:404 | sed 's/,$//; s/\([a-z]*:\)/extension_\1/g')" \
	"extension usage rows: module by app id, unknown app id as extension_sandbox"
is "$(usage_rows "$T1")" 14 "one usage row per call of the known token (13 + 1 before)"
is "$(counted "$T1")" 14 "every call of the active token counted, whatever its outcome"
is "$(pg_sql "SELECT count(*) FROM hookgate.token_usage WHERE token_id = 999999")" 0 \
	"unknown token: no usage row"
is "$(pg_sql "SELECT count(*) FROM hookgate.messages WHERE token_id = $T1")" 5 \
	"only the 204 calls stored a message"

# A 401 the worker decided (token disabled in its cache) is logged but not counted.
batch "$(call 0 "$T1" 401 channel general)"
is "$GOT" "0 401 - -" "worker-decided 401 kept, code left to the worker"
is "$(counted "$T1"),$(usage_rows "$T1")" "14,15" "... usage row written, not counted"

# ---- disabled and deleted tokens ----------------------------------------------------------------
pg_sql "UPDATE hookgate.webhook_tokens SET status = 'disabled' WHERE id = $T2"
batch "$(call 0 "$T2" 0 channel general)" "$(call 1 "$T2" 429 channel general)"
is "$GOT" "$(lines "0 401 token_disabled -" "1 401 token_disabled -")" \
	"disabled token: 401 token_disabled, even over the worker's own status"
is "$(usage_rows "$T2" "http_status = 401")" 2 "disabled token: usage rows written (401)"
is "$(pg_sql "SELECT invocations || ',' || (last_invoked_at IS NULL)
	FROM hookgate.token_counts WHERE token_id = $T2")" "0,true" \
	"disabled token: invocations and last_invoked_at untouched"
is "$(pg_sql "SELECT count(*) FROM hookgate.messages WHERE token_id = $T2")" 0 \
	"disabled token: no message"
pg_sql "UPDATE hookgate.webhook_tokens SET status = 'active' WHERE id = $T2"
batch "$(call 0 "$T2" 0 channel general)"
is "$GOT" "0 204 - m" "enabled again: 204"
is "$(counted "$T2")" 1 "enabled again: counted"

pg_sql "UPDATE hookgate.webhook_tokens SET deleted_at = now(), token_hash = NULL,
	secret_enc = NULL WHERE id = $T3"
batch "$(call 0 "$T3" 0 channel general)" "$(call 1 "$T3" 413 channel general)"
is "$GOT" "$(lines "0 401 token_invalid -" "1 401 token_invalid -")" \
	"deleted token: 401 token_invalid"
is "$(usage_rows "$T3"),$(counted "$T3")" "0,0" "deleted token: no usage row, not counted"

# A batch mixing tokens answers each by its own token.
batch "$(call 0 "$T3" 0 channel general)" "$(call 1 "$T1" 0 channel general)" \
	"$(call 2 "$T6" 0 channel general)"
is "$GOT" "$(lines "0 401 token_invalid -" "1 204 - m" "2 204 - m")" \
	"mixed batch: deleted token refused, the others accepted"

# ---- idempotency keys ---------------------------------------------------------------------------
K='"idem_key":"k1"'
batch "$(call 0 "$T4" 0 channel secret "$K")" "$(call 1 "$T4" 0 channel secret "$K")" \
	"$(call 2 "$T4" 0 channel nochan '"idem_key":"k2"')"
is "$GOT" "$(lines "0 204 - m" "1 204 - m" "2 404 not_found -")" \
	"same key twice in a batch: both 204"
first=${MSG[0]}
is "${MSG[1]}" "$first" "... the second replays the first's message id"
batch "$(call 0 "$T4" 0 channel secret "$K")" \
	"$(call 1 "$T4" 0 channel nochan '"idem_key":"k2"')" \
	"$(call 2 "$T4" 429 channel secret "$K")" \
	"$(call 3 "$T4" 0 channel secret '"idem_key":"k3"')" \
	"$(call 4 "$T5" 0 channel secret "$K")"
is "$GOT" "$(lines "0 204 - m" "1 404 not_found -" "2 429 - -" "3 204 - m" "4 204 - m")" \
	"next batch: replays, a 429 stays a 429, a new key and another token's k1 are new"
is "${MSG[0]}" "$first" "replay across batches: the first message id"
is "$(pg_sql "SELECT count(*) FROM hookgate.messages WHERE idempotency_key = 'k1'
	AND token_id = $T4")" 1 "key k1 stored one message for its token"
is "$(pg_sql "SELECT count(*) FROM hookgate.messages WHERE idempotency_key = 'k1'")" 2 \
	"keys are per token: the other token's k1 stored its own"
is "$(pg_sql "SELECT key || ':' || http_status || ':' || coalesce(message_id::text, '-')
	FROM hookgate.idempotency_keys WHERE token_id = $T4 ORDER BY key" | paste -sd' ')" \
	"k1:204:$first k2:404:- k3:204:${MSG[3]}" "idempotency rows hold the final answers"
is "$(usage_rows "$T4"),$(counted "$T4")" "7,7" "replays still write usage rows and count"

# A key older than 24 h is forgotten, even before the purge ran.
pg_sql "UPDATE hookgate.idempotency_keys SET created_at = now() - interval '25 hours'
	WHERE token_id = $T4 AND key = 'k3'"
k3=$(pg_sql "SELECT message_id FROM hookgate.idempotency_keys WHERE key = 'k3'")
batch "$(call 0 "$T4" 0 channel secret '"idem_key":"k3"')"
is "$GOT" "0 204 - m" "expired key: accepted again"
ok "expired key: a new message (${MSG[0]} after $k3)" test "${MSG[0]}" != "$k3"
is "$(pg_sql "SELECT message_id = ${MSG[0]} AND created_at > now() - interval '1 minute'
	FROM hookgate.idempotency_keys WHERE token_id = $T4 AND key = 'k3'")" t \
	"expired key: its row replaced"
pg_sql "INSERT INTO hookgate.idempotency_keys (token_id, key, created_at, http_status)
	VALUES ($T5, 'old', now() - interval '2 days', 204)"
is "$(pg_sql "SELECT hookgate.prune_idempotency_keys()")" 1 "prune removes the expired key"
is "$(pg_sql "SELECT count(*) FROM hookgate.idempotency_keys")" 4 "... and keeps the others"

# ---- a failing batch stores nothing -------------------------------------------------------------
snapshot() {
	pg_sql "SELECT (SELECT count(*) FROM hookgate.messages) || ',' ||
		(SELECT count(*) FROM hookgate.token_usage) || ',' ||
		(SELECT sum(invocations) FROM hookgate.token_counts) || ',' ||
		(SELECT count(*) FROM hookgate.idempotency_keys)"
}
before=$(snapshot)
ok "a call with an invalid module fails the batch" \
	fails "SELECT * FROM hookgate.ingest_batch('[$(call 0 "$T1" 0 channel \
	general '"idem_key":"f1"'),$(call 1 "$T1" 0 bogus general)]')"
is "$(snapshot)" "$before" "... and nothing of it is stored"
# This one fails late, in the INSERT into messages (content_type is NOT NULL).
ok "a call failing in the message INSERT fails the batch" \
	fails "SELECT * FROM hookgate.ingest_batch('[$(call 0 "$T1" 0 channel \
	general '"idem_key":"f2"'),$(call 1 "$T1" 0 channel general '"content_type":null')]')"
is "$(snapshot)" "$before" "... and nothing of it is stored either"
ok "duplicate i refused" fails \
	"SELECT * FROM hookgate.ingest_batch('[$(call 0 "$T1" 0 channel general),$(call 0 "$T1" 0 \
	channel general)]')"
is "$(pg_sql "SELECT count(*) FROM hookgate.ingest_batch('[]')")" 0 "empty batch: no rows"
# A batch that ends past its budget rolls back (the worker has answered 503 meanwhile).
ok "a batch past its budget fails" \
	fails "SELECT * FROM hookgate.ingest_batch('[$(call 0 "$T1" 0 channel general)]', 0)"
is "$(snapshot)" "$before" "... and nothing of it is stored"
is "$(pg_sql "SELECT count(*) FROM hookgate.ingest_batch('[$(call 0 "$T6" 0 channel general)]',
	5000)")" 1 "a batch within its budget commits"

# ---- the array form the workers send -----------------------------------------------------------
# arrays_sql TOKEN_IDS IDEM_KEYS [I_LIST [AT_LIST]]: one batch of channel "general" calls as
# arrays (text literals here; the workers send the same arrays in binary).
arrays_sql() {
	local n k i=${3:-} at=${4:-}
	n=$(tr ',' '\n' <<<"$1" | wc -l)
	if [[ -z $i ]]; then
		i=$(seq -s, 0 $((n - 1)))
	fi
	rep() { local v=$1 out=; for ((k = 0; k < n; k++)); do out+=${out:+,}$v; done; printf '%s' "$out"; }
	[[ -n $at ]] || at=$(rep "\"$AT\"")
	printf "SELECT i || ' ' || http_status || ' ' || coalesce(code, '-') || ' ' ||
		coalesce(message_id::text, '-') FROM hookgate.ingest_batch('{%s}'::integer[],
		'{%s}', '{%s}', '{%s}', '{%s}', '{%s}', '{%s}', '{%s}', '{%s}', '{%s}', '{%s}',
		'{%s}', '{%s}', '{%s}', '{%s}') ORDER BY i" "$i" "$1" "$(rep 0)" "$(rep 0)" \
		"$(rep channel)" "$(rep general)" "$(rep NULL)" "$(rep text/plain)" "$(rep hi)" "$2" \
		"$(rep 192.0.2.9)" "$(rep NULL)" "$(rep 2)" "$(rep 7)" "$at"
}
before=$(snapshot)
GOT=$(pg_sql "$(arrays_sql "$T1,$T4,$T6" "NULL,NULL,NULL")" | sed 's/ [0-9][0-9]*$/ m/')
is "$GOT" "$(lines '0 204 - m' '1 403 forbidden -' '2 204 - m')" \
	"a batch as arrays: each call decided as from JSON"
is "$(pg_sql "SELECT count(*) FROM hookgate.token_usage WHERE client_addr = '192.0.2.9'
	AND request_bytes = 2 AND latency_us = 7 AND at = '$AT'")" 3 "... with its usage rows"
before=$(snapshot)
# One element short in an optional field: unnest() would pad it with NULL and store the call.
ok "arrays of different lengths fail the batch" fails "$(arrays_sql "$T1,$T6" "NULL")"
is "$(snapshot)" "$before" "... and nothing of it is stored"
# Fields are read by position: arrays that do not count from 1 would pair fields of two calls.
shifted=$(arrays_sql "$T1,$T6" "NULL,NULL" | sed "s/'{192.0.2.9,192.0.2.9}'/'[0:1]={192.0.2.9,192.0.2.9}'/")
ok "an array counted from 0 fails the batch" fails "$shifted"
is "$(snapshot)" "$before" "... and nothing of it is stored"
first=$(pg_sql "$(arrays_sql "$T6" "ak1")")
is "$(pg_sql "$(arrays_sql "$T6" "ak1")")" "$first" \
	"an Idempotency-Key in the array form replays its first answer"

# ---- last_invoked_at never goes back ------------------------------------------------------------
AT_CALL='2025-12-01T00:00:00Z' batch "$(call 0 "$T6" 0 channel general)" >/dev/null
is "$(pg_sql "SELECT last_invoked_at = '$AT'::timestamptz FROM hookgate.token_counts
	WHERE token_id = $T6")" t "an older call leaves last_invoked_at at the latest"

# ---- disable racing a batch on the token's row lock ---------------------------------------------
# session SQL: a psql reading from a FIFO, so a transaction stays open between commands.
session_open() {
	mkfifo "$HG_TMP/$1.in"
	psql -X -q -At -v ON_ERROR_STOP=1 <"$HG_TMP/$1.in" >"$HG_TMP/$1.out" 2>&1 &
	eval "${1}_pid=$!"
	eval "exec {${1}_fd}>\"\$HG_TMP/$1.in\""
}
session_send() {
	local fd=${1}_fd
	printf '%s\n' "$2" >&"${!fd}"
}
session_close() {
	local fd=${1}_fd pid=${1}_pid
	eval "exec ${!fd}>&-"
	wait "${!pid}"
}
# waiting_on_lock PATTERN: a backend whose query matches PATTERN waits for a lock.
waiting_on_lock() {
	[[ $(pg_sql "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'
		AND query LIKE '%$1%' AND pid <> pg_backend_pid()") -ge 1 ]]
}
file_has() {
	grep -q -- "$2" "$1"
}

# 1. A disable commits while a batch waits for the row: the batch answers 401.
session_open dis
session_send dis "BEGIN; UPDATE hookgate.webhook_tokens SET status = 'disabled' WHERE id = $T5;
SELECT 'updated';"
wait_until 5000 file_has "$HG_TMP/dis.out" updated
pg_sql "$(batch_sql "$(call 0 "$T5" 0 channel secret)")" >"$HG_TMP/race1.out" 2>&1 &
race=$!
ok "batch waits on the row lock of the token being disabled" wait_until 5000 \
	waiting_on_lock ingest_batch
session_send dis "COMMIT;"
session_close dis
wait "$race"
is "$(cat "$HG_TMP/race1.out")" "0 401 token_disabled -" \
	"disable committed first: the waiting batch answers 401 token_disabled"

# 2. A batch holds the row: the disable waits for it, then takes effect for the next batch.
pg_sql "UPDATE hookgate.webhook_tokens SET status = 'active' WHERE id = $T5"
session_open ing
session_send ing "BEGIN; SELECT 'answered ' || http_status FROM hookgate.ingest_batch('[$(call 0 \
	"$T5" 0 channel secret)]');"
wait_until 5000 file_has "$HG_TMP/ing.out" answered
pg_sql "UPDATE hookgate.webhook_tokens SET status = 'disabled' WHERE id = $T5" &
upd=$!
ok "the disable waits for the batch holding the token" wait_until 5000 \
	waiting_on_lock "SET status"
is "$(cat "$HG_TMP/ing.out")" "answered 204" "the batch holding the lock was accepted"
session_send ing "COMMIT;"
session_close ing
ok "the disable completes once the batch committed" wait "$upd"
batch "$(call 0 "$T5" 0 channel secret)"
is "$GOT" "0 401 token_disabled -" \
	"after the disable committed: 401 token_disabled"

# 3. A disable or delete committing while a batch waits for the token's row turns all of the
# token's calls into 401, keyed ones included, and the batch stores nothing for them (no
# message, no key, no count; a 401 usage row after a disable, none after a delete) — whatever
# the function did before it waited. The other token of the batch is accepted.
t5_state() {
	pg_sql "SELECT (SELECT count(*) FROM hookgate.messages WHERE token_id = $T5) || ',' ||
		(SELECT count(*) FROM hookgate.idempotency_keys WHERE token_id = $T5) || ',' ||
		(SELECT count(*) FROM hookgate.token_usage WHERE token_id = $T5
		  AND http_status = 401) || ',' ||
		(SELECT count(*) FROM hookgate.token_usage WHERE token_id = $T5) || ',' ||
		(SELECT invocations FROM hookgate.token_counts WHERE token_id = $T5)"
}
# race_revoke NAME SQL: runs a batch of two T5 calls (one keyed) and a T2 call while the
# statement SQL is uncommitted, commits it once the batch waits; RACE: the batch's answers.
race_revoke() {
	session_open "$1"
	session_send "$1" "BEGIN; $2; SELECT 'updated';"
	wait_until 5000 file_has "$HG_TMP/$1.out" updated
	pg_sql "$(batch_sql "$(call 0 "$T5" 0 channel secret '"idem_key":"rk"')" \
		"$(call 1 "$T5" 0 channel secret)" "$(call 2 "$T2" 0 channel general)")" \
		>"$HG_TMP/$1.batch" 2>&1 &
	race=$!
	wait_until 5000 waiting_on_lock ingest_batch
	waited=$?
	session_send "$1" "COMMIT;"
	session_close "$1"
	wait "$race"
	RACE=$(sed 's/ [0-9][0-9]*$/ m/' "$HG_TMP/$1.batch")
	return "$waited"
}
pg_sql "UPDATE hookgate.webhook_tokens SET status = 'active' WHERE id = $T5"
IFS=, read -r m5 k5 u401 u5 c5 <<<"$(t5_state)"
c2=$(counted "$T2")
ok "a batch of two tokens waits for the row of one being disabled" \
	race_revoke rv1 "UPDATE hookgate.webhook_tokens SET status = 'disabled' WHERE id = $T5"
is "$RACE" "$(lines '0 401 token_disabled -' '1 401 token_disabled -' '2 204 - m')" \
	"... its calls of that token answer 401 token_disabled, the other token's 204"
is "$(t5_state)" "$m5,$k5,$((u401 + 2)),$((u5 + 2)),$c5" \
	"... no message, no key, no count for them, two 401 usage rows"
is "$(counted "$T2")" "$((c2 + 1))" "... the other token's call counted"
pg_sql "UPDATE hookgate.webhook_tokens SET status = 'active' WHERE id = $T5"
IFS=, read -r m5 k5 u401 u5 c5 <<<"$(t5_state)"
ok "a batch of two tokens waits for the row of one being deleted" \
	race_revoke rv2 "UPDATE hookgate.webhook_tokens SET deleted_at = now(), token_hash = NULL,
	secret_enc = NULL WHERE id = $T5"
is "$RACE" "$(lines '0 401 token_invalid -' '1 401 token_invalid -' '2 204 - m')" \
	"... its calls of that token answer 401 token_invalid"
is "$(t5_state)" "$m5,$k5,$u401,$u5,$c5" "... and leave nothing at all, not even usage rows"

# ---- one idempotency key used by two batches at once -----------------------------------------
# Whatever serializes them (the token's row, the key's unique index), the second batch must wait
# for the first's outcome: replay its answer if it committed, store its own if it rolled back.
# idem_race NAME KEY END: a batch with KEY stays uncommitted, a second one with the same key
# runs meanwhile, then the first ends with END (COMMIT or ROLLBACK). FIRST, SECOND: the message
# ids they answered with.
idem_race() {
	session_open "$1"
	session_send "$1" "BEGIN; SELECT 'answered ' || http_status || ' ' || message_id FROM
		hookgate.ingest_batch('[$(call 0 "$T6" 0 channel general "\"idem_key\":\"$2\"")]');"
	wait_until 5000 file_has "$HG_TMP/$1.out" answered
	pg_sql "$(batch_sql "$(call 0 "$T6" 0 channel general "\"idem_key\":\"$2\"")")" \
		>"$HG_TMP/$1.second" 2>&1 &
	second=$!
	wait_until 5000 waiting_on_lock ingest_batch
	waited=$?
	session_send "$1" "$3;"
	session_close "$1"
	wait "$second"
	FIRST=$(sed -n 's/^answered 204 //p' "$HG_TMP/$1.out")
	SECOND=$(sed -n 's/^0 204 - //p' "$HG_TMP/$1.second")
	return "$waited"
}
key_messages() {
	pg_sql "SELECT string_agg(id::text, ' ') FROM hookgate.messages
		WHERE token_id = $T6 AND idempotency_key = '$1'"
}
ok "a second batch using a key in flight waits for the first" idem_race ik1 same COMMIT
same_answer() {
	[[ -n $FIRST && $SECOND == "$FIRST" ]]
}
own_answer() {
	[[ -n $FIRST && -n $SECOND && $SECOND != "$FIRST" ]]
}
ok "... then replays the first's answer" same_answer
is "$(key_messages same)" "$FIRST" "... one message stored for the key"
ok "a second batch using a key in flight waits, the first rolls back" \
	idem_race ik2 same2 ROLLBACK
ok "... then the second stores its own message" own_answer
is "$(key_messages same2)" "$SECOND" "... the only message of the key"

# ---- counters equal usage rows ------------------------------------------------------------------
is "$(counts_off token_counts)" 0 \
	"every token: invocations = usage rows of active-time calls, last_invoked_at = their max"
is "$(pg_sql "SELECT count(*) FROM hookgate.token_usage u WHERE u.http_status = 204 AND
	NOT EXISTS (SELECT 1 FROM hookgate.messages m WHERE m.id = u.message_id)")" 0 \
	"every 204 usage row points at a stored message"

# ---- the fold: pending counts into webhook_tokens -----------------------------------------------
# No hookgated runs here: nothing folds but these statements.
pending() {
	pg_sql "SELECT coalesce(sum(calls), 0) FROM hookgate.token_counts_pending"
}
fold() {
	pg_sql "SELECT coalesce(hookgate.fold_token_counts()::text, 'locked')"
}
n=$(pending)
ok "batches left their counts pending ($n calls)" test "$n" -gt 0
is "$(fold)" "$n" "a fold moves every pending call"
is "$(pending)" 0 "... and leaves nothing pending"
is "$(counts_off webhook_tokens)" 0 "... webhook_tokens then equals the usage rows"
is "$(fold)" 0 "a fold with nothing pending folds nothing"

session_open adv
session_send adv "BEGIN; SELECT pg_advisory_xact_lock(1751869300, 1); SELECT 'locked';"
wait_until 5000 file_has "$HG_TMP/adv.out" locked
batch "$(call 0 "$T6" 0 channel general)"
is "$(fold)" locked "a fold while another holds the fold's lock does nothing"
is "$(pending)" 1 "... and leaves the pending call"
session_send adv "COMMIT;"
session_close adv

# A fold waits for a batch holding its token's row (FOR SHARE), and folds what was committed
# before it began; no deadlock, nothing lost.
session_open bat
session_send bat "BEGIN; SELECT 'answered ' || http_status FROM hookgate.ingest_batch('[$(call 0 \
	"$T6" 0 channel general)]');"
wait_until 5000 file_has "$HG_TMP/bat.out" answered
fold >"$HG_TMP/fold.out" 2>&1 &
folding=$!
ok "a fold waits for a batch holding its token's row" wait_until 5000 \
	waiting_on_lock fold_token_counts
session_send bat "COMMIT;"
session_close bat
wait "$folding"
is "$(cat "$HG_TMP/fold.out")" 1 "... then folds the call committed before it began"
is "$(pending),$(counts_off token_counts)" "1,0" "... the batch's call stays pending, counted once"

# A disable holding the token's row: the fold waits for it, then keeps both.
session_open dis2
session_send dis2 "BEGIN; UPDATE hookgate.webhook_tokens SET status = 'disabled' WHERE id = $T6;
	SELECT 'updated';"
wait_until 5000 file_has "$HG_TMP/dis2.out" updated
fold >"$HG_TMP/fold.out" 2>&1 &
folding=$!
ok "a fold waits for a disable holding the token's row" wait_until 5000 \
	waiting_on_lock fold_token_counts
session_send dis2 "COMMIT;"
session_close dis2
wait "$folding"
is "$(cat "$HG_TMP/fold.out"),$(pg_sql "SELECT status FROM hookgate.webhook_tokens WHERE id = $T6")" \
	"1,disabled" "... then folds, and the disable stays"
is "$(counts_off webhook_tokens)" 0 "... no count lost or added"
pg_sql "UPDATE hookgate.webhook_tokens SET status = 'active' WHERE id = $T6"

# A fold holding the token's row: the disable waits for it (a short wait: one fold).
batch "$(call 0 "$T6" 0 channel general)"
session_open fo
session_send fo "BEGIN; SELECT 'folded ' || hookgate.fold_token_counts();"
wait_until 5000 file_has "$HG_TMP/fo.out" folded
pg_sql "UPDATE hookgate.webhook_tokens SET status = 'disabled' WHERE id = $T6" &
upd=$!
ok "a disable waits for a fold holding the token's row" wait_until 5000 \
	waiting_on_lock "SET status"
session_send fo "COMMIT;"
session_close fo
ok "... and completes once the fold committed" wait "$upd"
is "$(counts_off webhook_tokens),$(pending)" "0,0" "... with every count folded once"
pg_sql "UPDATE hookgate.webhook_tokens SET status = 'active' WHERE id = $T6"

# A fold killed before its commit (PostgreSQL restarts all its backends) leaves the pending
# rows where they were: the next fold moves them, once.
batch "$(call 0 "$T6" 0 channel general)" "$(call 1 "$T1" 0 channel general)"
before=$(pending)
session_open hold
session_send hold "BEGIN; SELECT 'answered ' || http_status FROM hookgate.ingest_batch('[$(call 0 \
	"$T6" 0 channel general)]');"
wait_until 5000 file_has "$HG_TMP/hold.out" answered
fold >/dev/null 2>&1 &
folding=$!
wait_until 5000 waiting_on_lock fold_token_counts
fold_pid=$(pg_sql "SELECT pid FROM pg_stat_activity WHERE query LIKE '%fold_token_counts%'
	AND pid <> pg_backend_pid()")
ok "a fold that deleted the pending rows is killed before it commits" kill -KILL "$fold_pid"
wait "$folding"
session_close hold 2>/dev/null
pg_up() {
	pg_sql "SELECT 1" >/dev/null 2>&1
}
ok "PostgreSQL is back after its restart" wait_until 20000 pg_up
is "$(pending),$(counts_off token_counts)" "$before,0" \
	"... the pending rows are all there, counted once"
is "$(fold),$(counts_off webhook_tokens)" "$before,0" "... and the next fold moves them, once"

# ---- NOTIFY hookgate_tokens ---------------------------------------------------------------------
# listen SQL...: LISTEN, run the statements, print the payloads received.
listen() {
	local args=(-c "LISTEN hookgate_tokens") s pat='with payload "\([^"]*\)".*'
	for s in "$@"; do
		args+=(-c "$s")
	done
	psql -X -q -At "${args[@]}" -c "SELECT 1" 2>&1 |
		sed -n "s/^Asynchronous notification \"hookgate_tokens\" $pat/\\1/p" | paste -sd' ' -
}
h1=$(pg_sql "SELECT encode(token_hash, 'hex') FROM hookgate.webhook_tokens WHERE id = $T1")
is "$(listen "UPDATE hookgate.webhook_tokens SET status = 'disabled' WHERE id = $T1")" \
	"$T1:$h1" "disable: NOTIFY id:hash"
is "$(listen "UPDATE hookgate.webhook_tokens SET name = 'renamed' WHERE id = $T1" \
	"SELECT count(*) FROM hookgate.ingest_batch('[$(call 0 "$T6" 0 channel general)]')" \
	"SELECT hookgate.fold_token_counts()")" "" "rename, batches and folds: no NOTIFY"
is "$(listen "UPDATE hookgate.webhook_tokens SET deleted_at = now(), token_hash = NULL,
	secret_enc = NULL WHERE id = $T1")" "$T1:$h1" "delete: NOTIFY with the old hash"
new=$(listen "INSERT INTO hookgate.webhook_tokens (public_id, user_id, name, token_hash, secret_enc)
	SELECT 'tk_new0000000000000', user_id, 'n', sha256('new'), '\x00'
	FROM hookgate.webhook_tokens WHERE id = $T6")
like "$new" "^[0-9]+:$(pg_sql "SELECT encode(sha256('new'), 'hex')")\$" \
	"insert: NOTIFY with the new hash (drops negative cache entries)"
