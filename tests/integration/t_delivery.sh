#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Delivery end to end (docs/delivery.md, docs/hookgatectl.md): messages stored through the
# webhook endpoints reach a real receiver (receiver.js), and every request it gets is verified
# with the Standard Webhooks reference library. Covers every destination kind and the routing
# fallbacks, the headers and body, the retry rules (500, 410, 429 with Retry-After, time-out,
# redirects), the outbound address policy, a rotation's two signatures, replay, the attempt
# rows, the order of first attempts, and how soon NOTIFY wakes the worker.
. "$HG_SRCDIR/tests/integration/lib.sh"
. "$HG_SRCDIR/tests/integration/webhook_lib.sh"
. "$HG_SRCDIR/tests/integration/delivery_lib.sh"
delivery_deps
hg_setup
plan 38

pg_start
# 127.0.0.1 only: the destination on 127.0.0.2 must be refused by the address policy.
hg_config '[delivery]' 'timeout = 1s' 'connect_timeout = 500ms' 'allow_networks = 127.0.0.1/32'
hg_migrate >/dev/null || bail_out "migrate failed"
webhook_fixtures || bail_out "fixtures failed"
for ch in c_early random c_fail c_gone c_rl c_hang c_redir c_refused c_rot c_order; do
	{ hgctl channel add "$ch" && hgctl channel member add "$ch" alice; } >/dev/null ||
		bail_out "channel $ch"
done
{ hgctl bot add quietbot --owner alice && hgctl bot add fallbot --owner alice; } >/dev/null ||
	bail_out "bots"

receiver_start r
receiver_start far http 127.0.0.2
{
	dest_set r /ok/early channel c_early &&
		dest_set r /ok/general channel general &&
		dest_set r /ok/all channel '*' &&
		dest_set r /ok/bot bot deploybot &&
		dest_set r /ok/botmsg bot deploybot --messages &&
		dest_set r /ok/fallbot bot fallbot &&
		dest_set r /ok/sandbox extension ticketing --env sandbox &&
		dest_set r /ok/marketplace extension ticketing --env marketplace &&
		dest_set r /fail-2/c channel c_fail &&
		dest_set r /gone/c channel c_gone &&
		dest_set r /ratelimit-8/c channel c_rl &&
		dest_set r /hang/c channel c_hang &&
		dest_set r /redirect/c channel c_redir &&
		dest_set far /ok/refused channel c_refused &&
		dest_set r /ok/rot channel c_rot &&
		dest_set r /ok/order channel c_order &&
		dest_rotate r /ok/rot channel c_rot
} >"$HG_TMP/dest.out" 2>&1 || bail_out "endpoint set: $(cat "$HG_TMP/dest.out")"
hg_start || bail_out "hookgated does not start"

# post_id VAR PATH BODY [curl args...]: posts, and sets VAR to the message id of the 2xx.
post_id() {
	local var=$1
	shift
	post "$@"
	[[ $HTTP_STATUS == 2* ]] || bail_out "POST $1 answered $HTTP_STATUS: $HTTP_BODY"
	printf -v "$var" '%s' "$(msg_id)"
}
ch() { channel_path "$1" "$TOK_A"; }
# The first message after start-up: the delivery worker may not have read the feed yet.
post_id M_EARLY "$(ch c_early)" '{"text":"first"}'
post_id M_GENERAL "$(ch general)" '{"text":"hello general"}'
post_id M_BOT "/api/v2/bots/deploybot/incoming?zapikey=$TOK_A" 'plain words' -H 'Content-Type: text/plain'
post_id M_BOTMSG "/api/v2/bots/deploybot/message?zapikey=$TOK_A" '{"text":"to the bot"}'
post_id M_FALL "/api/v2/bots/fallbot/message?zapikey=$TOK_A" '{"text":"falls back"}'
post_id M_QUIET "/api/v2/bots/quietbot/incoming?zapikey=$TOK_A" '{"text":"stored only"}'
post_id M_SB "/api/v2/applications/$SB_APP/incoming?appkey=$SB_KEY&zapikey=$TOK_A" '{"n":1}'
post_id M_MP "/api/v2/applications/$MP_APP/incoming?appkey=$MP_KEY&zapikey=$TOK_A" '{"n":2}'
post_id M_ALL "$(ch random)" '{"text":"to all"}'
post_id M_FAIL "$(ch c_fail)" '{"text":"fails twice"}'
post_id M_GONE "$(ch c_gone)" '{"text":"gone"}'
post_id M_RL "$(ch c_rl)" '{"text":"slow down"}'
post_id M_HANG "$(ch c_hang)" '{"text":"hangs"}'
post_id M_REDIR "$(ch c_redir)" '{"text":"redirected"}'
post_id M_REF "$(ch c_refused)" '{"text":"refused"}'
post_id M_ROT "$(ch c_rot)" '{"text":"rotated"}'
ORDER=()
for i in 1 2 3 4 5 6 7 8; do
	post_id m "$(ch c_order)" "{\"text\":\"$i\"}"
	ORDER+=("$m")
done

# ---- the destination kinds, headers and bodies -----------------------------------------------

