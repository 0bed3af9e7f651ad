#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The command lines of both binaries (hookgated(8), hookgatectl(1)): "hookgated -t" checks the
# configuration, the key file and the TLS files without binding a listener or contacting
# PostgreSQL; --help lists the options, the signals and the default paths; -V prints the
# configured version; a usage error is one line plus a hint to --help, exit 2. Needs no
# PostgreSQL.
. "$HG_SRCDIR/tests/integration/lib.sh"
hg_setup
plan 36

HOOKGATED=$HG_BUILDDIR/hookgated
HOOKGATECTL=$HG_BUILDDIR/hookgatectl
VERSION=$(sed -n 's/^PACKAGE_VERSION = //p' "$HG_BUILDDIR/Makefile")
# As configured: "${prefix}/etc" unless --sysconfdir said otherwise.
PREFIX=$(sed -n 's/^prefix = //p' "$HG_BUILDDIR/Makefile")
SYSCONFDIR=$(sed -n 's/^sysconfdir = //p' "$HG_BUILDDIR/Makefile")
SYSCONFDIR=${SYSCONFDIR//'${prefix}'/$PREFIX}

# run BINARY ARGS...: sets RC, OUT and ERR.
run() {
	RC=0
	"$@" </dev/null >"$HG_TMP/out" 2>"$HG_TMP/err" || RC=$?
	OUT=$(cat "$HG_TMP/out")
	ERR=$(cat "$HG_TMP/err")
}

# check_fails NAME REGEX: the last run exited 1 with nothing on stdout and one line on stderr
# matching REGEX (three tests).
check_fails() {
	is "$RC/$OUT" "1/" "$1: exit status 1, nothing on stdout"
	is "$(wc -l <"$HG_TMP/err")" 1 "$1: one line on stderr"
	like "$ERR" "$2" "$1: the line says why"
}

# help_lists ITEM...: each ITEM begins a line of the last run's stdout, after two blanks.
help_lists() {
	local item
	for item in "$@"; do
		grep -qF -- "  $item" "$HG_TMP/out" || return 1
	done
}

# check_usage_error NAME BINARY REGEX: exit 2, the reason then "try 'BINARY --help'".
check_usage_error() {
	is "$RC" 2 "$1: exit status 2"
	like "$ERR" "^$2: $3"$'\n'"try '$2 --help'\$" "$1: one line, then the hint to --help"
}

# No PostgreSQL listens here: -t must not need it. The webhook address is TEST-NET-1, which
# no local interface has, so binding it fails: -t must not try.
closed_port=$(hg_free_port)
hg_config '[database]' "conninfo = host=127.0.0.1 port=$closed_port dbname=hookgate" \
	'[server]' "listen = 192.0.2.1:$(hg_free_port)"
conf=$HG_CONF

# ---- -t --------------------------------------------------------------------------------------
run "$HOOKGATED" -t -c "$conf"
is "$RC/$OUT/$ERR" "0/configuration ok/" "-t: a good file prints 'configuration ok', exit 0"
run "$HOOKGATED" --test-config --config "$conf"
is "$RC/$OUT" "0/configuration ok" "--test-config --config: the same"
run timeout -s KILL 20 "$HOOKGATED" -c "$conf" --foreground
like "$RC/$ERR" "^1/hookgated: cannot listen on 192\.0\.2\.1:" \
	"the same file fails a real start at bind(): -t did not bind"

hg_config '[database]' "conninfo = host=127.0.0.1 port=$closed_port dbname=hookgate" \
	'[server]' 'bogus_key = 1'
run "$HOOKGATED" -t -c "$conf"
check_fails "-t, an unknown key" "^hookgated: .*hookgate\.conf:[0-9]+: .*bogus_key"

hg_config '[database]' "conninfo = host=127.0.0.1 port=$closed_port dbname=hookgate"
chmod 0644 "$HG_TMP/secret.key"
run "$HOOKGATED" -t -c "$conf"
check_fails "-t, a key file others may read" "^hookgated: .*secret\.key"
chmod 0600 "$HG_TMP/secret.key"

CERT=$HG_TMP/cert.pem
KEY=$HG_TMP/key.pem
ok "openssl makes a self-signed certificate" \
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
	-days 1 -keyout "$KEY" -out "$CERT"
chmod 600 "$KEY"
hg_config '[database]' "conninfo = host=127.0.0.1 port=$closed_port dbname=hookgate" \
	'[server]' "tls_cert = $CERT" "tls_key = $KEY"
run "$HOOKGATED" -t -c "$conf"
is "$RC/$OUT" "0/configuration ok" "-t: a good TLS pair is ok"

hg_config '[database]' "conninfo = host=127.0.0.1 port=$closed_port dbname=hookgate" \
	'[server]' "tls_cert = $HG_TMP/missing.pem" "tls_key = $KEY"
run "$HOOKGATED" -t -c "$conf"
check_fails "-t, a missing TLS certificate" "^hookgated: cannot load TLS certificate .*missing\.pem"

run "$HOOKGATED" -t -c "$HG_TMP/does-not-exist.conf"
check_fails "-t, a missing configuration file" "^hookgated: .*does-not-exist\.conf"

# ---- the default configuration file ----------------------------------------------------------
default_conf=$SYSCONFDIR/hookgate/hookgate.conf
run "$HOOKGATED" --help
is "$RC" 0 "--help exits 0"
ok "--help shows the default -c, $default_conf" grep -qF "(default $default_conf)" "$HG_TMP/out"
ok "--help lists -t and the signals SIGHUP, SIGUSR1, SIGTERM and SIGQUIT" \
	help_lists '-t, --test-config' SIGHUP SIGUSR1 'SIGTERM, SIGINT' SIGQUIT
ok "--help names the migrations and dashboard directories" \
	grep -qE '^  schema migrations +/.*/hookgate/sql' "$HG_TMP/out"
if [[ -e $default_conf ]]; then # then -t without -c reads a file this test does not know
	for i in 1 2 3; do
		hg_result 1 "-t without -c # SKIP $default_conf exists on this machine"
	done
else
	run "$HOOKGATED" -t
	check_fails "-t without -c reads $default_conf" "^hookgated: $default_conf: "
fi

# ---- versions --------------------------------------------------------------------------------
run "$HOOKGATED" -V
is "$RC/$OUT" "0/hookgated $VERSION" "hookgated -V prints the configured version ($VERSION)"
run "$HOOKGATED" --version
is "$RC/$OUT" "0/hookgated $VERSION" "hookgated --version"
run "$HOOKGATECTL" --version
is "$RC/$OUT" "0/hookgatectl $VERSION" "hookgatectl --version"
run "$HOOKGATECTL" -V
is "$RC/$OUT" "0/hookgatectl $VERSION" "hookgatectl -V"

# ---- usage errors ----------------------------------------------------------------------------
run "$HOOKGATED" --bogus
check_usage_error "hookgated --bogus" hookgated "unknown option --bogus"
run "$HOOKGATED" -c "$conf" extra
check_usage_error "hookgated with an argument" hookgated "unexpected argument extra"
run "$HOOKGATED" -c
check_usage_error "hookgated -c without a value" hookgated "a value is missing after option -c"
run "$HOOKGATECTL" frobnicate
check_usage_error "hookgatectl, an unknown command" hookgatectl "unknown command frobnicate"
