# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# bench/lib.sh: what the benchmarks (bench-ingest, bench-delivery, bench-batch) share. Free
# ports, processes, the throwaway PostgreSQL, hookgated and hookgatectl are
# tests/integration/lib.sh's, sourced here; the benchmarks' PostgreSQL is durable
# (HG_PG_DURABLE), since every 2xx they count waits for a flush. Added here: the common
# options, the packages and the build to measure, its migrations, a temporary directory, the
# users and tokens the load is spread over, nginx, and the small arithmetic of the reports.
#
# Sourced with TOP (the source tree) and BUILD (the default build) set; the sourcing script
# defines die (and, for bench_install and bench_build, sources scripts/test for say and
# ensure_packages).

HG_SRCDIR=$TOP
HG_BUILDDIR=$BUILD
# shellcheck source=tests/integration/lib.sh
. "$TOP/tests/integration/lib.sh"
HG_PG_DURABLE=1

# bench_sql_dir_of BUILD: the migrations of the source tree BUILD was configured from
# (abs_top_srcdir in its Makefile), so that a build of another checkout gets its own schema.
bench_sql_dir_of() {
	local src
	src=$(sed -n 's/^abs_top_srcdir = //p' "$1/Makefile" 2>/dev/null || true)
	[[ -n $src && -d $src/sql ]] || src=$TOP
	realpath "$src/sql"
}

# bench_use_build BUILD: hgctl and hg_start take BUILD's binaries and migrations from now on.
bench_use_build() {
	HG_BUILDDIR=$1
	HG_SQL_DIR=$(bench_sql_dir_of "$1")
	export HG_BUILDDIR HG_SQL_DIR
}

# bench_tmp NAME: a new HG_TMP, hookgate-NAME.XXXXXX under TMPDIR; the cluster runs as an
# unprivileged user when we are root (pg-tmp), and must reach HG_TMP/pg.
bench_tmp() {
	HG_TMP=$(mktemp -d "${TMPDIR:-/tmp}/hookgate-$1.XXXXXX") || die "mktemp failed"
	chmod 755 "$HG_TMP"
	export HG_TMP
}

# bench_user_add LOGIN: a user nobody logs in as (the password only has to exist).
bench_user_add() {
	head -c 24 /dev/urandom | base64 | tr '+/' 'xy' |
		hgctl user add "$1" >/dev/null || die "user add $1 failed"
}

# bench_token_new LOGIN NAME: prints the secret of a new token of LOGIN.
bench_token_new() {
	local out secret
	out=$(hgctl --json token create "$1" --name "$2") || die "token create for $1 failed"
	secret=$(grep -o '"secret": *"[^"]*"' <<<"$out" | sed 's/.*"\([^"]*\)"$/\1/' || true)
	[[ $secret == hgt_* ]] || die "token create printed no secret"
	printf '%s\n' "$secret"
}

# bench_provision USERS TOKENS [SECRETS-FILE]: channel "bench", and users bench01, bench02, …
# each a member of it with TOKENS tokens (at most five, the per-user limit), whose secrets are
# appended to SECRETS-FILE when given.
bench_provision() {
	local users=$1 tokens=$2 file=${3:-/dev/null} u t login
	hgctl channel add bench --title Bench >/dev/null || die "channel add failed"
	for ((u = 1; u <= users; u++)); do
		login=$(printf 'bench%02d' "$u")
		bench_user_add "$login"
		hgctl channel member add bench "$login" >/dev/null || die "member add $login failed"
		for ((t = 1; t <= tokens; t++)); do
			bench_token_new "$login" "bench $t" >>"$file"
		done
	done
}

# ---- options, packages, build --------------------------------------------------------------

# bench_common_option ARGS...: takes the options every benchmark shares off the front of ARGS
# (--duration S, --rounds N, --quick, --keep, --builddir DIR, --no-build) into DURATION,
# ROUNDS, WARMUP, KEEP, BUILD, DO_BUILD; BENCH_SHIFT says how many words it used. Returns 1
# for any other option (the caller's own, or usage), 2 when a value is missing.
# shellcheck disable=SC2034 # the variables are the sourcing script's
bench_common_option() {
	BENCH_SHIFT=1
	case $1 in
	--duration | --rounds | --builddir)
		(($# >= 2)) || return 2
		BENCH_SHIFT=2
		;;
	esac
	case $1 in
	--duration)
		[[ $2 =~ ^[1-9][0-9]*$ ]] || die "--duration takes whole seconds"
		DURATION=$2
		;;
	--rounds)
		[[ $2 =~ ^[1-9][0-9]*$ ]] || die "--rounds takes a positive number"
		ROUNDS=$2
		;;
	--quick) DURATION=5 ROUNDS=1 WARMUP=1 ;;
	--keep) KEEP=1 ;;
	--builddir) BUILD=$(realpath -m "$2") ;;
	--no-build) DO_BUILD=0 ;;
	*) return 1 ;;
	esac
}

