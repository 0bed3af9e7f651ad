#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# shellcheck disable=SC2119 # lib.sh functions with optional arguments, called without
# The admin login under a flood of password checks, with the default budget (login_burst 5,
# login_rate 0.5): 48 clients on 127.0.0.2 loop on POST /admin/api/login for unknown logins
# while other addresses sign in. The flooding address gets 429 rate_limited with Retry-After
# and writes no audit row per refusal; alice (127.0.0.1) signs in every time within her normal
# time; another address still gets 401 for a wrong password within its burst, and a lockout
# still gives 423. Then one address may hold only 4 pending checks (429 beyond), a pool filled
# by many addresses answers 503 saying it is busy checking passwords, not that the database is
# unavailable, and a statement the database refuses is a 500. (Loopback is all of 127.0.0.0/8
# on Linux: curl --interface picks the client address hookgate sees.)
. "$HG_SRCDIR/tests/integration/lib.sh"
. "$HG_SRCDIR/tests/integration/admin_lib.sh"
hg_setup
plan 25

FLOOD_ADDR=127.0.0.2
FLOOD_CLIENTS=48

# login_post ADDR LOGIN PASSWORD: the password step from ADDR; sets HTTP_STATUS, HTTP_BODY,
# HTTP_HEADERS and HTTP_MS.
login_post() {
	http_get "$(admin_url)/admin/api/login" --interface "$1" -X POST \
		-H 'Content-Type: application/json' \
		--data-binary "{\"login\":\"$2\",\"password\":\"$3\"}"
}

# at_once ADDR N DIR: N wrong password steps at once from ADDR (for nobody-at-ADDR), one
# "STATUS RETRY-AFTER" line per answer in DIR/ADDR.codes, the bodies in DIR/ADDR.K.body.
at_once() {
	local addr=$1 n=$2 dir=$3
	mkdir -p "$dir"
	curl -s --no-progress-meter -Z --parallel-immediate --parallel-max "$n" \
		--interface "$addr" --max-time 20 -X POST -H 'Content-Type: application/json' \
		--data-binary "{\"login\":\"nobody-at-$addr\",\"password\":\"x\"}" \
		-w '%{http_code} %header{retry-after}\n' -o "$dir/$addr.#1.body" \
		"$(admin_url)/admin/api/login?[1-$n]" >"$dir/$addr.codes"
}

# tally FILE...: "N×STATUS" for each status in the files (one status a line), most first.
tally() {
	cat "$@" 2>/dev/null | sort | uniq -c | sort -rn | awk '{printf "%s%s×%s", sep, $1, $2; sep=" "}'
	printf '\n'
}

# count STATUS FILE...: how many lines are STATUS.
count() {
	local status=$1
	shift
	cat "$@" 2>/dev/null | grep -c "^$status\$"
}

pg_start
hg_config
hg_migrate >/dev/null || bail_out "migrate failed"
for who in alice bob; do
	hgctl user add "$who" <<<"$(pw "$who")" >/dev/null || bail_out "user add $who failed"
done
hg_start || bail_out "hookgated does not start"

# ---- without a flood -------------------------------------------------------------------------
login_post 127.0.0.9 nobody-at-9 'wrong'
is "$(status_code)" "401 invalid_credentials" "a wrong login from 127.0.0.9: 401"
is "$(q "SELECT host(client_addr) FROM hookgate.audit_log
	WHERE details->>'login' = 'nobody-at-9'")" 127.0.0.9 \
	"hookgate sees the address curl --interface binds (audit row from 127.0.0.9)"

base_ms=()
base_ok=1
for _ in 1 2 3; do
	login_post 127.0.0.5 alice "$(pw alice)"
	[[ $HTTP_STATUS == 200 ]] || base_ok=0
	base_ms+=("$HTTP_MS")
done
ok "alice's password step without a flood: 200 three times (${base_ms[*]} ms)" test "$base_ok" = 1
base_max=$(printf '%s\n' "${base_ms[@]}" | sort -n | tail -n 1)