wait_recv 10000 r 16 '(.path | startswith("/ok/"))' || diag "only $(recv_count r) requests arrived"
is "$(recv '[.[] | select(.path == "/ok/early") | .headers["webhook-id"]] | join(" ")')" \
	"msg_${M_EARLY}_$(dest_id channel c_early)" "the first message after start-up is delivered"

# delivered PATH MESSAGE MODULE TARGET DEST_MODULE DEST_TARGET CONTENT_TYPE BODY: the first request
# to PATH, as "webhook-id|module|target|token-id|content-type|body".
delivered() {
	local q='[.[] | select(.path == $p)][0] | [.headers["webhook-id"], .headers["hookgate-module"],
		.headers["hookgate-target"], .headers["hookgate-token-id"], .headers["content-type"], .body]
		| join("|")'
	is "$(jq -r -s --arg p "$1" "$q" "$HG_TMP/r.jsonl")" \
		"msg_${2}_$(dest_id "$5" "$6")|$3|$4|$PUB_A|$7|$8" "$9"
}
delivered /ok/general "$M_GENERAL" channel general channel general application/json \
	'{"text":"hello general"}' "channel: headers and body as stored"
delivered /ok/bot "$M_BOT" bot_incoming deploybot bot_incoming deploybot text/plain \
	'plain words' "bot: a text/plain body as stored"
delivered /ok/botmsg "$M_BOTMSG" bot_message deploybot bot_message deploybot application/json \
	'{"text":"to the bot"}' "bot_message: its own destination"
delivered /ok/fallbot "$M_FALL" bot_message fallbot bot_incoming fallbot application/json \
	'{"text":"falls back"}' "bot_message without its own destination: the bot's incoming one"
# An extension's messages name its app id as their target; the destination names the extension.
delivered /ok/sandbox "$M_SB" extension_sandbox "$SB_APP" extension_sandbox ticketing \
	application/json '{"n":1}' "extension, sandbox"
delivered /ok/marketplace "$M_MP" extension_marketplace "$MP_APP" extension_marketplace ticketing \
	application/json '{"n":2}' "extension, marketplace"
is "$(recv '[.[] | select(.path == "/ok/all")][0] | [.headers["content-type"], (.body | fromjson | tojson)] | join("|")')" \
	'application/json|{"channel":"random","message":{"text":"to all"}}' \
	"channel:*: a channel without its own destination, wrapped with its name"
like "$(recv '[.[] | .headers["user-agent"]] | unique | join(" ")')" '^hookgate/[0-9][^ ]*$' \
	"user-agent: hookgate/VERSION on every request"
is "$(recv '[.[] | select(.headers["hookgate-target"] == "quietbot")] | length')" 0 \
	"a target without a destination: nothing sent"
like "$(pg_sql "SELECT state FROM hookgate.delivery_state($M_QUIET)")" '^no_destination$' \
	"and its delivery_state is no_destination"
is "$(dstate "$M_GENERAL" | cut -d'|' -f2-)" "delivered|1" "delivery_state: delivered after 1 attempt"

# ---- rotation: both secrets sign ----------------------------------------------------------------

is "$(recv '[.[] | select(.path == "/ok/rot")][0] | [(.headers["webhook-signature"] | split(" ") | length), (.verified_by | map(tostring) | join(","))] | join(" ")')" \
	"2 0,1" "rotation: two signatures, each verifies with its own secret"

# ---- order of first attempts ------------------------------------------------------------------

is "$(recv '[.[] | select(.path == "/ok/order") | .headers["webhook-id"] | split("_")[1]] | join(" ")')" \
	"${ORDER[*]}" "first attempts to one destination in message order"

# ---- retries -----------------------------------------------------------------------------------

# The second attempt of a 500 comes after the schedule's 5 s (jitter ±20 %); the third, due in
# 5 min, is made due now so that the test need not wait.
wait_recv 12000 r 2 '.path == "/fail-2/c"'
gap=$(recv '[.[] | select(.path == "/fail-2/c") | .t] | .[1] - .[0]')
hg_result "$((gap >= 3900 && gap <= 9000))" "500: the second attempt ${gap} ms after the first (5 s ±20 %)"
wait_until 5000 test "$(pg_sql "SELECT count(*) FROM hookgate.delivery_queue WHERE message_id = $M_FAIL AND attempts = 2")" = 1
pg_sql "UPDATE hookgate.delivery_queue SET due_at = now() WHERE message_id = $M_FAIL" >/dev/null
wait_recv 5000 r 3 '.path == "/fail-2/c"'
is "$(recv '[.[] | select(.path == "/fail-2/c") | "\(.headers["webhook-id"]) \(.answer)"] | unique | join(",")')" \
	"msg_${M_FAIL}_$(dest_id channel c_fail) 204,msg_${M_FAIL}_$(dest_id channel c_fail) 500" \
	"500 twice then 204: one webhook-id across the attempts"