have_nginx() {
	command -v nginx >/dev/null 2>&1 || [[ -x /usr/sbin/nginx ]]
}

# bench_install COMMAND...: scripts/test's build packages plus wrk and nginx, and those in
# BENCH_PACKAGES; then each COMMAND must be found. nginx-light is enough (no module is needed
# beyond `return` and the access log); any installed nginx will do.
bench_install() {
	local cmd
	PACKAGES+=(wrk "${BENCH_PACKAGES[@]}")
	have_nginx || PACKAGES+=(nginx-light)
	ensure_packages
	PATH=$PATH:/usr/sbin:/sbin
	for cmd in wrk nginx psql curl "$@"; do
		command -v "$cmd" >/dev/null 2>&1 || die "$cmd is missing (see the list above)"
	done
}

# bench_build: hookgated and hookgatectl in BUILD (autogen and configure first when needed);
# with DO_BUILD=0 only checks that they are there.
bench_build() {
	if ((DO_BUILD == 0)); then
		[[ -x $BUILD/hookgated && -x $BUILD/hookgatectl ]] ||
			die "--no-build: no hookgated and hookgatectl in $BUILD"
		return 0
	fi
	if [[ ! -x $TOP/configure || $TOP/configure.ac -nt $TOP/configure ||
		$TOP/Makefile.am -nt $TOP/Makefile.in ]]; then
		say "autogen"
		(cd "$TOP" && ./autogen.sh)
	fi
	if [[ ! -f $BUILD/Makefile ]]; then
		say "configure (in $BUILD)"
		mkdir -p "$BUILD" || die "cannot create $BUILD"
		(cd "$BUILD" && "$TOP/configure" >configure.out) ||
			die "configure failed; see $BUILD/config.log"
	fi
	say "make hookgated hookgatectl (in $BUILD)"
	make -C "$BUILD" -j"$(nproc 2>/dev/null || echo 2)" hookgated hookgatectl >/dev/null ||
		die "the build failed; run 'make -C $BUILD' to see why"
}

# Numbers from a sanitizer or -O0 build say nothing about the product: say so up front.
check_build_flags() {
	local flags
	[[ -f $BUILD/Makefile ]] || return 0
	flags=$(sed -n 's/^\(HG_CFLAGS\|CFLAGS\) = //p' "$BUILD/Makefile" | tr '\n' ' ')
	if [[ $flags == *-fsanitize* ]]; then
		say "WARNING: $BUILD is a sanitizer build; its numbers are not the product's"
	fi
	if [[ $flags == *-O0* || $flags != *-O[123s]* ]]; then
		say "WARNING: $BUILD is not built with optimisation (CFLAGS: $flags)"
	fi
}

# ---- processes -----------------------------------------------------------------------------

# bench_stop_all NAME: what every benchmark's EXIT trap does last, whatever fails on the way:
# stop wrk (WRK_JOB, with its children), hookgated and the other daemons in HG_PGIDS (each
# leads a process group: TERM, then KILL what is left), PostgreSQL, and remove BENCH_TMP
# (--keep keeps it).
bench_stop_all() {
	local pid
	set +e
	if [[ -n ${WRK_JOB:-} ]]; then
		for pid in $(cat "/proc/$WRK_JOB/task/$WRK_JOB/children" 2>/dev/null) "$WRK_JOB"; do
			kill -TERM "$pid" 2>/dev/null || true
		done
		wait "$WRK_JOB" 2>/dev/null || true
	fi
	hg_kill_daemons
	if ((HG_PG_STARTED)); then
		pg_stop >/dev/null 2>&1 ||
			printf '%s: could not stop PostgreSQL in %s\n' "$1" "$BENCH_TMP/pg" >&2
	fi
	if [[ -n $BENCH_TMP && -d $BENCH_TMP ]]; then
		if ((KEEP)); then
			say "kept $BENCH_TMP"
		else
			rm -rf "$BENCH_TMP"
		fi
	fi
}

