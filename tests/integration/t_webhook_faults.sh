#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# shellcheck disable=SC2119
# Webhook ingest under faults : PostgreSQL stopped → 503 within 1 s and service
# back within 5 s of its restart; kill -9 of a worker under load and SIGTERM under load lose
# no call that was answered 2xx; a request head that drips in is cut off within 10 s.
. "$HG_SRCDIR/tests/integration/lib.sh"
. "$HG_SRCDIR/tests/integration/webhook_lib.sh"
hg_setup
plan 16

pg_start
hg_config '[server]' 'shutdown_timeout = 5s'
hg_migrate >/dev/null || bail_out "migrate failed"
webhook_fixtures || bail_out "fixtures failed"
hg_start || bail_out "hookgated does not start"
URL="http://127.0.0.1:$HG_PORT$(channel_path general "$TOK_A")"

call() { # prints "STATUS MESSAGE_ID"
	curl -s -o /dev/null --max-time 5 -X POST -H 'Content-Type: application/json' \
		--data-binary "{\"text\":\"load $1\"}" -w '%{http_code} %header{x-message-id}\n' "$URL"
}

# load N: N loops posting until $HG_TMP/stop exists; each appends "STATUS ID" lines.
load() {
	rm -f "$HG_TMP/stop" "$HG_TMP"/load.*
	local i
	for ((i = 0; i < $1; i++)); do
		(
			n=0
			while [[ ! -e $HG_TMP/stop ]]; do
				call "$i-$n" >>"$HG_TMP/load.$i"
				n=$((n + 1))
			done
		) &
	done
}
stop_load() {
	touch "$HG_TMP/stop"
	wait_until 10000 bash -c "! pgrep -f 'load [0-9]+-' >/dev/null" || true
	sleep 0.5
}
acked() { cat "$HG_TMP"/load.* | awk '$1 ~ /^2/' | wc -l; }
# acknowledged_missing: how many 2xx answers name a message that is not in the database
acknowledged_missing() {
	local ids
	ids=$(cat "$HG_TMP"/load.* | awk '$1 ~ /^2/ {print $2}' | paste -sd, -)
	[[ -z $ids ]] && { echo 0; return; }
	pg_sql "SELECT $(acked) - count(*) FROM hookgate.messages WHERE id IN ($ids)"
}

# ---- PostgreSQL outage ---------------------------------------------------------------------
ok "stop PostgreSQL" pg_stop
http_get "$URL" -X POST -H 'Content-Type: application/json' --data-binary '{"text":"x"}' --max-time 3
is "$HTTP_STATUS" 503 "PostgreSQL stopped: 503"
ok "PostgreSQL stopped: answered within 1 s ($HTTP_MS ms)" test "$HTTP_MS" -lt 1000
like "$HTTP_HEADERS" $'\n''[Rr]etry-[Aa]fter: ' "503 carries Retry-After"
ok "start PostgreSQL again" pg_start_again
started=$(hg_now_ms)
ok "accepted again within 5 s of the restart" \
	wait_until 5000 bash -c "[[ \$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' --data-binary '{\"text\":\"back\"}' '$URL') == 204 ]]"
diag "service back after $(($(hg_now_ms) - started)) ms"

# ---- kill -9 of a worker under load ------------------------------------------------------
load 4
sleep 1.5
victim=$(for p in $(hg_children); do [[ $(proc_title "$p") == "hookgated: webhook worker 1" ]] && echo "$p"; done)
ok "found webhook worker 1" test -n "$victim"
kill -9 "$victim"
sleep 1.5
stop_load
missing=$(acknowledged_missing)
ACKED=$(acked)
ok "kill -9 under load: calls were acknowledged ($ACKED)" test "$ACKED" -gt 20
is "$missing" 0 "kill -9 under load: every 2xx is in the database"
ok "no answer other than 204/503 or a dropped connection" \
	bash -c "! cat '$HG_TMP'/load.* | awk '{print \$1}' | grep -vqE '^(204|503|000)$'"

# ---- SIGTERM under load -----------------------------------------------------------------------
load 4
sleep 1.5
t0=$(hg_now_ms)
kill -TERM "$HG_PID"
wait "$HG_PID"
rc=$?
took=$(($(hg_now_ms) - t0))
stop_load
is "$rc" 0 "SIGTERM under load: exit status 0"
ok "SIGTERM under load: stopped within shutdown_timeout ($took ms)" test "$took" -lt 6000
is "$(acknowledged_missing)" 0 "SIGTERM under load: every 2xx ($(acked)) is in the database"

# ---- a request head that drips in ------------------------------------------------------------
hg_start || bail_out "hookgated does not restart"
drip() {
	local t0 i line rc
	DRIP_ANSWER=""
	exec 3<>"/dev/tcp/127.0.0.1/$HG_PORT" || return 1
	t0=$(hg_now_ms)
	printf 'POST /api/v2/bots/x/incoming HTTP/1.1\r\nHost: x\r\n' >&3
	for i in 1 2 3 4 5 6; do
		# wait 3 s for an answer; a time-out (status > 128) means: drip one more line
		IFS= read -r -t 3 line <&3
		rc=$?
		if ((rc <= 128)); then
			DRIP_ANSWER=${line%$'\r'}
			break
		fi
		printf 'X-Drip-%s: %s\r\n' "$i" "$i" >&3 2>/dev/null || break
	done
	DRIP_MS=$(($(hg_now_ms) - t0))
	exec 3>&-
}
drip
ok "a dripping head is cut off within 10 s ($DRIP_MS ms)" test "$DRIP_MS" -le 10000
like "$DRIP_ANSWER" '^HTTP/1.1 408' "the server answered 408 before closing"
ok "hookgated still healthy" hg_healthz_ok
