# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# delivery_lib.sh: what the delivery tests share (sourced after lib.sh and webhook_lib.sh):
# receivers (tests/integration/receiver.js, which verifies every request with the Standard
# Webhooks reference library) started and stopped with the test, destinations set with
# hookgatectl and their secrets handed to the receiver, waiting for and reading deliveries,
# and the delivery tables. Receiver logs are JSON lines read with jq.
#
#   delivery_deps                      node + npm ci of package-lock.json (call before hg_setup)
#   receiver_start NAME [MODE [HOST]]  MODE http (default) or blackhole, on HOST (127.0.0.1);
#                                      sets RECV_PORT[NAME], RECV_HOST[NAME]
#   receiver_url NAME PATH             http://HOST:PORT/PATH
#   dest_set NAME PATH KIND ARG...     hgctl KIND endpoint set ARG... URL-of-PATH; the secret
#                                      goes to NAME's secrets file (never to a log)
#   dest_rotate NAME PATH KIND ARG...  hgctl KIND endpoint rotate-secret ARG...; likewise
#   recv JQ-FILTER [NAME]              the log's lines (slurped as an array) through jq -r
#   recv_count NAME [JQ-SELECT]        requests logged (matching the select expression)
#   wait_recv MS NAME N [JQ-SELECT]    until at least N such requests are logged
#   dstate MSG_ID                      delivery_state rows "destination_id|state|attempts"

declare -gA RECV_PORT RECV_PID RECV_HOST RECV_SCHEME

# Skips the whole test without node or npm (as the browser test does); installs the pinned
# standardwebhooks into the build tree, again only when the lock file changed.
delivery_deps() {
	local here=$HG_SRCDIR/tests/integration modules=$HG_BUILDDIR/tests/integration-deps
	if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
		printf '1..0 # SKIP node or npm not installed (scripts/test installs them)\n'
		exit 0
	fi
	command -v jq >/dev/null 2>&1 || bail_out "jq not installed (scripts/test installs it)"
	mkdir -p "$modules" || bail_out "cannot create $modules"
	if ! cmp -s "$here/package-lock.json" "$modules/package-lock.json" ||
		[[ ! -d $modules/node_modules/standardwebhooks ]]; then
		cp "$here/package.json" "$here/package-lock.json" "$modules/" || bail_out "cannot write $modules"
		if ! (cd "$modules" && npm ci --no-audit --no-fund --loglevel=error >npm.out 2>&1); then
			rm -f "$modules/package-lock.json"
			bail_out "npm ci of standardwebhooks failed (see $modules/npm.out)"
		fi
	fi
	export NODE_PATH=$modules/node_modules
}

# receiver_start NAME [MODE] [HOST] [CERT,KEY]: in its own process group, which lib.sh's
# cleanup kills with the daemons (HG_PGIDS); its files are $HG_TMP/NAME.{jsonl,secrets,control,
# stats}. With CERT,KEY it serves HTTPS.
receiver_start() {
	local name=$1 mode=${2:-http} host=${3:-127.0.0.1} tls=${4:-} port
	port=$(hg_free_port)
	: >"$HG_TMP/$name.jsonl"
	setsid node "$HG_SRCDIR/tests/integration/receiver.js" --port "$port" --host "$host" --mode "$mode" \
		--log "$HG_TMP/$name.jsonl" --secrets "$HG_TMP/$name.secrets" \
		--control "$HG_TMP/$name.control" --stats "$HG_TMP/$name.stats" ${tls:+--tls "$tls"} \
		</dev/null >>"$HG_TMP/$name.out" 2>&1 &
	RECV_PID[$name]=$!
	RECV_PORT[$name]=$port
	RECV_HOST[$name]=$host
	RECV_SCHEME[$name]=http${tls:+s}
	HG_PGIDS+=("$!")
	wait_until 10000 test -s "$HG_TMP/$name.stats" || bail_out "receiver $name does not start"
}

receiver_stop() {
	kill -TERM "${RECV_PID[$1]}" 2>/dev/null
	wait "${RECV_PID[$1]}" 2>/dev/null
	return 0
}

receiver_url() {
	printf '%s://%s:%s/%s\n' "${RECV_SCHEME[$1]}" "${RECV_HOST[$1]}" "${RECV_PORT[$1]}" "${2#/}"
}

# The secret hookgatectl printed: kept for the receiver and noted for lib.sh's check that no
# log holds it.
dest_keep_secret() {
	local name=$1 path=/${2#/} out=$3 secret
	secret=$(sed -n 's/^secret: *\(whsec_[A-Za-z0-9+/=]*\).*/\1/p' <<<"$out" | head -n 1)
	[[ -n $secret ]] || return 1
	printf '%s %s\n' "$path" "$secret" >>"$HG_TMP/$name.secrets"
	printf '%s\n' "$secret" >>"$HG_TMP/.secrets"
}

# dest_set NAME PATH KIND ARG...: e.g. dest_set r1 /ok/bot bot deploybot --messages
dest_set() {
	local name=$1 path=$2 kind=$3 out
	shift 3
	out=$(hgctl "$kind" endpoint set "$1" "$(receiver_url "$name" "$path")" "${@:2}") || {
		printf '%s\n' "$out"
		return 1
	}
	dest_keep_secret "$name" "$path" "$out"
}

dest_rotate() {
	local name=$1 path=$2 kind=$3 out
	shift 3
	out=$(hgctl "$kind" endpoint rotate-secret "$@") || return 1
	dest_keep_secret "$name" "$path" "$out"
}

# recv JQ-FILTER [NAME]: the whole log as one array (.[]), e.g. recv '.[-1].headers["webhook-id"]'
recv() {
	jq -r -s "$1" "$HG_TMP/${2:-r}.jsonl"
}

recv_count() {
	recv "[.[] | select(${2:-true})] | length" "$1"
}

wait_recv_n() {
	(($(recv_count "$1" "$3") >= $2))
}

# wait_recv MS NAME N [JQ-SELECT]
wait_recv() {
	wait_until "$1" wait_recv_n "$2" "$3" "${4:-true}"
}

dstate() {
	pg_sql "SELECT destination_id, state, attempts FROM hookgate.delivery_state($1) ORDER BY 1"
}

dest_id() { # dest_id MODULE TARGET
	pg_sql "SELECT id FROM hookgate.destinations WHERE module = '$1' AND target = '$2'"
}
