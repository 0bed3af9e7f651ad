# shellcheck shell=bash
# bench/lib.sh: what bench-ingest and bench-batch share. Free ports, processes, the throwaway
# PostgreSQL, hookgated and hookgatectl are tests/integration/lib.sh's, sourced here; the
# benchmarks' PostgreSQL is durable (HG_PG_DURABLE), since every 2xx they count waits for a
# flush. Added here: the build to measure and its migrations, a temporary directory, and the
# users and tokens the load is spread over.
#
# Sourced with TOP (the source tree) and BUILD (the default build) set; the sourcing script
# defines die.

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

# bench_provision USERS TOKENS [SECRETS-FILE]: channel "bench", and users bench01, bench02, …
# each a member of it with TOKENS tokens (at most five, the per-user limit), whose secrets are
# appended to SECRETS-FILE when given.
bench_provision() {
	local users=$1 tokens=$2 file=${3:-/dev/null} u t login out secret
	hgctl channel add bench --title Bench >/dev/null || die "channel add failed"
	for ((u = 1; u <= users; u++)); do
		login=$(printf 'bench%02d' "$u")
		# Nobody logs in as these users: the password only has to exist.
		head -c 24 /dev/urandom | base64 | tr '+/' 'xy' |
			hgctl user add "$login" >/dev/null || die "user add $login failed"
		hgctl channel member add bench "$login" >/dev/null || die "member add $login failed"
		for ((t = 1; t <= tokens; t++)); do
			out=$(hgctl --json token create "$login" --name "bench $t") ||
				die "token create for $login failed"
			secret=$(grep -o '"secret": *"[^"]*"' <<<"$out" |
				sed 's/.*"\([^"]*\)"$/\1/' || true)
			[[ $secret == hgt_* ]] || die "token create printed no secret"
			printf '%s\n' "$secret" >>"$file"
		done
	done
}