# ---- the flood ---------------------------------------------------------------------------------
# Each client is a serial keep-alive curl at 4 calls/s (48 × 4 ≈ 190 calls/s in all: enough to
# keep a queue of 32 checks full, without spending the machine on the flood itself), started
# again until the stop file appears. One status a line per call in flood.N.
stop=$HG_TMP/flood.stop
flood_pids=()
flood_start=$(hg_now_ms)
for ((i = 1; i <= FLOOD_CLIENTS; i++)); do
	(
		while [[ ! -e $stop ]]; do
			curl -s -o /dev/null -w '%{http_code}\n' --max-time 10 --rate 4/s \
				--interface "$FLOOD_ADDR" -X POST -H 'Content-Type: application/json' \
				--data-binary "{\"login\":\"ghost$i\",\"password\":\"x\"}" \
				"$(admin_url)/admin/api/login?[1-8]"
		done >>"$HG_TMP/flood.$i"
	) &
	flood_pids+=($!)
done
sleep 2

# The real user signs in from her own address during the flood, five times.
flood_ms=()
flood_statuses=()
for _ in 1 2 3 4 5; do
	login_post 127.0.0.1 alice "$(pw alice)"
	flood_statuses+=("$HTTP_STATUS")
	flood_ms+=("$HTTP_MS")
	sleep 0.3
done
is "${flood_statuses[*]}" "200 200 200 200 200" \
	"during the flood alice's password step from 127.0.0.1 succeeds every time"
flood_max=$(printf '%s\n' "${flood_ms[@]}" | sort -n | tail -n 1)
diag "alice's password step: ${base_ms[*]} ms without the flood, ${flood_ms[*]} ms during it"
ok "within her normal time (slowest $flood_max ms vs $base_max ms without the flood)" \
	test "${flood_statuses[*]}" = "200 200 200 200 200" -a "$flood_max" -le $((base_max * 4 + 1000))

# Another address within its burst: a wrong password is 401, not 429. Past the burst (5) only
# the refill (one check per 2 s) passes: count what may have been earned meanwhile.
burst_codes=()
t0=$(hg_now_ms)
for _ in 1 2 3 4 5; do
	login_post 127.0.0.3 nobody-at-3 'wrong'
	burst_codes+=("$(status_code)")
done
is "${burst_codes[*]}" "$(printf '401 invalid_credentials %.0s' 1 2 3 4 5 | sed 's/ $//')" \
	"during the flood, 127.0.0.3's five wrong passwords (its burst): 401 each"
extra=0
for _ in 1 2 3 4; do
	login_post 127.0.0.3 nobody-at-3 'wrong'
	[[ $HTTP_STATUS == 401 ]] || break
	extra=$((extra + 1))
done
elapsed=$(($(hg_now_ms) - t0))
last=$(status_code)
is "$last" "429 rate_limited" "past its burst 127.0.0.3 gets 429 rate_limited"
ok "after no more 401s than the refill allows ($extra in $elapsed ms)" \
	test "$last" = "429 rate_limited" -a "$extra" -le $((elapsed / 2000))

# A lockout still works as before: bob's fifth failure (login_max_failures) locks him.
bob_codes=()
for _ in 1 2 3 4 5; do
	login_post 127.0.0.6 bob 'wrong'
	bob_codes+=("$HTTP_STATUS")
done
is "${bob_codes[*]}" "401 401 401 401 423" "during the flood bob's fifth failure locks him: 423"
login_post 127.0.0.7 bob "$(pw bob)"
is "$(status_code)" "423 account_locked" "locked bob with the right password: 423, as before"

# The flooding address itself. Its bucket refills one check every 2 s, and on a slow machine
# (sanitizers) a probe may find that check still free: up to five probes, a 429 among them.
for _ in 1 2 3 4 5; do
	login_post "$FLOOD_ADDR" ghost0 x
	[[ $HTTP_STATUS == 429 ]] && break
done
is "$(status_code)" "429 rate_limited" "the flooding address gets 429 rate_limited"
like "$HTTP_STATUS $(header Retry-After)" '^429 [1-9][0-9]*$' \
	"with Retry-After in seconds ($(header Retry-After))"
like "$HTTP_BODY" '^\{"code":"rate_limited","message":"[^"]{10,}"\}$' \
	"and a JSON message ($(jstr message))"

