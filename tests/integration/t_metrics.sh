#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# GET /metrics on server.metrics_listen (docs/operations.md, "Metrics"): the page under a small
# load, with every process's counts summed; `promtool check metrics` accepts it; the totals
# survive a kill -9 of a webhook worker (the counts live in shared memory, not in the worker);
# and Debian's Prometheus scrapes it and answers hookgate_calls_total through its HTTP API.
. "$HG_SRCDIR/tests/integration/lib.sh"
. "$HG_SRCDIR/tests/integration/webhook_lib.sh"
hg_setup
plan 17

for tool in promtool prometheus; do
	command -v "$tool" >/dev/null || bail_out "$tool is missing (Debian package prometheus)"
done

pg_start
METRICS_PORT=$(hg_free_port)
hg_config '[server]' "metrics_listen = 127.0.0.1:$METRICS_PORT"
hg_migrate >/dev/null || bail_out "migrate failed"
webhook_fixtures || bail_out "fixtures failed"
hg_start || bail_out "hookgated does not start"
METRICS_URL="http://127.0.0.1:$METRICS_PORT/metrics"

scrape() { curl -s --max-time 5 "$METRICS_URL"; }
# value LINE_START: the value of the first series whose line starts with LINE_START
value() { scrape | awk -v p="$1 " 'index($0, p) == 1 { print $NF; exit }'; }
value_is() { [[ $(value "$1") == "$2" ]]; }

# ---- a small load: 40 accepted calls on 4 connections, 5 refused ----------------------------
URL="http://127.0.0.1:$HG_PORT$(channel_path general "$TOK_A")"
loaders=()
for c in 1 2 3 4; do
	(for i in $(seq 10); do
		curl -s -o /dev/null -X POST -H 'Content-Type: application/json' \
			--data-binary "{\"text\":\"load $c-$i\"}" "$URL"
	done) &
	loaders+=($!)
done
for i in 1 2 3 4 5; do
	curl -s -o /dev/null -X POST "http://127.0.0.1:$HG_PORT$(channel_path general hgt_nope)"
done
wait "${loaders[@]}"

http_get "$METRICS_URL"
is "$HTTP_STATUS" 200 "GET /metrics answers 200"
like "$HTTP_HEADERS" $'\n''[Cc]ontent-[Tt]ype: text/plain; version=0.0.4' "in text format 0.0.4"
printf '%s\n' "$HTTP_BODY" >"$HG_TMP/scrape.txt"
is "$(value 'hookgate_calls_total{module="channel",status="204"}')" 40 \
	"40 accepted channel calls, summed over both webhook workers"
is "$(value 'hookgate_refusals_total{code="token_invalid"}')" 5 "5 refusals token_invalid"
is "$(value 'hookgate_batch_size_sum')" 40 "the batches carried the 40 calls"
is "$(value 'hookgate_calls_in_flight')" 0 "no call in flight after the load"
ok "pool connections reported up" wait_until 3000 bash -c \
	"[[ \$(curl -s '$METRICS_URL' | awk '/^hookgate_pg_connections\\{state=\"up\"\\}/ {print \$2}') -ge 4 ]]"
ok "the housekeeping process's folds are counted" wait_until 3000 bash -c \
	"[[ \$(curl -s '$METRICS_URL' | awk '/^hookgate_token_folds_total / {print \$2}') -gt 0 ]]"
like "$(grep '^hookgate_build_info' "$HG_TMP/scrape.txt")" '^hookgate_build_info\{version="[^"]+"\} 1$' \
	"build info"
ok "promtool check metrics accepts the page" \
	bash -c "promtool check metrics <'$HG_TMP/scrape.txt'"

# ---- a worker killed: the totals stay ----------------------------------------------------------
victim=$(for pid in $(hg_children); do
	[[ $(proc_title "$pid") == "hookgated: webhook worker 1" ]] && echo "$pid"
done)
kill -KILL "$victim"
ok "webhook worker 1 restarted" wait_until 3000 bash -c \
	"[[ \$(curl -s '$METRICS_URL' | grep -c '^hookgate_worker_restarts_total{role=\"webhook worker\"} 1\$') == 1 ]]"
is "$(value 'hookgate_calls_total{module="channel",status="204"}')" 40 \
	"after kill -9 of a worker, the calls it counted are still there"
ok "and it counts on: 41 after one more call" bash -c \
	"curl -s -o /dev/null -X POST -H 'Content-Type: application/json' --data-binary '{\"text\":\"after\"}' '$URL' &&
	 [[ \$(curl -s '$METRICS_URL' | awk 'index(\$0, \"hookgate_calls_total{module=\\\"channel\\\",status=\\\"204\\\"} \") == 1 {print \$NF}') == 41 ]]"

# ---- Debian's Prometheus scrapes it -------------------------------------------------------------
PROM_PORT=$(hg_free_port)
cat >"$HG_TMP/prometheus.yml" <<YML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: hookgate
    static_configs:
      - targets: ['127.0.0.1:$METRICS_PORT']
YML
prometheus --config.file="$HG_TMP/prometheus.yml" --storage.tsdb.path="$HG_TMP/prom" \
	--web.listen-address="127.0.0.1:$PROM_PORT" >"$HG_TMP/prometheus.log" 2>&1 &
PROM_PID=$!
prom_query() {
	curl -s --max-time 3 "http://127.0.0.1:$PROM_PORT/api/v1/query" \
		--data-urlencode "query=$1"
}
ok "Prometheus reads hookgate_calls_total back (41) within 30 s" wait_until 30000 bash -c \
	"prom_out=\$(curl -s --max-time 3 'http://127.0.0.1:$PROM_PORT/api/v1/query' --data-urlencode 'query=sum(hookgate_calls_total{status=\"204\"})'); [[ \$prom_out == *'\"41\"'* ]]"
diag "$(prom_query 'sum(hookgate_calls_total{status="204"})')"
like "$(prom_query 'up{job="hookgate"}')" '"1"\]' "its target is up"
kill "$PROM_PID"
wait "$PROM_PID" 2>/dev/null
[[ -s $HG_TMP/prometheus.log ]] && grep -i 'level=error' "$HG_TMP/prometheus.log" | head -5 | while read -r l; do diag "$l"; done

http_get "http://127.0.0.1:$METRICS_PORT/healthz"
is "$HTTP_STATUS" 200 "/healthz on the metrics listener"
ok "hookgated stops with status 0" hg_stop
