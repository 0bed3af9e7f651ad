#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The SQL side of the admin API (sql/003_admin.sql) against a throwaway cluster migrated by
# hookgatectl: lockout and "user unlock", the TOTP no-replay rule (also under races), enrollment,
# single-use recovery codes (also under races), sessions and their expiry, and the usage
# history's keyset pagination (exact pages, and an index scan without any Seq Scan).
. "$HG_SRCDIR/tests/integration/lib.sh"
hg_setup
plan 71

# q SQL: one value (psql -At); errors go to stdout too, so that a test sees them.
q() {
	psql -X -q -At -v ON_ERROR_STOP=1 -c "$1" 2>&1
}

# A stand-in for a 32-byte hash: sha256 of a label.
h() {
	printf "sha256('%s'::bytea)" "$1"
}

user_id() {
	q "SELECT id FROM hookgate.users WHERE login = '$1'"
}

# race_hold SQL: runs SQL in a transaction in the background and keeps the transaction open
# (and its row locks held) for 1.5 s after SQL; waits until SQL has run. Its result goes to
# $HG_TMP/race.out.
race_hold() {
	PGAPPNAME=race_hold psql -X -q -At -v ON_ERROR_STOP=1 >"$HG_TMP/race.out" 2>&1 <<-EOF &
		BEGIN;
		$1;
		SELECT pg_sleep(1.5);
		COMMIT;
	EOF
	RACE_PID=$!
	wait_until 5000 race_holding
}

