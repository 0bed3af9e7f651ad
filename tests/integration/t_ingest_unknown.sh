#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# shellcheck disable=SC2119
# Honest 503s. A batch that PostgreSQL has but does not answer by the 0.9 s deadline has an
# unknown outcome: its callers get a 503 that says so, the worker keeps ingesting on the pool's
# other connection, and when the batch commits after all the log names its message ids and
# their usage rows are made to record the 503; a retry with the same Idempotency-Key replays the
# stored answer. A late batch that rolls back, or whose connection dies, is logged as such, and
# one still waiting at shutdown too. Where nothing can have been stored (PostgreSQL down, or
# the batch never left the pool's queue), the 503 says "nothing was stored", and it is so.
#
# Deterministic: commits are held by a synchronous standby that does not exist
# (synchronous_standby_names = 'nobody'). A held commit has written its record, after every
# check of ingest_batch() (its deadline budget included), and waits, invisible and holding its
# locks, until the setting is reset: the batch is inside PostgreSQL, past anything that could
# roll it back, for as long as the test wants. A row lock held by the test makes a batch wait
# inside ingest_batch() instead, past its budget, which then rolls it back.
. "$HG_SRCDIR/tests/integration/lib.sh"
. "$HG_SRCDIR/tests/integration/webhook_lib.sh"
hg_setup
plan 44

pg_start
# One worker, so that every call meets the same pool (database.pool_size 2: two connections).
hg_config '[server]' 'workers = 1'
hg_migrate >/dev/null || bail_out "migrate failed"
webhook_fixtures || bail_out "fixtures failed"
read -r PUB_A3 TOK_A3 < <(new_token alice a3) || bail_out "token a3 failed"
hg_start || bail_out "hookgated does not start"
LOG=$HG_TMP/hookgated.log
R=$RANDOM$RANDOM # marks this run's message texts

UNKNOWN='may or may not have been stored'
NOTHING='nothing was stored'

# call TOKEN TEXT [curl args...]: posts {"text":TEXT} to #general (HTTP_* as post sets them).
call() {
	local tok=$1 text=$2
	shift 2
	post "$(channel_path general "$tok")" "{\"text\":\"$text\"}" "$@"
}
stored() { pg_sql "SELECT count(*) FROM hookgate.messages WHERE strpos(body, '$1') > 0"; }
message_of() { pg_sql "SELECT id FROM hookgate.messages WHERE strpos(body, '$1') > 0"; }
usage_status() { pg_sql "SELECT string_agg(http_status::text, ',') FROM hookgate.token_usage WHERE message_id = $1"; }
usage_is() { [[ $(usage_status "$1") == "$2" ]]; }
# waiting N APP: at least N backends of application_name APP wait for the standby (hookgated
# sets none: '').
waiting() {
	[[ $(pg_sql "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'SyncRep' AND application_name = '$2'") -ge $1 ]]
}
none_waiting() { [[ $(pg_sql "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'SyncRep'") == 0 ]]; }
logged() { grep -qE "$1" "$LOG"; }

# Commits wait from now on (those of transactions that wrote something). The reload reaches
# the commit path asynchronously (the checkpointer publishes it): a probe transaction waiting
# for the standby proves it has; one that committed before is followed by another.
# Nothing pending first: a fold of the token counters (every 0.5 s) with rows to move would
# write, and so wait for the standby too, holding one of the worker's two connections.
nothing_pending() { [[ $(pg_sql "SELECT count(*) FROM hookgate.token_counts_pending") == 0 ]]; }
hold_commits() {
	local start
	wait_until 5000 nothing_pending || return 1
	pg_sql "ALTER SYSTEM SET synchronous_standby_names = 'nobody'" &&
		pg_sql "SELECT pg_reload_conf()" >/dev/null || return 1
	start=$(hg_now_ms)
	while (($(hg_now_ms) - start < 5000)); do
		PGAPPNAME=t_probe psql -X -q -At -c "INSERT INTO t_probe VALUES (1)" >/dev/null 2>&1 &
		PROBES+=("$!")
		wait_until 300 waiting 1 t_probe && return 0
	done
	return 1
}
release_commits() {
	pg_sql "ALTER SYSTEM RESET synchronous_standby_names" &&
		pg_sql "SELECT pg_reload_conf()" >/dev/null || return 1
	wait "${PROBES[@]}"
	PROBES=()
	wait_until 5000 none_waiting
}
PROBES=()
pg_sql "CREATE TABLE t_probe (x integer)" || bail_out "cannot create the probe table"

# Every token in the worker's cache, both connections up and idle.
warm_up() {
	local t
	for t in "$TOK_A" "$TOK_A2" "$TOK_A3"; do
		call "$t" "warm-up"
		[[ $HTTP_STATUS == 204 ]] || return 1
	done
}
ok "warm-up calls accepted" warm_up

# ---- a batch committed after its callers were answered -------------------------------------
ok "commits held (a probe transaction waits for the standby)" hold_commits
call "$TOK_A" "late-$R" -H "Idempotency-Key: key-$R"
is "$HTTP_STATUS" 503 "held commit: 503"
like "$HTTP_BODY" '"code":"unavailable"' "held commit: code unavailable"
like "$HTTP_BODY" "$UNKNOWN" "held commit: the answer says the call may or may not have been stored"
like "$HTTP_HEADERS" $'\n''[Rr]etry-[Aa]fter: ' "held commit: Retry-After"
ok "held commit: answered by the deadline ($HTTP_MS ms)" test "$HTTP_MS" -lt 1500
ok "held commit: hookgated's batch waits inside PostgreSQL" waiting 1 ''