# http_is STATUS URL [curl args...]: the answer's status is STATUS (for wait_until).
http_is() {
	local want=$1
	shift
	[[ $(http_status "$@" --max-time 1) == "$want" ]]
}

# bench_start_nginx TEMPLATE PATH: nginx from bench/TEMPLATE (@DIR@, @PORT@ and @PATH@ filled
# in) on a free port, in NGINX_DIR (BENCH_TMP/nginx), leading its own process group; returns
# once a POST to PATH answers 204. Sets NGINX_PORT and NGINX_PID.
bench_start_nginx() {
	NGINX_DIR=$BENCH_TMP/nginx
	NGINX_PORT=$(hg_free_port)
	mkdir -p "$NGINX_DIR"
	sed -e "s|@DIR@|$NGINX_DIR|g" -e "s|@PORT@|$NGINX_PORT|g" -e "s|@PATH@|$2|g" \
		"$TOP/bench/$1" >"$NGINX_DIR/nginx.conf"
	setsid nginx -e "$NGINX_DIR/error.log" -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf" \
		</dev/null >>"$NGINX_DIR/nginx.out" 2>&1 &
	NGINX_PID=$!
	HG_PGIDS+=("$NGINX_PID")
	if ! wait_until 10000 http_is 204 "http://127.0.0.1:$NGINX_PORT$2?zapikey=x" \
		-X POST -H 'Content-Type: application/json' -d '{"text":"ping"}'; then
		cat "$NGINX_DIR/nginx.out" "$NGINX_DIR/error.log" >&2 2>/dev/null || true
		die "nginx did not answer 204 within 10 s"
	fi
	say "nginx $(nginx -v 2>&1 | sed 's|.*/||') on 127.0.0.1:$NGINX_PORT (return 204)"
}

# ---- PostgreSQL ----------------------------------------------------------------------------

# bench_start_postgres: the durable throwaway cluster, sized for a sustained write load; with
# PG_STATS=1 pg_stat_statements too. PG_SETTINGS: the settings that matter, for the report.
bench_start_postgres() {
	pg_start
	# The defaults force a checkpoint for every 1 GB of WAL (about a minute of this load), and
	# each one is a burst of writes that stalls the WAL flushes every 2xx waits for. Production
	# servers taking such a load raise these. shared_buffers stays at its default: 1 GB made no
	# difference to throughput here. Durability is untouched: fsync, synchronous_commit and
	# full_page_writes stay on (checked below).
	pg_sql "ALTER SYSTEM SET max_wal_size = '8GB'" >/dev/null
	pg_sql "ALTER SYSTEM SET checkpoint_timeout = '30min'" >/dev/null
	if ((${PG_STATS:-0})); then
		pg_sql "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'" >/dev/null
		pg_sql "ALTER SYSTEM SET track_wal_io_timing = on" >/dev/null
	fi
	pg_stop >/dev/null
	pg_start_again || die "PostgreSQL did not start again"
	if ((${PG_STATS:-0})); then
		pg_sql "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null
	fi
	PG_SETTINGS=$(pg_sql "SELECT string_agg(name || '=' || setting, ' ' ORDER BY name)
		FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes',
		'wal_sync_method', 'shared_buffers', 'max_wal_size', 'checkpoint_timeout',
		'server_version')")
	[[ $PG_SETTINGS == *fsync=on* && $PG_SETTINGS == *synchronous_commit=on* &&
		$PG_SETTINGS == *full_page_writes=on* ]] ||
		die "PostgreSQL is not durable ($PG_SETTINGS)"
	say "PostgreSQL on 127.0.0.1:$PGPORT: $PG_SETTINGS"
}

postmaster_pid() {
	head -n 1 "$BENCH_TMP/pg/data/postmaster.pid" 2>/dev/null
}

# ---- the report ----------------------------------------------------------------------------

report_machine() {
	local cpu
	cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
	printf 'machine: %s CPUs (%s), kernel %s; %s\n' "$(nproc)" "$cpu" "$(uname -r)" \
		"$(wrk -v 2>&1 | head -n 1 | sed 's/ \[.*//')"
	# Anything else running shares the two CPUs with the runs: say so next to the numbers.
	printf 'load average before the runs: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
}