race_holding() {
	[[ $(q "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'race_hold'
		AND query LIKE '%pg_sleep%'") == 1 ]]
}

# race_wait: the background transaction's result (first line).
race_wait() {
	wait "$RACE_PID"
	head -n 1 "$HG_TMP/race.out"
}

pg_start
hg_config
ok "hookgatectl migrate applies 003_admin.sql" hg_migrate
last=$(cd "$HG_SRCDIR/sql" && ls [0-9][0-9][0-9]_*.sql | tail -n 1)
is "$(q "SELECT max(version) FROM hookgate.schema_migrations")" "$((10#${last%%_*}))" \
	"the schema is at the version of the last migration ($last)"
for login in alice bob; do
	hgctl user add "$login" <<<"correct horse battery $login" >/dev/null ||
		bail_out "user add $login failed"
done
ALICE=$(user_id alice)
BOB=$(user_id bob)

# ---- lockout ------------------------------------------------------------------------------------
fail() {
	q "SELECT hookgate.login_failure($1, 3, interval '1 hour') IS NOT NULL"
}
is "$(fail "$ALICE")" f "failure 1 of 3 does not lock"
is "$(fail "$ALICE")" f "failure 2 of 3 does not lock"
is "$(fail "$ALICE")" t "failure 3 of 3 locks"
is "$(q "SELECT failed_logins || ' ' || (locked_until BETWEEN now() + interval '59 min'
	AND now() + interval '61 min') FROM hookgate.users WHERE id = $ALICE")" "3 true" \
	"the lock lasts login_lockout and the count is 3"
LOCK1=$(q "SELECT locked_until FROM hookgate.users WHERE id = $ALICE")
is "$(q "SELECT hookgate.login_failure($ALICE, 3, interval '1 hour') = '$LOCK1'")" t \
	"a failure while locked returns the running lock"
is "$(q "SELECT failed_logins || ' ' || (locked_until = '$LOCK1') FROM hookgate.users
	WHERE id = $ALICE")" "3 true" "a failure while locked neither counts nor extends the lock"
is "$(fail "$BOB")" f "another user's count is separate"
ok "hookgatectl user unlock" hgctl user unlock alice
is "$(q "SELECT failed_logins || ' ' || (locked_until IS NULL) FROM hookgate.users
	WHERE id = $ALICE")" "0 true" "unlock clears the count and the lock"
is "$(fail "$ALICE")" f "after unlock, the next failure starts a new count"
q "UPDATE hookgate.users SET failed_logins = 3, locked_until = now() - interval '1 second'
	WHERE id = $ALICE" >/dev/null
is "$(fail "$ALICE")$(q "SELECT failed_logins FROM hookgate.users WHERE id = $ALICE")" f1 \
	"a lock that ran out starts a fresh count"
is "$(q "SELECT hookgate.login_failure(-1, 3, interval '1 hour') IS NULL")" t \
	"an unknown user id changes nothing"
# Racing failures are all counted: 12 at once with max 100 leave exactly 12 (after the 1 above).
for _ in $(seq 12); do
	q "SELECT hookgate.login_failure($ALICE, 100, interval '1 hour')" >/dev/null &
done
wait
is "$(q "SELECT failed_logins FROM hookgate.users WHERE id = $ALICE")" 13 \
	"12 concurrent failures are all counted"
hgctl user unlock alice >/dev/null

# ---- enrollment ---------------------------------------------------------------------------------
ARR="ARRAY[$(for i in $(seq 10); do printf '%s,' "$(h "rc$i")"; done | sed 's/,$//')]"
is "$(q "SELECT hookgate.totp_accept_step($ALICE, 5)")" not_enrolled \
	"no step is accepted before enrollment"
is "$(q "SELECT hookgate.enroll_begin($ALICE, '\\x0a01'::bytea)")" t "enroll_begin stores a secret"
is "$(q "SELECT hookgate.enroll_begin($ALICE, '\\x0a02'::bytea)")" t "enrollment can restart"
is "$(q "SELECT hookgate.enroll_confirm($ALICE, '\\x0a01'::bytea, 100, $ARR)")" f \
	"enroll_confirm refuses a code verified against a replaced secret"
like "$(q "SELECT hookgate.enroll_confirm($ALICE, '\\x0a02'::bytea, 100, ARRAY[]::bytea[])")" \
	"enroll_confirm needs" "enroll_confirm refuses an empty recovery-code array"
like "$(q "SELECT hookgate.enroll_confirm($ALICE, '\\x0a02'::bytea, 100,
	ARRAY[$(h x), NULL])")" "enroll_confirm needs" "enroll_confirm refuses a NULL hash"
q "UPDATE hookgate.users SET locked_until = now() + interval '1 hour' WHERE id = $ALICE" >/dev/null
is "$(q "SELECT hookgate.enroll_confirm($ALICE, '\\x0a02'::bytea, 100, $ARR)")" f \
	"enroll_confirm refuses a locked account"
q "UPDATE hookgate.users SET locked_until = NULL, failed_logins = 2 WHERE id = $ALICE" >/dev/null
is "$(q "SELECT hookgate.enroll_confirm($ALICE, '\\x0a02'::bytea, 100, $ARR)")" t \
	"enroll_confirm enables the factor"
is "$(q "SELECT totp_enabled || ' ' || totp_last_step || ' ' || failed_logins
	|| ' ' || (SELECT count(*) FROM hookgate.recovery_codes WHERE user_id = $ALICE
	AND used_at IS NULL) FROM hookgate.users WHERE id = $ALICE")" "true 100 0 10" \
	"enabled, the code's step recorded, the count reset, ten recovery codes stored"
is "$(q "SELECT hookgate.enroll_confirm($ALICE, '\\x0a02'::bytea, 101, $ARR)")" f \
	"enroll_confirm refuses an enrolled user"
is "$(q "SELECT hookgate.enroll_begin($ALICE, '\\x0a03'::bytea)")" f \
	"enroll_begin refuses an enrolled user (the secret stays)"

# ---- the no-replay rule -------------------------------------------------------------------------
is "$(q "SELECT hookgate.totp_accept_step($ALICE, 100)")" reused \
	"the enrollment code's step cannot log in"
is "$(q "SELECT hookgate.totp_accept_step($ALICE, 99)")" reused "an older step is refused"
q "UPDATE hookgate.users SET failed_logins = 2 WHERE id = $ALICE" >/dev/null
is "$(q "SELECT hookgate.totp_accept_step($ALICE, 101)")" ok "a later step is accepted"
is "$(q "SELECT totp_last_step || ' ' || failed_logins FROM hookgate.users
	WHERE id = $ALICE")" "101 0" "the step is recorded and the failure count reset"
is "$(q "SELECT hookgate.totp_accept_step($ALICE, 101)")" reused "the same step is refused"
is "$(q "SELECT hookgate.totp_accept_step(-1, 500)")" unknown_user "an unknown user"
q "UPDATE hookgate.users SET locked_until = now() + interval '1 hour' WHERE id = $ALICE" >/dev/null
is "$(q "SELECT hookgate.totp_accept_step($ALICE, 102)")" locked "a locked account accepts no code"
is "$(q "SELECT totp_last_step FROM hookgate.users WHERE id = $ALICE")" 101 \
	"and records nothing"
hgctl user unlock alice >/dev/null

# Two sessions with the same code: the second waits for the first's row lock, then re-checks.
race_hold "SELECT hookgate.totp_accept_step($ALICE, 200)"
SECOND=$(q "SELECT hookgate.totp_accept_step($ALICE, 200)")
is "$(race_wait) $SECOND" "ok reused" "of two sessions accepting one step, exactly one wins"
# Sixteen racing autocommit calls with one step: exactly one ok.
for i in $(seq 16); do
	q "SELECT hookgate.totp_accept_step($ALICE, 300)" >"$HG_TMP/step.$i" &
done
wait
is "$(cat "$HG_TMP"/step.* | sort | uniq -c | tr -s ' ' | sed 's/^ //' | tr '\n' ',')" \
	"1 ok,15 reused," "16 concurrent acceptances of one step: exactly one ok"
is "$(q "SELECT totp_last_step FROM hookgate.users WHERE id = $ALICE")" 300 "step 300 recorded"

# ---- recovery codes -----------------------------------------------------------------------------
q "UPDATE hookgate.users SET failed_logins = 2 WHERE id = $ALICE" >/dev/null
is "$(q "SELECT hookgate.recovery_use($ALICE, $(h rc1))")" ok "a recovery code is accepted"
is "$(q "SELECT (used_at IS NOT NULL) || ' ' || (SELECT failed_logins FROM hookgate.users
	WHERE id = $ALICE) FROM hookgate.recovery_codes WHERE user_id = $ALICE
	AND code_hash = $(h rc1)")" "true 0" "it is marked used and the failure count reset"
is "$(q "SELECT hookgate.recovery_use($ALICE, $(h rc1))")" reused "a recovery code works once"
is "$(q "SELECT hookgate.recovery_use($ALICE, $(h nope))")" invalid "an unknown code"
is "$(q "SELECT hookgate.recovery_use($BOB, $(h rc2))")" invalid \
	"another user's code is unknown to this user"
q "UPDATE hookgate.users SET locked_until = now() + interval '1 hour' WHERE id = $ALICE" >/dev/null
is "$(q "SELECT hookgate.recovery_use($ALICE, $(h rc2))")" locked "a locked account"
is "$(q "SELECT count(*) FROM hookgate.recovery_codes WHERE user_id = $ALICE
	AND used_at IS NULL")" 9 "a locked account spends no code"
hgctl user unlock alice >/dev/null
race_hold "SELECT hookgate.recovery_use($ALICE, $(h rc3))"
SECOND=$(q "SELECT hookgate.recovery_use($ALICE, $(h rc3))")
is "$(race_wait) $SECOND" "ok reused" "of two sessions spending one code, exactly one wins"

# ---- sessions -----------------------------------------------------------------------------------
session_get() {
	q "SELECT user_id || ' ' || stage || ' ' || coalesce(encode(csrf_hash, 'hex'), '-')
		|| ' ' || expired FROM hookgate.session_get($(h "$1"))"
}
CSRF_HEX=$(q "SELECT encode($(h csrf1), 'hex')")
like "$(q "SELECT hookgate.session_create($(h pre1), $ALICE, 'password', NULL,
	interval '5 minutes', '192.0.2.7') - now()")" '^00:0(4:59|5:00)' \
	"session_create returns expires_at"
is "$(session_get pre1)" "$ALICE password - false" "a live pre-2FA session"
like "$(q "SELECT hookgate.session_promote($(h pre1), $(h full1), $(h csrf1),
	interval '15 minutes') - now()")" '^00:1(4:59|5:00)' "session_promote returns the new expiry"
is "$(session_get pre1)" "" "the pre-2FA id is gone after promotion"
is "$(session_get full1)" "$ALICE full $CSRF_HEX false" "the full session has the CSRF hash"
is "$(q "SELECT host(client_addr) FROM hookgate.admin_sessions WHERE id_hash = $(h full1)")" \
	192.0.2.7 "the client address carries over"
is "$(q "SELECT hookgate.session_promote($(h pre1), $(h full2), $(h csrf2),
	interval '15 minutes') IS NULL")" t "a pre-2FA session is promoted only once"
is "$(q "SELECT hookgate.session_promote($(h full1), $(h full3), $(h csrf3),
	interval '15 minutes') IS NULL")" t "a full session cannot be promoted"
like "$(q "SELECT hookgate.session_create($(h bad), $ALICE, 'admin', NULL,
	interval '5 minutes', NULL)")" "admin_sessions_stage_check" "an unknown stage is refused"
q "SELECT hookgate.session_create($(h short), $BOB, 'full', $(h csrfs), interval '1 second',
	NULL)" >/dev/null
q "SELECT hookgate.session_create($(h prex), $BOB, 'password', NULL, interval '1 second',
	NULL)" >/dev/null
sleep 1.2
is "$(session_get short)" "$BOB full - true" "an expired session is reported expired once"
is "$(session_get short)" "" "and is gone afterwards"
is "$(q "SELECT hookgate.session_promote($(h prex), $(h full4), $(h csrf4),
	interval '15 minutes') IS NULL")" t "an expired pre-2FA session cannot be promoted"
for i in 1 2 3; do
	q "SELECT hookgate.session_create($(h "old$i"), $BOB, 'full', NULL, interval '-1 second',
		NULL)" >/dev/null