# The late batch holds one connection; the next batch takes the other.
call "$TOK_A2" "second-$R"
is "$HTTP_STATUS" 503 "second held commit: 503"
like "$HTTP_BODY" "$UNKNOWN" "second held commit: sent to PostgreSQL meanwhile (outcome unknown)"
ok "both connections now wait for their batch" waiting 2 ''
# Both connections busy: this batch expires in the pool's queue, never sent.
call "$TOK_A3" "queued-$R"
is "$HTTP_STATUS" 503 "both connections held: 503"
like "$HTTP_BODY" "$NOTHING" "both connections held: the batch never left, nothing was stored"

ok "commits released" release_commits
both_late_stored() { [[ $(stored "late-$R") == 1 && $(stored "second-$R") == 1 ]]; }
ok "the late batches committed" wait_until 5000 both_late_stored
MID1=$(message_of "late-$R")
MID2=$(message_of "second-$R")
diag "late messages: $MID1 and $MID2"
ok "late commit: the usage row records the 503 its caller got" wait_until 5000 usage_is "${MID1:-0}" 503
ok "second late commit: its usage row records 503 too" wait_until 5000 usage_is "${MID2:-0}" 503
ok "the log warns, naming the late message" \
	logged "warn .*ingest batch of 1 calls committed [0-9.]+ s after its callers were answered 503 .*message ids ${MID1:-x}[^0-9]"
ok "the log names the second late message" \
	logged "warn .*committed .*message ids ${MID2:-x}[^0-9]"
is "$(stored "queued-$R")" 0 "the call answered 'nothing was stored' was not stored"
is "$(pg_sql "SELECT count(*) FROM hookgate.token_usage u JOIN hookgate.webhook_tokens t ON t.id = u.token_id WHERE t.public_id = '$PUB_A3'")" \
	1 "nor did it get a usage row (its token's one row is the warm-up's)"

# ---- the retry that the 503 invites -------------------------------------------------------------
call "$TOK_A" "late-$R" -H "Idempotency-Key: key-$R"
is "$HTTP_STATUS" 204 "retry with the same Idempotency-Key: 204"
is "$(msg_id)" "$MID1" "retry: the stored message's id"
is "$(stored "late-$R")" 1 "retry: no second message"

# ---- a late batch that rolls back ----------------------------------------------------------------
PGAPPNAME=t_lock psql -X -q -At >/dev/null 2>&1 <<-EOF &
	BEGIN;
	SELECT 1 FROM hookgate.webhook_tokens WHERE public_id = '$PUB_A2' FOR UPDATE;
	SELECT pg_sleep(2);
	COMMIT;
EOF
LOCKER=$!
locker_sleeping() {
	[[ $(pg_sql "SELECT count(*) FROM pg_stat_activity WHERE application_name = 't_lock' AND wait_event = 'PgSleep'") == 1 ]]
}
wait_until 5000 locker_sleeping || diag "the lock holder did not start sleeping"
call "$TOK_A2" "rolledback-$R"
like "$HTTP_BODY" "$UNKNOWN" "batch waiting for a row lock at its deadline: 503, outcome unknown"
wait "$LOCKER"
ok "the log says the late batch rolled back" \
	wait_until 5000 logged "ingest batch of 1 calls answered 503 .*failed [0-9.]+ s later \(SQLSTATE 57014\) and rolled back: nothing of it was stored"
is "$(stored "rolledback-$R")" 0 "and indeed nothing of it was stored"

# ---- a late batch whose connection dies ---------------------------------------------------------
ok "commits held again" hold_commits
call "$TOK_A2" "lost-$R"
like "$HTTP_BODY" "$UNKNOWN" "held commit: 503, outcome unknown"
terminate_waiting() {
	[[ $(pg_sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE wait_event = 'SyncRep' AND application_name = ''") == t ]]
}
ok "its backend is terminated while it waits" terminate_waiting
ok "the log warns that the outcome stays unknown" \
	wait_until 5000 logged "warn .*ingest batch of 1 calls: still no answer from PostgreSQL .* stays unknown \(message ids unknown\)"
ok "commits released" release_commits
# PostgreSQL had committed it locally before the wait: what "unknown" is about.
diag "the call whose connection died was stored after all: $(stored "lost-$R") message(s)"

# ---- a late batch at shutdown ---------------------------------------------------------------------
ok "commits held again" hold_commits
call "$TOK_A2" "atstop-$R"
like "$HTTP_BODY" "$UNKNOWN" "held commit: 503, outcome unknown"
hg_stop
is "$?" 0 "SIGTERM with a late batch waiting: exit status 0"
ok "the log says the late batch's outcome stays unknown" \
	logged "warn .*stopping: ingest batch of 1 calls answered 503 at its deadline .* stays unknown \(message ids unknown\)"
ok "commits released" release_commits

# ---- PostgreSQL down: nothing can have been stored -------------------------------------------
hg_start || bail_out "hookgated does not start again"
ok "stop PostgreSQL" pg_stop
healthz_failing() { ! hg_healthz_ok; }
wait_until 5000 healthz_failing || diag "/healthz still answers 200"
call "$TOK_A" "offline-$R"
is "$HTTP_STATUS" 503 "PostgreSQL down: 503"
like "$HTTP_BODY" "$NOTHING" "PostgreSQL down: the answer says nothing was stored"
ok "start PostgreSQL again" pg_start_again
accepted() {
	call "$TOK_A" "back"
	[[ $HTTP_STATUS == 204 ]]
}
ok "accepted again" wait_until 10000 accepted
is "$(stored "offline-$R")" 0 "PostgreSQL down: indeed nothing was stored"

ok "no token and no message text in the log" \
	bash -c "! grep -qF -e '$TOK_A' -e '$TOK_A2' -e 'late-$R' -e 'second-$R' '$LOG'"