RESULT_LINES=()
# check TEXT CMD...: a PASS line when CMD succeeds, else a FAIL line.
check() {
	local text=$1
	shift
	if "$@"; then
		RESULT_LINES+=("PASS  $text")
	else
		RESULT_LINES+=("FAIL  $text")
	fi
}

ms() {
	awk -v us="$1" 'BEGIN { printf "%.2f", us / 1000 }'
}

# median NUMBER...: the middle value (the mean of the two middle ones for an even count).
median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
		END {
			if (NR % 2) print v[(NR + 1) / 2]
			else print (v[NR / 2] + v[NR / 2 + 1]) / 2
		}'
}

# ratio A B: A / B with two decimals ("n/a" when B is 0).
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "n/a"; else printf "%.2f", a / b }'
}

# ge A B: exit 0 when the number A >= B.
ge() {
	awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'
}

# at_least A F B: exit 0 when A >= F x B and B > 0 (a ratio to nothing proves nothing).
at_least() {
	awk -v a="$1" -v f="$2" -v b="$3" 'BEGIN { exit !(b > 0 && a >= f * b) }'
}

# at_most A F B: exit 0 when A <= F x B, both numbers ("-", no measurement, is no pass).
at_most() {
	[[ $1 != - && $3 != - ]] && awk -v a="$1" -v f="$2" -v b="$3" 'BEGIN { exit !(a <= f * b) }'
}

# rss_ok KIB: at most 32 MiB; no worker found (0: hookgated gone) is no pass.
rss_ok() {
	(($1 > 0 && $1 <= 32768))
}

# bench_vmhwm PID: "VmRSS VmHWM" of PID in KiB (nothing when it is gone).
bench_vmhwm() {
	awk '/^VmRSS:/ { r = $2 } /^VmHWM:/ { h = $2 } END { if (h) print r, h }' \
		"/proc/$1/status" 2>/dev/null || true
}

# ---- a snapshot held during the load (--hold-snapshot) -------------------------------------
# The sourcing script defines BENCH_TMP and the variables HOLD_JOB and HOLD_FD (for its cleanup).

HOLD_APP=hookgate-bench-snapshot
HOLD_OPENED=
HELD_S=
declare -A HOLD_INFO

# open_snapshot: start a session that holds a REPEATABLE READ snapshot, as pg_dump does, and
# return once it holds it. psql reads the session's statements from a FIFO, so that the
# transaction ends the moment close_snapshot says so: a pg_sleep(S) would drift from the run
# by psql's and wrk's start-up times.
open_snapshot() {
	local fifo=$BENCH_TMP/snapshot.fifo i state
	rm -f "$fifo"
	mkfifo "$fifo" || die "mkfifo $fifo failed"
	PGAPPNAME=$HOLD_APP psql -X -q -v ON_ERROR_STOP=1 -f "$fifo" \
		>>"$BENCH_TMP/snapshot.out" 2>&1 &
	HOLD_JOB=$!
	# Read-write, so that the open cannot block: psql opens the FIFO only once connected.
	exec {HOLD_FD}<>"$fifo"
	HOLD_OPENED=$EPOCHREALTIME
	# The count reads the largest table, as a dump does, and takes the transaction's snapshot.
	printf 'BEGIN ISOLATION LEVEL REPEATABLE READ;\nSELECT count(*) FROM hookgate.token_usage;\n' \
		>&"$HOLD_FD"
	for ((i = 0; i < 600; i++)); do
		state=$(pg_sql "SELECT state FROM pg_stat_activity
			WHERE application_name = '$HOLD_APP' AND backend_xmin IS NOT NULL")
		[[ $state == 'idle in transaction' ]] && return 0
		hg_pid_alive "$HOLD_JOB" ||
			die "the snapshot session ended: $(tail -n 3 "$BENCH_TMP/snapshot.out")"
		sleep 0.1
	done
	die "the snapshot session took no snapshot within 60 s"
}

# close_snapshot: commit the snapshot's transaction; HELD_S: how long it was open, in seconds.
close_snapshot() {
	# \q too: psql would wait for the end of its input while a child of ours held the FIFO.
	printf 'COMMIT;\n\\q\n' >&"$HOLD_FD"
	exec {HOLD_FD}>&-
	HOLD_FD=
	wait "$HOLD_JOB" || die "the snapshot session failed: $(tail -n 3 "$BENCH_TMP/snapshot.out")"
	HOLD_JOB=
	HELD_S=$(awk -v a="$HOLD_OPENED" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
}
