#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# shellcheck disable=SC2119 # lib.sh functions with optional arguments, called without
# GET /healthz (docs/operations.md, "Health checks"): 200 while PostgreSQL answers, 503 "unavailable" quickly when it is
# stopped or hangs (SIGSTOP), and 200 again once it is back — without restarting hookgated.
. "$HG_SRCDIR/tests/integration/lib.sh"
hg_setup
plan 20

webhook_url() {
	printf 'http://127.0.0.1:%s/healthz\n' "$HG_PORT"
}

admin_url() {
	printf 'http://127.0.0.1:%s/healthz\n' "$HG_ADMIN_PORT"
}

# poll_status URL WANT LIMIT_MS: asks every 100 ms until the answer is WANT or LIMIT_MS have
# passed. Sets POLL_MS (time until WANT, or the limit) and POLL_MAX_MS (slowest answer).
poll_status() {
	local url=$1 want=$2 limit=$3 start
	start=$(hg_now_ms)
	POLL_MAX_MS=0
	while true; do
		http_get "$url" --max-time 2
		((HTTP_MS > POLL_MAX_MS)) && POLL_MAX_MS=$HTTP_MS
		POLL_MS=$(($(hg_now_ms) - start))
		[[ $HTTP_STATUS == "$want" ]] && return 0
		((POLL_MS >= limit)) && return 1
		sleep 0.1
	done
}

ok_body='^\{ *"status" *: *"ok" *\}$'
unavailable_body='"code" *: *"unavailable"'

pg_start
hg_config
hg_migrate >/dev/null || bail_out "migrate failed"
hg_start || bail_out "hookgated does not start"

# ---- PostgreSQL up -------------------------------------------------------------------------------
http_get "$(webhook_url)"
is "$HTTP_STATUS" 200 "webhook port: healthz 200"
like "$HTTP_BODY" "$ok_body" "webhook port: body {\"status\":\"ok\"}"
like "$HTTP_HEADERS" $'\n''[Cc]ontent-[Tt]ype: application/json' "webhook port: JSON content type"
http_get "$(admin_url)"
is "$HTTP_STATUS" 200 "admin port: healthz 200"
like "$HTTP_BODY" "$ok_body" "admin port: body {\"status\":\"ok\"}"

# ---- PostgreSQL stopped ----------------------------------------------------------------------
ok "stop PostgreSQL" pg_stop
poll_status "$(webhook_url)" 503 2000
ok "cluster stopped: 503 within 2 s (after $POLL_MS ms)" test "$HTTP_STATUS" = 503
like "$HTTP_BODY" "$unavailable_body" "cluster stopped: code unavailable"
ok "cluster stopped: each answer within 1 s (slowest $POLL_MAX_MS ms)" test "$POLL_MAX_MS" -lt 1000
http_get "$(admin_url)" --max-time 2
is "$HTTP_STATUS" 503 "cluster stopped: admin port 503 too"
ok "cluster stopped: admin answer within 1 s ($HTTP_MS ms)" test "$HTTP_MS" -lt 1000

ok "start PostgreSQL again on the same port" pg_start_again
poll_status "$(webhook_url)" 200 10000
ok "cluster back: 200 within 10 s (after $POLL_MS ms)" test "$HTTP_STATUS" = 200
poll_status "$(admin_url)" 200 10000
ok "cluster back: admin port 200 within 10 s (after $POLL_MS ms)" test "$HTTP_STATUS" = 200

# ---- PostgreSQL hanging: connections open, nothing answers ------------------------------------
pids=$(pg_pids | paste -sd' ' -)
diag "SIGSTOP to PostgreSQL processes $pids"
pg_signal_all STOP
poll_status "$(webhook_url)" 503 3000
ok "cluster hanging: 503 (after $POLL_MS ms)" test "$HTTP_STATUS" = 503
ok "cluster hanging: each answer within 1.5 s (slowest $POLL_MAX_MS ms)" \
	test "$POLL_MAX_MS" -lt 1500
like "$HTTP_BODY" "$unavailable_body" "cluster hanging: code unavailable"
http_get "$(admin_url)" --max-time 3
ok "cluster hanging: admin port answers 503 within 1.5 s ($HTTP_STATUS in $HTTP_MS ms)" \
	test "$HTTP_STATUS" = 503 -a "$HTTP_MS" -lt 1500
pg_signal_all CONT
poll_status "$(webhook_url)" 200 10000
ok "cluster resumed: 200 within 10 s (after $POLL_MS ms)" test "$HTTP_STATUS" = 200

# ---- and hookgated still stops cleanly --------------------------------------------------------
hg_stop
is "$?" 0 "SIGTERM after all that: exit status 0"