wait_until 5000 test "$(dstate "$M_FAIL" | cut -d'|' -f2-)" = "delivered|3"
is "$(dstate "$M_FAIL" | cut -d'|' -f2-)" "delivered|3" "and it is delivered after 3 attempts"
is "$(pg_sql "SELECT string_agg(attempt || ':' || outcome || ':' || http_status, ' ' ORDER BY attempt)
	FROM hookgate.delivery_attempts WHERE message_id = $M_FAIL")" \
	"1:retry:500 2:retry:500 3:delivered:204" "an attempt row for each, with its status"

is "$(recv '[.[] | select(.path == "/gone/c") | .answer] | join(",")')" 410 "410: one request"
is "$(pg_sql "SELECT enabled, disabled_reason FROM hookgate.destinations
	WHERE module = 'channel' AND target = 'c_gone'")" "f|gone" "410 disables the destination"
is "$(pg_sql "SELECT count(*) FROM hookgate.audit_log WHERE action = 'destination.disable'
	AND details->>'target' = 'c_gone' AND details->>'reason' = 'gone'")" 1 "and audits it"
is "$(pg_sql "SELECT outcome FROM hookgate.delivery_attempts WHERE message_id = $M_GONE")" gone \
	"its attempt row says gone"

wait_recv 15000 r 2 '.path == "/ratelimit-8/c"'
gap=$(recv '[.[] | select(.path == "/ratelimit-8/c") | .t] | .[1] - .[0]')
hg_result "$((gap >= 7900))" "429 with Retry-After: 8: the next attempt ${gap} ms later"
is "$(pg_sql "SELECT http_status || ' ' || (next_at - at >= interval '7.9 s')
	FROM hookgate.delivery_attempts WHERE message_id = $M_RL AND attempt = 1")" "429 true" \
	"its attempt row: 429, next_at at least Retry-After later"

is "$(pg_sql "SELECT outcome || ' ' || error || ' ' || (latency_us >= 900000)
	FROM hookgate.delivery_attempts WHERE message_id = $M_HANG AND attempt = 1")" \
	"retry timeout true" "an answer later than [delivery] timeout: a timed-out attempt"
like "$(recv '[.[] | select(.path == "/hang/c")] | length')" '^[1-9]' "the hanging receiver got it"

is "$(pg_sql "SELECT outcome || ' ' || http_status FROM hookgate.delivery_attempts
	WHERE message_id = $M_REDIR AND attempt = 1")" "retry 301" "301: a failed attempt"
is "$(recv '[.[] | select(.path == "/ok/redirected")] | length')" 0 "the redirect is not followed"

like "$(pg_sql "SELECT error FROM hookgate.delivery_attempts WHERE message_id = $M_REF AND attempt = 1")" \
	'^refused_address$' "127.0.0.2 outside allow_networks: refused_address"
is "$(recv_count far)" 0 "and nothing reached it"

# ---- replay, attempt rows, verification ----------------------------------------------------------

out=$(hgctl delivery replay --destination channel:general --since 1h 2>&1)
like "$out" '1' "replay of channel:general queues its message"
wait_recv 5000 r 2 '.path == "/ok/general"'
is "$(recv '[.[] | select(.path == "/ok/general") | .headers["webhook-id"]] | "\(length) \(unique | length)"')" \
	"2 1" "replay: sent again with the same webhook-id"
is "$(pg_sql "SELECT count(*) FROM hookgate.audit_log WHERE action = 'delivery.replay'")" 1 \
	"replay is audited"
is "$(pg_sql "SELECT string_agg(attempt || ':' || outcome, ' ' ORDER BY at)
	FROM hookgate.delivery_attempts WHERE message_id = $M_GENERAL")" "1:delivered 1:delivered" \
	"attempt rows: the first delivery and the replay"
is "$(pg_sql "SELECT count(DISTINCT message_id) FROM hookgate.delivery_attempts
	WHERE outcome = 'delivered' AND message_id IN ($M_BOT, $M_BOTMSG, $M_FALL, $M_SB, $M_MP,
	$M_ALL, $M_ROT, $(
	IFS=,
	echo "${ORDER[*]}"
))")" 15 "a delivered attempt row for every message to an answering destination"

# ---- NOTIFY wake-up: well under the 1 s poll ---------------------------------------------------

lat=()
for i in 1 2 3 4 5; do
	before=$(recv_count r '.path == "/ok/general"')
	post "$(ch general)" "{\"text\":\"wake $i\"}"
	[[ $HTTP_STATUS == 2* ]] || diag "POST answered $HTTP_STATUS"
	acked=$(hg_now_ms)
	wait_recv 3000 r "$((before + 1))" '.path == "/ok/general"'
	lat+=("$(($(recv '[.[] | select(.path == "/ok/general")][-1].t') - acked))")
	sleep 0.$((RANDOM % 9 + 1))
done
diag "from the 2xx to the receiver (ms): ${lat[*]}"
median=$(printf '%s\n' "${lat[@]}" | sort -n | sed -n 3p)
hg_result "$((median < 300))" "NOTIFY wakes the worker: median ${median} ms from the 2xx to the receiver"

is "$(recv '[.[] | select(.verified | not) | .path] | unique | join(" ")')" "" \
	"every request verified by the reference library"
ok "hookgated stops with status 0" hg_stop