done
is "$(q "SELECT hookgate.prune_sessions()")" 4 "prune_sessions deletes every expired session"
is "$(q "SELECT count(*) FROM hookgate.admin_sessions")" 1 "and only those"
is "$(q "SELECT hookgate.session_delete($(h full1))")" t "logout deletes the session"
is "$(q "SELECT hookgate.session_delete($(h full1))") $(session_get full1)" "f " \
	"a deleted session is gone"

# ---- usage history: keyset pagination -----------------------------------------------------------
# 20k rows over 200 tokens and four months; token 7 also gets 120 rows sharing one instant
# (one batch commit), which only seq can order.
q "INSERT INTO hookgate.token_usage (token_id, user_id, at, module, http_status)
	SELECT i % 200, $ALICE, now() - (i % 9000) * interval '17 minutes', 'channel', 200
	FROM generate_series(1, 20000) AS i" >/dev/null
q "INSERT INTO hookgate.token_usage (token_id, user_id, at, http_status)
	SELECT 7, $ALICE, now() - interval '2 days', 201 FROM generate_series(1, 120)" >/dev/null
q "ANALYZE hookgate.token_usage" >/dev/null
is "$(q "SELECT count(*) >= 10000 FROM hookgate.token_usage")" t "the usage table has 10k+ rows"

