#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# At least once, never lost (docs/delivery.md): an acknowledged-ids ledger (the X-Message-Id of
# every 2xx) against the receiver's log, across kill -9 of the delivery worker mid-flight
# (the master starts another), PostgreSQL restarted during delivery, and SIGTERM of the daemon
# with deliveries in flight followed by a restart. In the end every acknowledged message is
# delivered or visibly failed, and a message delivered twice carries the same webhook-id.
. "$HG_SRCDIR/tests/integration/lib.sh"
. "$HG_SRCDIR/tests/integration/webhook_lib.sh"
. "$HG_SRCDIR/tests/integration/delivery_lib.sh"
delivery_deps
hg_setup
plan 9

pg_start
# Slow answers keep deliveries in flight when the faults strike.
hg_config '[delivery]' 'timeout = 2s' 'allow_networks = 127.0.0.1/32' \
	'max_inflight_per_destination = 4' '[server]' 'shutdown_timeout = 3s'
hg_migrate >/dev/null || bail_out "migrate failed"
webhook_fixtures || bail_out "fixtures failed"
receiver_start r
dest_set r /slow-150/general channel general >/dev/null || bail_out "endpoint set"
hg_start || bail_out "hookgated does not start"
: >"$HG_TMP/ledger"

# post_batch N: N calls; each 2xx's message id goes to the ledger.
post_batch() {
	local i
	for ((i = 0; i < $1; i++)); do
		post "$(channel_path general "$TOK_A")" "{\"text\":\"m$RANDOM\"}" --max-time 2
		[[ $HTTP_STATUS == 2* ]] && msg_id >>"$HG_TMP/ledger"
	done
	return 0
}
delivery_worker() {
	local pid
	for pid in $(hg_children); do
		[[ $(proc_title "$pid") == *"delivery worker"* ]] && printf '%s\n' "$pid"
	done
}

# The ledger starts once the worker has read the feed (t_delivery.sh covers the first message).
post_batch 3
wait_recv 5000 r 1 || diag "nothing delivered after start-up"
: >"$HG_TMP/ledger"
post_batch 30
old=$(delivery_worker)
wait_recv 5000 r 8 || diag "few deliveries before the kill: $(recv_count r)"
kill -KILL "$old"
ok "the master starts another delivery worker" wait_until 10000 \
	eval '[[ -n $(delivery_worker) && $(delivery_worker) != "$old" ]]'
post_batch 30

wait_recv 10000 r 40 || true
pg_stop >/dev/null || diag "pg_stop failed"
post_batch 5 # answered 503 while PostgreSQL is away: not in the ledger
sleep 1
pg_start_again || bail_out "PostgreSQL does not start again"
wait_until 15000 hg_healthz_ok || diag "healthz not back"
post_batch 30

# SIGTERM with deliveries in flight (each answer takes 150 ms, 4 at once), then a restart.
hg_stop
is "$?" 0 "SIGTERM with deliveries in flight: exit status 0"
is "$(pg_sql "SELECT count(*) FROM hookgate.delivery_queue WHERE lease_until > now()")" 0 \
	"SIGTERM hands back every delivery it had claimed (no lease left)"
ok "hookgated starts again" hg_start
post_batch 10

acked=$(sort -u "$HG_TMP/ledger" | wc -l)
diag "acknowledged: $acked"
# Every id of the ledger in the receiver's log; what is not is left in $HG_TMP/missing.
all_settled() {
	local missing
	missing=$(comm -23 <(sort -u "$HG_TMP/ledger") \
		<(recv '.[] | .headers["webhook-id"] | split("_")[1]' | sort -u))
	if [[ -z $missing ]]; then
		rm -f "$HG_TMP/missing"
		return 0
	fi
	printf '%s\n' "$missing" >"$HG_TMP/missing"
	return 1
}
wait_until 40000 all_settled
missing=$(cat "$HG_TMP/missing" 2>/dev/null)
failed=""
for id in $missing; do
	[[ $(pg_sql "SELECT state FROM hookgate.delivery_state($id)") == failed ]] || failed+="$id "
done
is "$failed" "" "every acknowledged message delivered or visibly failed"
[[ -n $failed ]] && diag "not delivered: $(for id in $failed; do printf '%s(%s) ' "$id" "$(dstate "$id" | tr '\n' ' ')"; done)"
hg_result "$((acked >= 100))" "the ledger holds $acked acknowledged messages"
diag "duplicates (same webhook-id): $(recv '[.[] | .headers["webhook-id"]] | length - (unique | length)')"
# A duplicate must not come with another webhook-id: one id per message.
is "$(recv '[.[] | .headers["webhook-id"] | split("_")[1]] | unique | length')" \
	"$(recv '[.[] | .headers["webhook-id"]] | unique | length')" \
	"a message delivered twice carries the same webhook-id"
is "$(recv '[.[] | select(.verified | not)] | length')" 0 "every request verified"
ok "hookgated stops with status 0" hg_stop
