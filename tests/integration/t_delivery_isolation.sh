#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Isolation (docs/delivery.md): 50 destinations (50 channels), of which one accepts connections
# and never answers and one refuses them (a closed port). The other 48 receive every message
# promptly while those two are stuck, and the hanging one never has more requests open at once
# than [delivery] max_inflight_per_destination (the receiver counts them).
. "$HG_SRCDIR/tests/integration/lib.sh"
. "$HG_SRCDIR/tests/integration/webhook_lib.sh"
. "$HG_SRCDIR/tests/integration/delivery_lib.sh"
delivery_deps
hg_setup
plan 6

CAP=3
pg_start
hg_config '[delivery]' 'timeout = 5s' 'connect_timeout = 1s' 'allow_networks = 127.0.0.1/32' \
	"max_inflight_per_destination = $CAP"
hg_migrate >/dev/null || bail_out "migrate failed"
webhook_fixtures || bail_out "fixtures failed"
receiver_start r
receiver_start hole blackhole
closed=$(hg_free_port) # nothing listens there
for i in $(seq -w 1 50); do
	{ hgctl channel add "c$i" && hgctl channel member add "c$i" alice; } >/dev/null ||
		bail_out "channel c$i"
	case $i in
	01) url=$(receiver_url hole "/c$i") ;;
	02) url="http://127.0.0.1:$closed/c$i" ;;
	*) url= ;;
	esac
	if [[ -n $url ]]; then
		hgctl channel endpoint set "c$i" "$url" >"$HG_TMP/set.out" || bail_out "endpoint c$i"
		sed -n 's/^secret: *\(whsec_.*\)/\1/p' "$HG_TMP/set.out" >>"$HG_TMP/.secrets"
	else
		dest_set r "/ok/c$i" channel "c$i" >/dev/null || bail_out "endpoint c$i"
	fi
done
rm -f "$HG_TMP/set.out"
hg_start || bail_out "hookgated does not start"

# Four rounds: a message to each of the 50 channels; the two stuck ones get theirs first, so
# that every round finds them busy. The 2xx time of each message goes to acks.
: >"$HG_TMP/acks"
for round in 1 2 3 4; do
	for i in $(seq -w 1 50); do
		post "$(channel_path "c$i" "$TOK_A")" "{\"text\":\"round $round\"}"
		[[ $HTTP_STATUS == 2* ]] && printf '%s %s\n' "$(msg_id)" "$(hg_now_ms)" >>"$HG_TMP/acks"
	done
done
is "$(wc -l <"$HG_TMP/acks")" 200 "200 messages acknowledged"
ok "the 48 answering destinations receive all 192" wait_recv 20000 r 192

# Latency of each delivered message: receiver arrival minus the 2xx.
recv '.[] | "\(.headers["webhook-id"] | split("_")[1]) \(.t)"' | sort >"$HG_TMP/arrivals"
join <(sort "$HG_TMP/acks") "$HG_TMP/arrivals" | awk '{print $3 - $2}' | sort -n >"$HG_TMP/lat"
p50=$(awk '{a[NR]=$1} END {print a[int(NR*0.5)+1]}' "$HG_TMP/lat")
p99=$(awk '{a[NR]=$1} END {print a[int(NR*0.99)+1]}' "$HG_TMP/lat")
worst=$(tail -n 1 "$HG_TMP/lat")
diag "latency from the 2xx to the receiver (ms): p50 $p50, p99 $p99, worst $worst"
hg_result "$((worst < 1000))" "none of the 192 waits behind the stuck destinations (worst ${worst} ms)"

# Most connections open at once, a connection counting as closed 100 ms before the receiver saw
# it close: curl closes a timed-out request's connection and may open the next one at once, and
# the receiver can take the new connection before it reads the old one's end.
max_open=$(jq -r '[.intervals[] | [.[0], 1], [((.[1] // 1e15) - 100), -1]] | sort
	| reduce .[] as $e ({n: 0, m: 0}; .n += $e[1] | .m = ([.m, .n] | max)) | .m' \
	"$HG_TMP/hole.stats")
diag "the hanging destination: at most $max_open connections open at once ($(jq -r '.max_connections' "$HG_TMP/hole.stats") as counted live)"
hg_result "$((max_open >= 1 && max_open <= CAP))" \
	"the hanging destination has at most max_inflight_per_destination ($CAP) requests open"
like "$(pg_sql "SELECT string_agg(DISTINCT error, ',') FROM hookgate.delivery_attempts a
	JOIN hookgate.destinations d ON d.id = a.destination_id WHERE d.target = 'c02'")" \
	'connect|refused|Couldn' "the closed port: failed connect attempts recorded"
is "$(recv '[.[] | select(.verified | not)] | length')" 0 "every request verified"