PLAN=$(q "EXPLAIN SELECT * FROM hookgate.usage_page(7, now() - interval '1 day', 5000, 51)")
if like "$PLAN" "Index Scan using token_usage_[a-z0-9_]*_token_id_at_seq_idx" \
	"a usage page is an index scan of the page index" && [[ $PLAN != *"Seq Scan"* &&
	$PLAN != *"Sort  "* ]]; then
	hg_result 1 "and neither scans a table nor sorts"
else
	hg_result 0 "and neither scans a table nor sorts"
	diag "$PLAN"
fi
GENERIC=$(psql -X -q -At -v ON_ERROR_STOP=1 2>&1 <<-EOF
	SET plan_cache_mode = force_generic_plan;
	PREPARE page(bigint, timestamptz, bigint, integer) AS
		SELECT * FROM hookgate.usage_page(\$1, \$2, \$3, \$4);
	EXPLAIN EXECUTE page(7, NULL, NULL, 51);
EOF
)
if [[ $GENERIC == *"Index Scan"* && $GENERIC != *"Seq Scan"* ]]; then
	hg_result 1 "the generic plan of a prepared page query is an index scan too"
else
	hg_result 0 "the generic plan of a prepared page query is an index scan too"
	diag "$GENERIC"
fi

# Walk token 7 in pages of 50 (asking for 51 like the API would) and compare with one query.
WANT=$(q "SELECT string_agg(seq::text, ',' ORDER BY at DESC, seq DESC)
	FROM hookgate.token_usage WHERE token_id = 7")
GOT= BEFORE_AT=NULL BEFORE_SEQ=NULL PAGES=0
while ((PAGES < 100)); do
	PAGE=$(q "SELECT seq || ' ' || cursor FROM hookgate.usage_page(7, $BEFORE_AT, $BEFORE_SEQ,
		51)")
	mapfile -t ROWS <<<"$PAGE"
	[[ -z $PAGE ]] && ROWS=()
	SHOWN=("${ROWS[@]:0:50}")
	for row in "${SHOWN[@]}"; do
		GOT+="${row%% *},"
	done
	PAGES=$((PAGES + 1))
	((${#ROWS[@]} <= 50)) && break
	CURSOR=${SHOWN[49]#* }
	BEFORE_AT="'${CURSOR%|*}'"
	BEFORE_SEQ=${CURSOR##*|}
done
is "${GOT%,}" "$WANT" "paging through the cursors returns every row once, newest first"
is "$PAGES" "$(q "SELECT ceil(count(*) / 50.0)::int FROM hookgate.token_usage
	WHERE token_id = 7")" "in the expected number of pages"
like "$CURSOR" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z\|[0-9]+$' \
	"the cursor text is '<UTC time with microseconds>|<seq>'"
is "$(q "SELECT count(*) FROM hookgate.usage_page(7, NULL, NULL, 1000)")" 200 \
	"a page holds at most 200 rows"
is "$(q "SELECT count(*) FROM hookgate.usage_page(7, NULL, NULL, 0)")" 1 \
	"a page holds at least one row"
is "$(q "SELECT count(*) FROM hookgate.usage_page(424242, NULL, NULL, 50)")" 0 \
	"an unknown token has no usage"
