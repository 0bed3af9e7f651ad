# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# lib.sh: what every integration test shares — TAP output, a throwaway PostgreSQL cluster,
# a hookgate.conf on free ports, the real hookgated started and stopped, and a cleanup that
# runs whatever happens. docs/testing.md describes every function and how to add a test.
#
# Sourced by tests/integration/t_*.sh with HG_SRCDIR and HG_BUILDDIR exported (make check does
# it). Everything a test writes goes under $HG_TMP; HG_KEEP_TMP=1 keeps that directory. The
# benchmarks (bench/lib.sh) source it too, for its ports, processes, PostgreSQL and hookgated,
# with HG_PG_DURABLE=1 and HG_SQL_DIR (see pg_tmp and hgctl).
#
# Beyond the agreed API, tests may use: bail_out MSG, hg_now_ms, wait_until MS CMD...,
# hg_pid_alive PID, hg_children [PID], proc_title PID, http_get URL [curl args...]
# (sets HTTP_STATUS HTTP_BODY HTTP_HEADERS HTTP_MS), pg_pids, pg_signal_all SIG,
# hg_note_secrets TEXT (the cleanup fails when a token or appkey noted reaches a log).
# The harness API, and how to add a test: docs/testing.md.

: "${HG_SRCDIR:?HG_SRCDIR must be set (make check sets it)}"
: "${HG_BUILDDIR:?HG_BUILDDIR must be set (make check sets it)}"

HG_TEST_COUNT=0
HG_TEST_FAILED=0
HG_PLAN=
HG_PGIDS=()
HG_PG_STARTED=0
HG_USED_PORTS=" "

# ---- TAP -------------------------------------------------------------------------------------

diag() {
	local line
	while IFS= read -r line; do
		printf '# %s\n' "$line"
	done <<<"$*"
}

plan() {
	HG_PLAN=$1
	printf '1..%s\n' "$1"
}

hg_result() {
	local passed=$1 desc=$2
	HG_TEST_COUNT=$((HG_TEST_COUNT + 1))
	if [[ $passed == 1 ]]; then
		printf 'ok %d - %s\n' "$HG_TEST_COUNT" "$desc"
		return 0
	fi
	HG_TEST_FAILED=$((HG_TEST_FAILED + 1))
	printf 'not ok %d - %s\n' "$HG_TEST_COUNT" "$desc"
	return 1
}

# ok DESC CMD...: runs CMD in this shell (so that it may set variables, e.g. hg_start's HG_PID).
ok() {
	local desc=$1 out=$HG_TMP/.ok.out rc=0
	shift
	"$@" >"$out" 2>&1 || rc=$?
	if hg_result "$((rc == 0))" "$desc"; then
		return 0
	fi
	diag "command: $* (exit status $rc)"
	[[ -s $out ]] && diag "$(tail -n 40 "$out")"
	return 1
}

is() {
	if [[ $1 == "$2" ]]; then
		hg_result 1 "$3"
		return
	fi
	hg_result 0 "$3"
	diag "     got: '$1'"
	diag "expected: '$2'"
	return 1
}

like() {
	if [[ $1 =~ $2 ]]; then
		hg_result 1 "$3"
		return
	fi
	hg_result 0 "$3"
	diag "     got: '$1'"
	diag "expected to match: $2"
	return 1
}

bail_out() {
	printf 'Bail out! %s\n' "$*"
	exit 1
}

# ---- time and processes ----------------------------------------------------------------------

