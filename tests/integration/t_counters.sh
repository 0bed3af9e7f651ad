#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# shellcheck disable=SC2119
# Token counters under load (docs/schema.md): hookgate.token_counts equals the
# usage rows at every moment, webhook_tokens catches up within a second of the load's end, and
# a REPEATABLE READ snapshot held open during the load (what pg_dump or a long report does)
# neither slows ingest down much nor bloats webhook_tokens. The rates are reported; the ratio
# is checked loosely (the benchmark, bench/bench-ingest --hold-snapshot, measures it).
. "$HG_SRCDIR/tests/integration/lib.sh"
. "$HG_SRCDIR/tests/integration/webhook_lib.sh"
hg_setup
if ! command -v wrk >/dev/null 2>&1; then
	printf '1..0 # SKIP wrk is not installed (Debian package wrk)\n'
	exit 0
fi
plan 11

LOAD_S=${HG_COUNTERS_LOAD_S:-6}

pg_start
hg_config
hg_migrate >/dev/null || bail_out "migrate failed"
webhook_fixtures || bail_out "fixtures failed"
read -r _ TOK_A3 < <(new_token alice a3)
read -r _ TOK_A4 < <(new_token alice a4)
hg_start || bail_out "hookgated does not start"

# wrk posts to the four tokens of alice in turn (all answered 204).
cat >"$HG_TMP/load.lua" <<'LUA'
local paths = {}
for p in string.gmatch(os.getenv("HG_PATHS"), "%S+") do paths[#paths + 1] = p end
local n = 0
wrk.method = "POST"
wrk.body = '{"text":"load"}'
wrk.headers["Content-Type"] = "application/json"
request = function()
	n = n % #paths + 1
	return wrk.format(nil, paths[n])
end
LUA
HG_PATHS="$(channel_path general "$TOK_A") $(channel_path general "$TOK_A2")"
HG_PATHS+=" $(channel_path general "$TOK_A3") $(channel_path general "$TOK_A4")"
export HG_PATHS

# load SECONDS OUT: wrk in the background; LOAD_PID.
load() {
	wrk -t 2 -c 32 -d "${1}s" -s "$HG_TMP/load.lua" "http://127.0.0.1:$HG_PORT" >"$2" 2>&1 &
	LOAD_PID=$!
}
rate() { # rate WRK_OUTPUT: requests per second, as an integer
	sed -n 's/^Requests\/sec: *\([0-9]*\).*/\1/p' "$1"
}
# folded: webhook_tokens equals token_counts (a cheap test, polled; token_counts is checked
# against the usage rows separately).
folded() {
	[[ $(pg_sql "SELECT count(*) FROM hookgate.token_counts c
		JOIN hookgate.webhook_tokens t ON t.id = c.token_id
		WHERE t.invocations <> c.invocations
		   OR t.last_invoked_at IS DISTINCT FROM c.last_invoked_at") == 0 ]]
}

# ---- exact at every moment ------------------------------------------------------------------------
load "$LOAD_S" "$HG_TMP/wrk1.out"
samples=0 exact=0 behind=0
while hg_pid_alive "$LOAD_PID"; do
	off=$(counts_off token_counts)
	samples=$((samples + 1))
	[[ $off == 0 ]] && exact=$((exact + 1))
	[[ $(pg_sql "SELECT count(*) FROM hookgate.token_counts_pending") != 0 ]] &&
		behind=$((behind + 1))
	sleep 0.2
done
wait "$LOAD_PID"
stopped=$(hg_now_ms)
diag "load: $(rate "$HG_TMP/wrk1.out") calls/s; $samples samples, $behind with counts pending"
ok "the load ran ($(rate "$HG_TMP/wrk1.out") calls/s)" test "$(rate "$HG_TMP/wrk1.out")" -gt 0
is "$exact" "$samples" "token_counts equals the usage rows in every sample taken under load"
ok "some samples saw counts not yet folded (the view added them)" test "$behind" -gt 0
ok "webhook_tokens equals token_counts within 1 s of the load's end" wait_until 1000 folded
diag "webhook_tokens caught up $(($(hg_now_ms) - stopped)) ms after the load ended"
is "$(counts_off webhook_tokens)" 0 "... and so the usage rows"
diag "token_counts_pending after the load: $(pg_sql "SELECT pg_total_relation_size(relid) || ' bytes, '
	|| n_dead_tup || ' dead, ' || coalesce(autovacuum_count, 0) || ' autovacuum(s)'
	FROM pg_stat_user_tables WHERE relid = 'hookgate.token_counts_pending'::regclass")"
is "$(pg_sql "SELECT count(*) FROM hookgate.token_counts_pending")" 0 "nothing left pending"

# ---- a snapshot held open during the load -----------------------------------------------------
table_stats() { # size and dead row versions of webhook_tokens
	pg_sql "SELECT pg_stat_force_next_flush()" >/dev/null 2>&1
	pg_sql "SELECT pg_total_relation_size('hookgate.webhook_tokens') || ' bytes, ' ||
		n_dead_tup || ' dead' FROM pg_stat_user_tables
		WHERE relid = 'hookgate.webhook_tokens'::regclass"
}
load "$LOAD_S" "$HG_TMP/free.out"
wait "$LOAD_PID"
before=$(table_stats)
mkfifo "$HG_TMP/snap.in"
psql -X -q -At -v ON_ERROR_STOP=1 <"$HG_TMP/snap.in" >"$HG_TMP/snap.out" 2>&1 &
snap_pid=$!
exec {snap_fd}>"$HG_TMP/snap.in"
printf '%s\n' "BEGIN ISOLATION LEVEL REPEATABLE READ;" \
	"SELECT 'snapshot ' || count(*) FROM hookgate.token_usage;" >&"$snap_fd"
wait_until 5000 grep -q snapshot "$HG_TMP/snap.out"
load "$LOAD_S" "$HG_TMP/held.out"
wait "$LOAD_PID"
held_stats=$(table_stats)
printf 'COMMIT;\n' >&"$snap_fd"
exec {snap_fd}>&-
wait "$snap_pid"
free=$(rate "$HG_TMP/free.out") held=$(rate "$HG_TMP/held.out")
diag "without a snapshot: $free calls/s; with one held ${LOAD_S} s: $held calls/s"
diag "webhook_tokens before: $before; at the end of the held run: $held_stats"
ok "the snapshot was held through the run" grep -q snapshot "$HG_TMP/snap.out"
ok "with a snapshot held, ingest keeps at least half its rate ($held / $free calls/s)" \
	test "$((held * 2))" -ge "$free"
dead=$(sed -n 's/.*, \([0-9]*\) dead$/\1/p' <<<"$held_stats")
ok "webhook_tokens gathers few dead row versions meanwhile (${dead:-?})" \
	test "${dead:-999999}" -lt 5000
is "$(counts_off token_counts)" 0 "token_counts still equals the usage rows"
ok "webhook_tokens equals it within 1 s" wait_until 1000 folded

hg_stop