touch "$stop"
wait "${flood_pids[@]}"
flood_s=$((($(hg_now_ms) - flood_start + 999) / 1000))
flood_files=("$HG_TMP"/flood.[0-9]*)
total=$(cat "${flood_files[@]}" | wc -l)
n429=$(count 429 "${flood_files[@]}")
n401=$(count 401 "${flood_files[@]}")
n503=$(count 503 "${flood_files[@]}")
diag "flood: $total calls in $flood_s s from $FLOOD_ADDR: $(tally "${flood_files[@]}")"
ok "the flood's answers are mostly 429 ($n429 of $total)" \
	test "$total" -ge $((FLOOD_CLIENTS * 4)) -a "$((n429 * 10))" -ge "$((total * 9))"
# Its budget: 5 at once, then one check per 2 s (and a check or two still in flight).
ok "the flood got no more password checks than its budget ($n401 401s in $flood_s s)" \
	test "$n401" -le $((5 + flood_s / 2 + 2))
ok "and no 503 ($n503)" test "$n503" -eq 0
flood_audit=$(q "SELECT count(*) FROM hookgate.audit_log WHERE client_addr = '$FLOOD_ADDR'")
ok "one audit row per password check, none per 429 ($flood_audit rows)" \
	test "$flood_audit" -le $((5 + flood_s / 2 + 2))
refusals=$(grep -c "refused.*$FLOOD_ADDR\|$FLOOD_ADDR.*refused" "$HG_TMP/hookgated.log")
ok "the refusals are logged once per address and minute ($refusals lines in $flood_s s)" \
	test "$refusals" -ge 1 -a "$refusals" -le $((1 + flood_s / 60))

# ---- one address may not hold more than 4 of the pending checks -------------------------------
at_once 127.0.0.40 5 "$HG_TMP/share"
cut -d' ' -f1 "$HG_TMP/share/127.0.0.40.codes" >"$HG_TMP/share/codes"
diag "5 at once from 127.0.0.40: $(tally "$HG_TMP/share/codes")"
is "$(count 401 "$HG_TMP/share/codes") $(count 429 "$HG_TMP/share/codes")" "4 1" \
	"5 checks at once from one address: 4 are checked (401), the fifth gets 429"
like "$(cat "$HG_TMP"/share/*.body)" '"code":"rate_limited"' "code rate_limited"

# ---- a pool filled by many addresses: 503, busy --------------------------------------------------
busy_pids=()
for ((a = 50; a < 62; a++)); do
	at_once "127.0.0.$a" 4 "$HG_TMP/busy" &
	busy_pids+=($!)
done
wait "${busy_pids[@]}"
cut -d' ' -f1 "$HG_TMP"/busy/*.codes >"$HG_TMP/busy/statuses"
diag "4 at once from each of 12 addresses: $(tally "$HG_TMP/busy/statuses")"
busy_bodies=$(grep -l '"code":"unavailable"' "$HG_TMP"/busy/*.body | xargs cat 2>/dev/null)
diag "503 messages: $(grep -o '"message":"[^"]*"' <<<"$busy_bodies" | sort | uniq -c)"
n503=$(count 503 "$HG_TMP/busy/statuses")
nbusy=$(grep -o 'busy checking other passwords' <<<"$busy_bodies" | wc -l)
like "$busy_bodies" 'busy checking other passwords' \
	"48 checks at once for a queue of 32: 503 saying the server is busy checking passwords"
ok "every 503 says so ($nbusy of $n503), none that the database is unavailable" \
	test "$n503" -ge 1 -a "$nbusy" = "$n503" -a "$(grep -c database <<<"$busy_bodies")" = 0
ok "every 503 has Retry-After" \
	test "$nbusy" -ge 1 -a -z "$(grep '^503 *$' "$HG_TMP"/busy/*.codes)"

# ---- the other causes of what used to be "the database is not available" -----------------------
fn='hookgate.login_failure(bigint, integer, interval)'
q "ALTER FUNCTION $fn RENAME TO login_failure_gone" >/dev/null
login_post 127.0.0.70 nobody-at-70 'wrong'
is "$(status_code) $(jstr message)" "500 internal the database refused the request" \
	"a statement the database refuses (no such function): 500, not that it is unavailable"
q "ALTER FUNCTION ${fn/login_failure/login_failure_gone} RENAME TO login_failure" >/dev/null
login_post 127.0.0.70 nobody-at-70 'wrong'
is "$(status_code)" "401 invalid_credentials" "with the function back: 401"