hg_now_ms() {
	local t=${EPOCHREALTIME//[.,]/}
	printf '%s\n' "$((t / 1000))"
}

# wait_until MS CMD...: polls CMD every 50 ms until it succeeds (0) or MS have passed (1).
wait_until() {
	local limit=$1 start
	shift
	start=$(hg_now_ms)
	while true; do
		"$@" && return 0
		(($(hg_now_ms) - start >= limit)) && return 1
		sleep 0.05
	done
}

# A process that exists and is not a zombie.
hg_pid_alive() {
	local stat
	{ read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
	stat=${stat##*) }
	[[ ${stat%% *} != Z ]]
}

# hg_children [PID]: the live (non-zombie) children of PID (default $HG_PID), one pid a line.
# Reads /proc with the shell's read, not a cat per process: tests poll this (a replaced worker,
# a drained one), and forking for each of a hundred processes made every poll take ~0.3 s.
hg_children() {
	local parent=${1:-$HG_PID} f stat state ppid
	for f in /proc/[0-9]*/stat; do
		{ read -r stat <"$f"; } 2>/dev/null || continue
		stat=${stat##*) }
		state=${stat%% *}
		stat=${stat#* }
		ppid=${stat%% *}
		if [[ $ppid == "$parent" && $state != Z ]]; then
			f=${f#/proc/}
			printf '%s\n' "${f%/stat}"
		fi
	done
}

# The process title as ps shows it: argv joined by spaces, trailing padding removed.
proc_title() {
	local t
	t=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) || return 1
	t=${t%"${t##*[! ]}"}
	printf '%s\n' "$t"
}

# ---- free ports --------------------------------------------------------------------------------

hg_port_is_free() {
	! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

hg_free_port() {
	local port i
	for ((i = 0; i < 200; i++)); do
		port=$((20000 + (RANDOM * 32768 + RANDOM) % 12000)) # below the ephemeral range (32768+)
		[[ $HG_USED_PORTS == *" $port "* ]] && continue
		if hg_port_is_free "$port"; then
			HG_USED_PORTS+="$port "
			printf '%s\n' "$port"
			return 0
		fi
	done
	bail_out "no free TCP port on 127.0.0.1"
}

# ---- setup and cleanup -------------------------------------------------------------------------

hg_setup() {
	HG_TMP=$(mktemp -d "${TMPDIR:-/tmp}/hookgate-test.XXXXXX") || bail_out "mktemp failed"
	# The cluster may run as an unprivileged user (pg-tmp as root): it must reach $HG_TMP/pg.
	chmod 755 "$HG_TMP"
	export HG_TMP
	trap hg_cleanup EXIT
	trap 'exit 129' HUP
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

hg_pid_dead() {
	! hg_pid_alive "$1"
}

# TERM each hookgated we started, then KILL its whole process group (workers included, even
# those orphaned by a killed master). Each step may find nothing left to signal; under set -e
# (the benchmarks) that must not end the loop.
hg_kill_daemons() {
	local pgid
	for pgid in "${HG_PGIDS[@]}"; do
		if hg_pid_alive "$pgid"; then
			kill -TERM "$pgid" 2>/dev/null || true
			wait_until 5000 hg_pid_dead "$pgid" || true
		fi
		kill -KILL -- "-$pgid" 2>/dev/null || true
		wait "$pgid" 2>/dev/null || true
	done
	HG_PGIDS=()
}

# ASan/UBSan reports from the daemon's processes end up in its log: they fail the test.
hg_check_sanitizers() {
	local log=$HG_TMP/hookgated.log
	[[ -f $log ]] || return 0
	grep -qE 'Sanitizer|runtime error:' "$log" || return 0
	diag "sanitizer report in $log:"
	diag "$(grep -E -A 30 'Sanitizer|runtime error:' "$log" | head -n 120)"
	return 1
}

# ---- secrets: no token or appkey a test made may reach a log --------------------------------------

HG_SECRET_RE='hgt_[0-9A-Za-z]{33}|hga_[0-9A-Za-z]{32}'

# hg_note_secrets TEXT: remembers the tokens and appkeys in TEXT (hgctl's output and every
# http_get answer pass through here), for hg_check_secrets.
hg_note_secrets() {
	[[ $1 == *hg[at]_* && -n ${HG_TMP:-} ]] || return 0
	grep -oE "$HG_SECRET_RE" <<<"$1" >>"$HG_TMP/.secrets" || true
}

# Fails when a log under $HG_TMP holds a token or appkey noted above, or a token's part after
# "hgt_" (hookgated recognises both forms and redacts them).
hg_check_secrets() {
	local logs=() hits
	[[ -s $HG_TMP/.secrets ]] || return 0
	shopt -s nullglob
	logs=("$HG_TMP"/*.log)
	shopt -u nullglob
	((${#logs[@]})) || return 0
	sort -u "$HG_TMP/.secrets" | sed 's/^hgt_//' >"$HG_TMP/.secrets.fixed"
	hits=$(grep -F -n -f "$HG_TMP/.secrets.fixed" "${logs[@]}" | head -n 5)
	[[ -n $hits ]] || return 0
	diag "a token or appkey made by this test is in a log:"
	diag "$hits"
	return 1
}

hg_cleanup() {
	local rc=$? bad=0
	trap - EXIT
	# A test that stopped PostgreSQL with SIGSTOP may have failed before SIGCONT.
	[[ $HG_PG_STARTED == 1 ]] && pg_signal_all CONT
	hg_kill_daemons
	if [[ $HG_PG_STARTED == 1 ]]; then
		bash "$HG_SRCDIR/scripts/pg-tmp" stop "$HG_TMP/pg" >/dev/null 2>&1 ||
			diag "could not stop PostgreSQL in $HG_TMP/pg"
	fi
	if ! hg_check_sanitizers; then
		printf 'Bail out! sanitizer report in hookgated.log\n'
		bad=1
	fi
	if ! hg_check_secrets; then
		printf 'Bail out! a token or appkey in a log\n'
		bad=1
	fi
	if [[ -n $HG_PLAN && $HG_TEST_COUNT != "$HG_PLAN" ]]; then
		diag "planned $HG_PLAN tests but ran $HG_TEST_COUNT"
		bad=1
	fi
	((HG_TEST_FAILED > 0)) && bad=1
	if ((bad || rc)) && [[ -s $HG_TMP/hookgated.log ]]; then
		diag "last lines of hookgated.log:"
		diag "$(tail -n 40 "$HG_TMP/hookgated.log")"
	fi
	if [[ ${HG_KEEP_TMP:-0} == 1 ]]; then
		diag "kept $HG_TMP"
	else
		rm -rf "$HG_TMP"
	fi
	((bad)) && rc=1
	exit "$rc"
}

# ---- PostgreSQL ----------------------------------------------------------------------------------

hg_export_pg() {
	PGPORT=$(cat "$HG_TMP/pg/port")
	export PGHOST=127.0.0.1 PGPORT PGUSER=hookgate PGDATABASE=hookgate PGCONNECT_TIMEOUT=5
	HG_CONNINFO="host=127.0.0.1 port=$PGPORT dbname=hookgate user=hookgate"
	export HG_CONNINFO
	unset PGSERVICE PGPASSWORD PGOPTIONS
}

# pg_tmp ARGS...: scripts/pg-tmp; with fsync off (PGTMP_FAST) for the tests, durable when
# HG_PG_DURABLE=1, as the benchmarks need: a 2xx promises that the call is on disk.
pg_tmp() {
	if [[ ${HG_PG_DURABLE:-0} == 1 ]]; then
		env -u PGTMP_FAST bash "$HG_SRCDIR/scripts/pg-tmp" "$@"
	else
		PGTMP_FAST=1 bash "$HG_SRCDIR/scripts/pg-tmp" "$@"
	fi
}

pg_start() {
	local out
	HG_PG_STARTED=1
	if ! out=$(pg_tmp start "$HG_TMP/pg" 2>&1); then
		diag "$out"
		bail_out "cannot start PostgreSQL"
	fi
	hg_export_pg
	HG_USED_PORTS+="$PGPORT "
}

pg_stop() {
	pg_tmp stop "$HG_TMP/pg"
}

pg_start_again() {
	pg_tmp start "$HG_TMP/pg" "$PGPORT" >/dev/null
}

pg_sql() {
	psql -X -q -At -v ON_ERROR_STOP=1 -c "$1"
}

# The postmaster and all its children.
pg_pids() {
	local pm
	[[ -f $HG_TMP/pg/data/postmaster.pid ]] || return 0
	pm=$(head -n 1 "$HG_TMP/pg/data/postmaster.pid")
	hg_pid_alive "$pm" || return 0
	printf '%s\n' "$pm"
	hg_children "$pm"
}

pg_signal_all() {
	local pid
	for pid in $(pg_pids); do
		kill "-$1" "$pid" 2>/dev/null
	done
	return 0
}

# ---- hot standbys (t_failover.sh, t_read_replica.sh) ---------------------------------------------

# pg_bindir: the newest installed PostgreSQL's programs (pg_basebackup, pg_ctl).
pg_bindir() {
	printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1
}

# as_pg_owner CMD...: as the unprivileged owner scripts/pg-tmp runs the clusters as when we are
# root.
as_pg_owner() {
	if [[ $EUID -ne 0 ]]; then
		"$@"
	else
		runuser -u "${PGTMP_USER:-nobody}" -- "$@"
	fi
}

# standby_make DIR NAME FROM_PORT: a hot standby of the cluster on FROM_PORT, in DIR, streaming
# through replication slot NAME and known to its primary as NAME (application_name), started on
# a free port (in DIR/port). DIR is $HG_TMP/pgN, for pg_standbys_stop.
standby_make() {
	local dir=$1 name=$2 from=$3
	mkdir -p "$dir" && chown "${PGTMP_USER:-nobody}:" "$dir" 2>/dev/null
	as_pg_owner "$(pg_bindir)/pg_basebackup" -D "$dir/data" -R -C -S "$name" -X stream \
		-c fast -d "host=127.0.0.1 port=$from user=hookgate application_name=$name" \
		>"$dir/basebackup.log" 2>&1 || return 1
	pg_tmp start "$dir" >/dev/null || return 1
	PGPORT=$from wait_until 10000 eval "[[ \$(pg_sql \"SELECT count(*) FROM pg_stat_replication
		WHERE application_name = '$name' AND state = 'streaming'\") == 1 ]]"
}

# pg_at PORT SQL: a statement on one cluster.
pg_at() {
	PGPORT=$1 pg_sql "$2"
}

# pg_standbys_stop: stops the clusters of standby_make still running; for a test's EXIT trap,
# before hg_cleanup (which knows only $HG_TMP/pg).
pg_standbys_stop() {
	local dir
	for dir in "$HG_TMP"/pg[0-9]; do
		[[ -f $dir/data/postmaster.pid ]] && pg_tmp stop "$dir" >/dev/null 2>&1
	done
	return 0
}

# counts_off TABLE: tokens whose counters in TABLE (token_counts, or webhook_tokens once folded)
# differ from their usage rows of active-time calls (count and latest time): one statement, so
# one snapshot of both.
counts_off() {
	local id=token_id
	[[ $1 == webhook_tokens ]] && id=id
	pg_sql "SELECT count(*) FROM hookgate.$1 t
	WHERE t.invocations <> (SELECT count(*) FROM hookgate.token_usage u
				WHERE u.token_id = t.$id AND u.http_status <> 401)
	   OR t.last_invoked_at IS DISTINCT FROM (SELECT max(at) FROM hookgate.token_usage u
				WHERE u.token_id = t.$id AND u.http_status <> 401)"
}

# ---- hookgate ------------------------------------------------------------------------------------

# hg_config [LINE...]: a config on two new free ports. A key that LINE sets replaces the default,
# since the parser refuses a key given twice.
hg_config() {
	local line section='' overrides=" " conf=$HG_TMP/hookgate.conf
	for line in "$@"; do
		if [[ $line =~ ^[[:space:]]*\[([a-z_]+)\] ]]; then
			section=${BASH_REMATCH[1]}
		elif [[ $line =~ ^[[:space:]]*([a-z_]+)[[:space:]]*= ]]; then
			overrides+="$section.${BASH_REMATCH[1]} "
		fi
	done
	HG_PORT=$(hg_free_port)
	HG_ADMIN_PORT=$(hg_free_port)
	export HG_PORT HG_ADMIN_PORT
	if [[ ! -f $HG_TMP/secret.key ]]; then
		"$HG_BUILDDIR/hookgatectl" keygen "$HG_TMP/secret.key" >/dev/null ||
			bail_out "hookgatectl keygen failed"
	fi
	if [[ -z ${HG_CONNINFO:-} && $overrides != *" database.conninfo "* ]]; then
		bail_out "hg_config: call pg_start first (or set database.conninfo)"
	fi
	{
		printf '# written by tests/integration/lib.sh\n'
		hg_config_section server "$overrides" \
			"listen=127.0.0.1:$HG_PORT" "admin_listen=127.0.0.1:$HG_ADMIN_PORT" \
			"public_url=http://127.0.0.1:$HG_PORT" "workers=2"
		hg_config_section database "$overrides" "conninfo=${HG_CONNINFO:-}"
		hg_config_section security "$overrides" "secret_key_file=$HG_TMP/secret.key"
		hg_config_section log "$overrides" "level=debug"
		printf '%s\n' "$@"
	} >"$conf"
	HG_CONF=$conf
	export HG_CONF
}

hg_config_section() {
	local section=$1 kv
	local skip=$2
	shift 2
	printf '[%s]\n' "$section"
	for kv in "$@"; do
		[[ $skip == *" $section.${kv%%=*} "* ]] && continue
		printf '%s = %s\n' "${kv%%=*}" "${kv#*=}"
	done
}

# hgctl ARGS...: hookgatectl with this test's config and the migrations of HG_SQL_DIR (default:
# the source tree's); the tokens and appkeys it prints are noted (see hg_check_secrets).
hgctl() {
	local out rc=0
	out=$(HOOKGATE_SQL_DIR="${HG_SQL_DIR:-$HG_SRCDIR/sql}" "$HG_BUILDDIR/hookgatectl" \
		-c "$HG_TMP/hookgate.conf" "$@") || rc=$?
	hg_note_secrets "$out"
	[[ -n $out ]] && printf '%s\n' "$out"
	return "$rc"
}

hg_migrate() {
	hgctl migrate
}

http_status() {
	local url=$1
	shift
	curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@" "$url" || true
}

# http_get URL [curl args...]: sets HTTP_STATUS, HTTP_BODY, HTTP_HEADERS and HTTP_MS.
# shellcheck disable=SC2034 # the HTTP_* variables are for the caller
http_get() {
	local url=$1 start
	shift
	start=$(hg_now_ms)
	HTTP_STATUS=$(curl -s -D "$HG_TMP/.http.hdr" -o "$HG_TMP/.http.body" -w '%{http_code}' \
		--max-time 5 "$@" "$url") || true
	HTTP_MS=$(($(hg_now_ms) - start))
	HTTP_BODY=$(cat "$HG_TMP/.http.body" 2>/dev/null)
	hg_note_secrets "$HTTP_BODY"
	HTTP_HEADERS=$(tr -d '\r' <"$HG_TMP/.http.hdr" 2>/dev/null)
	rm -f "$HG_TMP/.http.body" "$HG_TMP/.http.hdr"
}

hg_healthz_ok() {
	[[ $(http_status "http://127.0.0.1:$HG_PORT/healthz" --max-time 1) == 200 ]]
}

# hg_start [CONF]: hookgated in the foreground in its own process group (so that cleanup can
# kill it with all its children), then wait for /healthz to answer 200.
hg_start() {
	local conf=${1:-$HG_TMP/hookgate.conf} start
	setsid "$HG_BUILDDIR/hookgated" -c "$conf" --foreground \
		</dev/null >>"$HG_TMP/hookgated.log" 2>&1 &
	HG_PID=$!
	export HG_PID
	HG_PGIDS+=("$HG_PID")
	start=$(hg_now_ms)
	while (($(hg_now_ms) - start < 10000)); do
		if ! hg_pid_alive "$HG_PID"; then
			wait "$HG_PID"
			diag "hookgated exited with status $? during start-up; its log:"
			diag "$(tail -n 40 "$HG_TMP/hookgated.log")"
			return 1
		fi
		hg_healthz_ok && return 0
		sleep 0.1
	done
	diag "hookgated (pid $HG_PID) did not answer GET /healthz with 200 within 10 s; its log:"
	diag "$(tail -n 40 "$HG_TMP/hookgated.log")"
	return 1
}

# hg_stop: SIGTERM, wait (killing it after 20 s), return hookgated's exit status. Its process
# group stays in HG_PGIDS so that cleanup still kills any worker left behind.
hg_stop() {
	local pid=$HG_PID
	kill -TERM "$pid" 2>/dev/null
	if ! wait_until 20000 hg_pid_dead "$pid"; then
		diag "hookgated (pid $pid) still running 20 s after SIGTERM; killing it"
		kill -KILL -- "-$pid" 2>/dev/null
	fi
	wait "$pid"
}
