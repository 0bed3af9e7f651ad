#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The database side of delivery (sql/004_delivery.sql, docs/schema.md "Delivery") with psql: the
# upgrade of a database made by 001-003, the feed (two racing batches: nothing skipped, nothing
# twice; positions and acks; max across windows; independent consumers; registration; prune),
# routing and the channel:* body, claim leases (two owners never share a row, an expired lease
# is claimed again, disabled destinations wait), delivery_record's queue and health transitions
# with their audit rows, park, release, replay, delivery_state, and the attempts' partitions.
. "$HG_SRCDIR/tests/integration/lib.sh"
hg_setup
plan 88

# q SQL: one value (psql -At); errors go to stdout too, so that a test sees them.
q() {
	psql -X -q -At -v ON_ERROR_STOP=1 -c "$1" 2>&1
}

# msg MODULE TARGET BODY [CONTENT_TYPE]: stores a message (its own transaction); prints its id.
msg() {
	q "INSERT INTO hookgate.messages (module, target, user_id, token_id, content_type, body)
	   VALUES ('$1', '$2', $ALICE, $TOKEN, '${4:-application/json}', '$3') RETURNING id"
}

# read_ids CONSUMER MAX: the ids feed_read hands out, space-separated.
read_ids() {
	q "SELECT id FROM hookgate.feed_read('$1', $2)" | tr '\n' ' ' | sed 's/ $//'
}

# last_pos CONSUMER MAX: the position of the last message feed_read hands out.
last_pos() {
	q "SELECT position FROM hookgate.feed_read('$1', $2)" | tail -n 1
}

# hold SQL: runs SQL in a transaction in the background and keeps it open 2 s after SQL.
hold() {
	PGAPPNAME=hold psql -X -q -At -v ON_ERROR_STOP=1 >"$HG_TMP/hold.out" 2>&1 <<-EOF &
		BEGIN;
		$1;
		SELECT pg_sleep(2);
		COMMIT;
	EOF
	HOLD_PID=$!
	wait_until 5000 holding
}

holding() {
	[[ $(q "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'hold'
		AND query LIKE '%pg_sleep%'") == 1 ]]
}

pg_start
hg_config

# ---- upgrade: a database at 003 with messages takes 004 -----------------------------------------
mkdir -p "$HG_TMP/sql3"
cp "$HG_SRCDIR"/sql/00[123]_*.sql "$HG_TMP/sql3/"
migrate3() { HG_SQL_DIR="$HG_TMP/sql3" hg_migrate; }
ok "migrate a new database to 003" migrate3
pg_sql "
INSERT INTO hookgate.users (login, display_name, password_hash) VALUES ('alice', 'Alice', 'x');
INSERT INTO hookgate.webhook_tokens (public_id, user_id, name, token_hash, secret_enc)
SELECT 'tk_000000000000000a', id, 't1', sha256('t1'), '\x00' FROM hookgate.users;
INSERT INTO hookgate.channels (name) VALUES ('general'), ('random');
INSERT INTO hookgate.channel_members (channel_id, user_id)
SELECT c.id, u.id FROM hookgate.channels c, hookgate.users u;
INSERT INTO hookgate.bots (name, owner_id)
SELECT b, (SELECT id FROM hookgate.users) FROM (VALUES ('alicebot'), ('pubbot'), ('quietbot')) v (b);
INSERT INTO hookgate.extensions (name, owner_id, sandbox_app_id, sandbox_appkey_hash,
	sandbox_appkey_enc, marketplace_app_id, marketplace_appkey_hash, marketplace_appkey_enc)
SELECT 'ext', id, 'app_Sandbox000000001', sha256('sk'), '\x00', 'app_Market0000000001',
       sha256('mk'), '\x00' FROM hookgate.users;" >/dev/null
ALICE=$(q "SELECT id FROM hookgate.users WHERE login = 'alice'")
TOKEN=$(q "SELECT id FROM hookgate.webhook_tokens WHERE name = 't1'")
OLD=$(q "INSERT INTO hookgate.messages (module, target, user_id, token_id, content_type, body)
	 VALUES ('channel', 'general', $ALICE, $TOKEN, 'text/plain', 'old') RETURNING id")
ok "hookgatectl migrate applies 004_delivery.sql on top" hg_migrate
is "$(q "SELECT count(*) FROM hookgate.schema_migrations WHERE version = 4")" 1 "004 is recorded"
is "$(q "SELECT xid IS NULL FROM hookgate.messages WHERE id = $OLD")" t \
	"a message stored before 004 has xid NULL"
is "$(q "SELECT count(*) FROM pg_inherits WHERE inhparent = 'hookgate.delivery_attempts'::regclass")" \
	5 "the migration made the attempts' default partition and four months"

# ---- the feed ------------------------------------------------------------------------------------
is "$(read_ids c1 10)" "" "a new consumer is registered at the newest tick: nothing older"
is "$(q "SELECT count(*) FROM hookgate.feed_consumers WHERE name = 'c1'")" 1 "c1 registered"
INGESTED=$(q "SELECT message_id FROM hookgate.ingest_batch('[{\"i\":0,\"token_id\":$TOKEN,
	\"user_id\":0,\"status\":0,\"module\":\"channel\",\"target\":\"general\",
	\"content_type\":\"application/json\",\"body\":\"{\\\"text\\\":\\\"hi\\\"}\",
	\"at\":\"2026-01-02T03:04:05Z\"}]'::jsonb)")
is "$(q "SELECT xid IS NOT NULL FROM hookgate.messages WHERE id = $INGESTED")" t \
	"ingest_batch stores the message with its xid (the column default)"
is "$(read_ids c1 10)" "$INGESTED" "the ingested message is in the feed"
is "$(read_ids c1 10)" "$INGESTED" "reading does not move the position"
ok "feed_ack" q "SELECT hookgate.feed_ack('c1', '$(last_pos c1 10)')"
is "$(read_ids c1 10)" "" "after the ack: nothing"

# Two racing batches: A takes the smaller id and commits last.
hold "INSERT INTO hookgate.messages (module, target, user_id, token_id, content_type, body)
	VALUES ('channel', 'general', $ALICE, $TOKEN, 'text/plain', 'A')"
B=$(msg channel general '"B"')
is "$(read_ids c1 10)" "$B" "batch A open: the read returns B only"
ok "ack B" q "SELECT hookgate.feed_ack('c1', '$(last_pos c1 10)')"
wait "$HOLD_PID"
A=$(q "SELECT max(id) FROM hookgate.messages WHERE id < $B")
is "$(q "SELECT body FROM hookgate.messages WHERE id = $A")" A "A committed after B, smaller id"
is "$(read_ids c1 10)" "$A" "the next read returns A: not skipped"
ok "ack A" q "SELECT hookgate.feed_ack('c1', '$(last_pos c1 10)')"
is "$(read_ids c1 10)" "" "and nothing twice"

# Windows and max: three messages in three windows (c2 reads between them to make the ticks).
read_ids c2 1 >/dev/null
read_ids c3 1 >/dev/null
M1=$(msg channel general '1')
read_ids c2 100 >/dev/null
M2=$(msg channel general '2')
M3=$(msg channel general '3')
read_ids c2 100 >/dev/null
M4=$(msg channel general '4')
is "$(q "SELECT count(DISTINCT split_part(position, ':', 1)) FROM hookgate.feed_read('c3', 10)")" 3 \
	"the four messages are in three windows"
is "$(read_ids c3 2)" "$M1 $M2" "max 2 spans two windows"
ok "ack the second" q "SELECT hookgate.feed_ack('c3', '$(last_pos c3 2)')"
is "$(read_ids c3 10)" "$M3 $M4" "the rest, from the middle of a window"
POS_M1=$(q "SELECT position FROM hookgate.feed_read('c2', 10) WHERE id = $M1")
ok "c2 acks its first only" q "SELECT hookgate.feed_ack('c2', '$POS_M1')"
is "$(read_ids c2 10)" "$M2 $M3 $M4" "consumers are independent"
POS_M3=$(q "SELECT position FROM hookgate.feed_read('c2', 10) WHERE id = $M3")
is "$(q "SELECT string_agg(id::text, ' ') FROM hookgate.feed_read('c2', 10, '$POS_M3')")" "$M4" \
	"after: reads on past a position handed out before, without an ack"
is "$(q "SELECT string_agg(id::text, ' ') FROM hookgate.feed_read('c2', 10, '$POS_M1')")" \
	"$M2 $M3 $M4" "after: a position before the acknowledged one changes nothing"
like "$(q "SELECT hookgate.feed_read('c2', 10, 'x')")" "malformed position" \
	"after: a malformed position raises"
ok "ack c3 to its end" q "SELECT hookgate.feed_ack('c3', '$(last_pos c3 10)')"
ok "an older position is ignored" q "SELECT hookgate.feed_ack('c3', '$POS_M1')"
is "$(read_ids c3 10)" "" "c3 stays at its end"
like "$(q "SELECT hookgate.feed_ack('c3', 'x:1')")" "malformed position" "a malformed position raises"
like "$(q "SELECT hookgate.feed_ack('nobody', '1:1')")" "unknown consumer" \
	"an unknown consumer's ack raises"
like "$(q "SELECT hookgate.feed_ack('c3', '999999:1')")" "names no tick" \
	"a position past every tick raises"
is "$(q "SELECT hookgate.feed_unsubscribe('c1')")/$(q "SELECT hookgate.feed_unsubscribe('c1')")" \
	"t/f" "feed_unsubscribe"
is "$(q "SELECT count(*) FROM hookgate.feed_consumers WHERE name = 'delivery'")" 1 \
	"the migration registers the consumer 'delivery'"
# Past what the feed tests above stored: the prune below and the takes after it see only
# their own.
q "WITH t AS (SELECT position, row_number() OVER () AS n FROM hookgate.delivery_take('w', 100000))
   SELECT hookgate.feed_ack('delivery', position) FROM t ORDER BY n DESC LIMIT 1" >/dev/null
ok "prune keeps what consumers need" q "SELECT hookgate.feed_prune()"
q "UPDATE hookgate.feed_ticks SET at = at - interval '2 minutes'" >/dev/null
PRUNED=$(q "SELECT hookgate.feed_prune()")
like "$PRUNED" '^[1-9][0-9]*$' "old ticks below every consumer's tick are pruned ($PRUNED)"
is "$(read_ids c2 10)" "$M2 $M3 $M4" "c2 still reads its messages after the prune"

# A window's order is by transaction, then id. X gets its xid first but stores its three
# messages after Y has stored and committed its three: X's ids are the larger ones, and X comes
# first. Walked one message at a time, and acknowledged in the middle, nothing is skipped.
read_ids c5 1 >/dev/null
hold "SELECT pg_current_xact_id(); SELECT pg_sleep(1);
	INSERT INTO hookgate.messages (module, target, user_id, token_id, content_type, body)
	SELECT 'channel', 'general', $ALICE, $TOKEN, 'text/plain', 'X' FROM generate_series(1, 3)"
Y=$(q "INSERT INTO hookgate.messages (module, target, user_id, token_id, content_type, body)
	SELECT 'channel', 'general', $ALICE, $TOKEN, 'text/plain', 'Y' FROM generate_series(1, 3)
	RETURNING id" | tr '\n' ' ' | sed 's/ $//')
wait "$HOLD_PID"
X=$(q "SELECT id FROM hookgate.messages WHERE body = 'X' ORDER BY id" | tr '\n' ' ' | sed 's/ $//')
walk() {
	local pos=NULL line ids=()
	for _ in 1 2 3 4 5 6 7 8; do
		line=$(q "SELECT position || ' ' || id FROM hookgate.feed_read('c5', 1, $pos)")
		[[ -n $line ]] || break
		pos="'${line%% *}'"
		ids+=("${line#* }")
	done
	echo "${ids[*]}"
}
is "$(walk)" "$X $Y" "one window, walked one by one: X (older transaction, larger ids) first, then Y"
POS_X3=$(q "SELECT position FROM hookgate.feed_read('c5', 3)" | tail -n 1)
ok "ack after X's three" q "SELECT hookgate.feed_ack('c5', '$POS_X3')"
is "$(read_ids c5 10)" "$Y" "then Y's three, though their ids are smaller than X's"

# A read from the middle of a big window (a backlog of 100 batches of 200) touches about max
# rows plus one batch, not the window.
read_ids c6 1 >/dev/null
q "DO \$\$ BEGIN FOR i IN 1..100 LOOP
	INSERT INTO hookgate.messages (module, target, user_id, token_id, content_type, body)
	SELECT 'channel', 'general', $ALICE, $TOKEN, 'text/plain', 'big' FROM generate_series(1, 200);
	COMMIT; END LOOP; END \$\$" >/dev/null
POS_MID=$(q "SELECT position FROM hookgate.feed_read('c6', 10000)" | tail -n 1)
ROWS=$(psql -X -q -At -v ON_ERROR_STOP=1 <<-EOF 2>&1 | tail -n 1
	BEGIN;
	SELECT count(*) FROM hookgate.feed_read('c6', 10, '$POS_MID');
	SELECT pg_stat_get_xact_tuples_fetched('hookgate.messages'::regclass)
	     + pg_stat_get_xact_tuples_returned('hookgate.messages'::regclass)
	     + pg_stat_get_xact_tuples_returned('hookgate.messages_feed'::regclass);
	COMMIT;
EOF
)
ok "10 messages read from the middle of a 20000-message window touch $ROWS rows (< 1000)" \
	test "$ROWS" -lt 1000
# The takes below see only their own messages.
q "WITH t AS (SELECT position, row_number() OVER () AS n FROM hookgate.delivery_take('w', 100000))
   SELECT hookgate.feed_ack('delivery', position) FROM t ORDER BY n DESC LIMIT 1" >/dev/null

# ---- routing and delivery_take -----------------------------------------------------------------
pg_sql "INSERT INTO hookgate.destinations (module, target, url, secret_enc) VALUES
	('channel', 'general', 'http://h/general', '\x01'), ('channel', '*', 'http://h/all', '\x01'),
	('bot_incoming', 'alicebot', 'http://h/ab', '\x01'),
	('bot_incoming', 'pubbot', 'http://h/pb', '\x01'),
	('bot_message', 'pubbot', 'http://h/pbm', '\x01'),
	('extension_sandbox', 'ext', 'http://h/xs', '\x01')" >/dev/null
dest() { q "SELECT id FROM hookgate.destinations WHERE module = '$1' AND target = '$2'"; }
D_GEN=$(dest channel general) D_ALL=$(dest channel '*') D_AB=$(dest bot_incoming alicebot)
D_PBM=$(dest bot_message pubbot) D_XS=$(dest extension_sandbox ext)
R1=$(msg channel general '{"text":"g"}')
R2=$(msg channel random '{"text":"r"}')
R3=$(msg channel random 'plain "x"' 'text/plain')
R4=$(msg bot_message alicebot '{"text":"b"}')
R5=$(msg bot_message pubbot '{"text":"p"}')
R6=$(msg bot_incoming quietbot '{}')
R7=$(msg extension_sandbox app_Sandbox000000001 '{}')
R8=$(msg extension_marketplace app_Market0000000001 '{}')
q "SELECT message_id, coalesce(destination_id::text, '-'), coalesce(token_public_id, '-'),
	  coalesce(content_type, '-'), coalesce(body, '-')
     FROM hookgate.delivery_take('w', 100)" >"$HG_TMP/take.out"
take() { awk -F'|' -v id="$1" -v f="$2" '$1 == id { print $f }' "$HG_TMP/take.out"; }
is "$(wc -l <"$HG_TMP/take.out")" 8 "delivery_take returns every message, routed or not"
is "$(take "$R1" 2)" "$D_GEN" "channel: its own destination"
is "$(take "$R2" 2)/$(take "$R3" 2)" "$D_ALL/$D_ALL" "a channel without one: channel:*"
is "$(take "$R4" 2)/$(take "$R5" 2)" "$D_AB/$D_PBM" \
	"bot_message: the bot's incoming destination, or its own"
is "$(take "$R6" 2)/$(take "$R6" 3)/$(take "$R6" 5)" "-/-/-" \
	"no destination: destination_id, token and body NULL (the position still returned)"
is "$(take "$R7" 2)/$(take "$R8" 2)" "$D_XS/-" "extensions route by app id to their name"
is "$(take "$R1" 3)|$(take "$R1" 5)" 'tk_000000000000000a|{"text":"g"}' \
	"the token's public id and the stored body"
is "$(take "$R2" 4)|$(take "$R2" 5)" 'application/json|{"channel":"random","message":{"text":"r"}}' \
	"channel:* wraps a JSON body as it is"
is "$(take "$R3" 5)" '{"channel":"random","message":"plain \"x\""}' \
	"channel:* wraps any other body as a JSON string"

# ---- park, claim, leases ---------------------------------------------------------------------------
park_json=$(q "SELECT json_agg(json_build_object('message_id', id, 'destination_id', $D_GEN))
	FROM generate_series(1000, 1039) id")
is "$(q "SELECT hookgate.delivery_park('$park_json')")" 40 "delivery_park queues 40"
is "$(q "SELECT hookgate.delivery_park('$park_json')")" 0 "parking them again adds nothing"
q "INSERT INTO hookgate.messages (id, module, target, user_id, token_id, content_type, body)
   OVERRIDING SYSTEM VALUE SELECT id, 'channel', 'general', $ALICE, $TOKEN, 'text/plain', 'q'
     FROM generate_series(1000, 1042) id" >/dev/null
for o in o1 o2; do
	q "SELECT message_id FROM hookgate.delivery_claim('$o', 25, 60000)" >"$HG_TMP/claim.$o" &
done
wait
is "$(cat "$HG_TMP"/claim.o[12] | wc -l)/$(cat "$HG_TMP"/claim.o[12] | sort -u | wc -l)" "40/40" \
	"two owners claiming at once: 40 rows, none twice"
is "$(q "SELECT count(*) FROM hookgate.delivery_claim('o3', 10, 60000)")" 0 \
	"leased rows are not claimed again"
q "INSERT INTO hookgate.delivery_queue VALUES (1040, $D_GEN, 0, now(), now())" >/dev/null
hold "SELECT message_id FROM hookgate.delivery_claim('o4', 1, 60000)"
q "INSERT INTO hookgate.delivery_queue VALUES (1042, $D_GEN, 0, now(), now())" >/dev/null
is "$(PGOPTIONS='-c lock_timeout=1000' q "SELECT message_id FROM hookgate.delivery_claim('o5', 5, 1)")" \
	1042 "a row locked by a claim in progress is skipped, not waited for"
wait "$HOLD_PID"
q "UPDATE hookgate.delivery_queue SET lease_until = now() - interval '1 s' WHERE lease_owner = 'o1'" \
	>/dev/null
is "$(q "SELECT count(*) FROM hookgate.delivery_claim('o6', 100, 60000)")" \
	"$(($(wc -l <"$HG_TMP/claim.o1") + 1))" "expired leases are claimed again"
is "$(q "SELECT hookgate.delivery_release('o6')")" "$(($(wc -l <"$HG_TMP/claim.o1") + 1))" \
	"delivery_release frees the owner's leases"
q "UPDATE hookgate.destinations SET enabled = false, disabled_reason = 'manual'
    WHERE id = $D_GEN" >/dev/null
is "$(q "SELECT count(*) FROM hookgate.delivery_claim('o7', 100, 60000)")" 0 \
	"rows of a disabled destination are not claimed"
q "UPDATE hookgate.destinations SET enabled = true, disabled_reason = NULL WHERE id = $D_GEN" \
	>/dev/null
q "DELETE FROM hookgate.delivery_queue" >/dev/null

# ---- delivery_record: queue and health ------------------------------------------------------------
# rec DEST MSG ATTEMPT OUTCOME [JSON]: one result; prints what delivery_record returned.
rec() {
	q "SELECT hookgate.delivery_record('[{\"message_id\":$2,\"destination_id\":$1,
		\"attempt\":$3,\"outcome\":\"$4\"${5:+,$5}}]', interval '1 hour')"
}
state() {
	q "SELECT coalesce(destination_id::text, '') || ':' || state || ':' || attempts
	     FROM hookgate.delivery_state($1)" | tr '\n' ' ' | sed 's/ $//'
}
XMIN=$(q "SELECT xmin FROM hookgate.destinations WHERE id = $D_GEN")
is "$(rec "$D_GEN" "$R1" 1 delivered '"http_status":204,"latency_us":900')" 1 "delivered recorded"
is "$(q "SELECT xmin FROM hookgate.destinations WHERE id = $D_GEN")" "$XMIN" \
	"a delivery to a healthy destination writes no destinations row"
is "$(state "$R1")" "$D_GEN:delivered:1" "delivery_state: delivered"
rec "$D_ALL" "$R2" 1 retry '"http_status":500,"next_at":"2000-01-01T00:00:00Z"' >/dev/null
is "$(q "SELECT attempts || ' ' || (due_at = '2000-01-01T00:00:00Z') || ' ' ||
	(lease_owner IS NULL) FROM hookgate.delivery_queue WHERE message_id = $R2")" "1 true true" \
	"retry queues the delivery due at next_at"
is "$(q "SELECT failing_since IS NOT NULL FROM hookgate.destinations WHERE id = $D_ALL")" t \
	"a failure starts the failing streak"
is "$(state "$R2")" "$D_ALL:retrying:1" "delivery_state: retrying"
SINCE=$(q "SELECT failing_since FROM hookgate.destinations WHERE id = $D_ALL")
rec "$D_ALL" "$R3" 1 retry '"error":"timeout","next_at":"2000-01-01T00:00:00Z"' >/dev/null
is "$(q "SELECT failing_since = '$SINCE' FROM hookgate.destinations WHERE id = $D_ALL")" t \
	"further failures keep the streak's start"
is "$(q "SELECT count(*) FROM hookgate.delivery_claim('w', 10, 60000)")" 2 "due retries are claimed"
rec "$D_ALL" "$R2" 2 delivered '"http_status":200' >/dev/null
is "$(q "SELECT count(*) FROM hookgate.delivery_queue WHERE message_id = $R2")/$(q "SELECT
	failing_since IS NULL FROM hookgate.destinations WHERE id = $D_ALL")" "0/t" \
	"delivered ends the queue row and the failing streak"
rec "$D_ALL" "$R3" 10 failed '"http_status":500' >/dev/null
is "$(state "$R3")" "$D_ALL:failed:10" "delivery_state: failed (the queue row is gone)"
# One batch with several results for a destination: the streak starts at the first failure
# after the batch's last delivery, and a batch that ends delivered ends it. (Messages of their
# own, this minute, removed after.)
MINUTE=$(q "SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI')")
mixed() {
	local i json=
	for i in 1 2 3; do
		json+="${json:+,}{\"message_id\":99000$i,\"destination_id\":$D_GEN,\"attempt\":1,
			\"outcome\":\"${!i}\",\"at\":\"$MINUTE:0${i}Z\",
			\"next_at\":\"2000-01-01T00:00:00Z\"}"
	done
	q "SELECT hookgate.delivery_record('[$json]', interval '100 years')" >/dev/null
	q "SELECT coalesce(to_char(failing_since AT TIME ZONE 'UTC', 'SS'), 'none')
	     FROM hookgate.destinations WHERE id = $D_GEN"
}
is "$(mixed delivered retry retry)" 02 "a batch delivered, then failing twice: failing since the first failure"
is "$(mixed retry retry delivered)" none "a batch that ends delivered: not failing"
is "$(mixed retry delivered retry)" 03 "failing, delivered, failing: since the failure after the delivery"
q "UPDATE hookgate.destinations SET failing_since = NULL WHERE id = $D_GEN;
   DELETE FROM hookgate.delivery_attempts WHERE message_id BETWEEN 990001 AND 990003;
   DELETE FROM hookgate.delivery_queue WHERE message_id BETWEEN 990001 AND 990003" >/dev/null
q "UPDATE hookgate.destinations SET failing_since = now() - interval '2 hours' WHERE id = $D_ALL" \
	>/dev/null
rec "$D_ALL" "$R3" 1 retry '"next_at":"2000-01-01T00:00:00Z"' >/dev/null
is "$(q "SELECT enabled || ' ' || disabled_reason FROM hookgate.destinations WHERE id = $D_ALL")" \
	"false failing" "failing longer than disable_after disables the destination"
is "$(q "SELECT actor || ' ' || (details->>'reason') FROM hookgate.audit_log
	WHERE action = 'destination.disable' AND (details->>'destination_id')::bigint = $D_ALL")" \
	"hookgated delivery failing" "and audits it"
rec "$D_AB" "$R4" 1 gone '"http_status":410' >/dev/null
is "$(q "SELECT enabled || ' ' || disabled_reason FROM hookgate.destinations WHERE id = $D_AB")/$(q \
	"SELECT count(*) FROM hookgate.audit_log WHERE action = 'destination.disable'
	  AND details->>'reason' = 'gone'")" "false gone/1" "410 disables the destination (gone), audited"
rec "$D_AB" "$R4" 1 disabled >/dev/null
is "$(q "SELECT attempts || ' ' || (due_at <= now()) FROM hookgate.delivery_queue
	WHERE message_id = $R4")" "0 true" "'disabled' keeps the delivery queued, due now"
is "$(state "$R4")" "$D_AB:pending:0" "delivery_state: pending (queued, not tried)"
is "$(state "$R5")" "$D_PBM:pending:0" "delivery_state: pending (routed, not yet taken)"
is "$(state "$R6")" ":no_destination:0" "delivery_state: no_destination"
is "$(q "SELECT count(*) FROM hookgate.delivery_state(987654321)")" 0 "unknown message: no row"
is "$(q "SELECT count(*) FROM hookgate.delivery_attempts")" 8 "every result is an attempt row"

# ---- replay -------------------------------------------------------------------------------------
is "$(q "SELECT hookgate.delivery_replay($D_ALL, now() - interval '1 hour', now() + interval '1 s',
	'hookgatectl')")" 2 "replay queues the destination's messages of the period"
is "$(q "SELECT string_agg(attempts::text, ',' ORDER BY message_id) FROM hookgate.delivery_queue
	WHERE destination_id = $D_ALL")" "0,1" \
	"a queued delivery keeps its attempts; a new one has 0"
is "$(q "SELECT actor || ' ' || (details->>'messages') FROM hookgate.audit_log
	WHERE action = 'delivery.replay'")" "hookgatectl 2" "replay is audited"

# ---- partitions of the attempts ---------------------------------------------------------------------
is "$(q "SELECT hookgate.ensure_delivery_partitions(3)")" 0 "ensure: the months exist already"
q "INSERT INTO hookgate.delivery_attempts (at, message_id, destination_id, attempt, outcome)
   VALUES (date_trunc('month', now()) + interval '6 months', 1, 1, 1, 'retry'),
	  (now() - interval '3 years', 1, 1, 1, 'retry')" >/dev/null
is "$(q "SELECT hookgate.ensure_delivery_partitions(7)")" 4 "ensure creates the missing months"
is "$(q "SELECT count(*) FROM hookgate.delivery_attempts_default")" 1 \
	"a row of a new month is moved out of the default partition"
q "SELECT hookgate.create_monthly_partition('delivery_attempts', 'delivery_attempts_y2001m01',
	'2001-01-01Z', '2001-02-01Z')" >/dev/null
is "$(q "SELECT hookgate.drop_delivery_partitions(interval '1 year')")/$(q "SELECT count(*)
	FROM hookgate.delivery_attempts_default")" "1/0" \
	"drop: old months dropped and old rows deleted from the default partition"
