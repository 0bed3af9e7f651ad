#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Start-up failures (docs/operations.md): each one exits non-zero with exactly one line on stderr that
# says why, before any worker is forked.
. "$HG_SRCDIR/tests/integration/lib.sh"
hg_setup
plan 43

# run_daemon CONF: hookgated in the foreground, expected to give up; sets RUN_RC and RUN_ERR.
# The time limit only guards against a daemon that wrongly starts: it is then killed.
run_daemon() {
	RUN_RC=0
	timeout -s KILL 20 "$HG_BUILDDIR/hookgated" -c "$1" --foreground \
		</dev/null >"$HG_TMP/run.out" 2>"$HG_TMP/run.err" || RUN_RC=$?
	RUN_ERR=$(cat "$HG_TMP/run.err")
	cat "$HG_TMP/run.out" "$HG_TMP/run.err" >>"$HG_TMP/hookgated.log"
}

# expect_failure NAME CONF REGEX: three tests — a plain failure status (not a crash or the
# time limit), one line on stderr, and that line matching REGEX.
expect_failure() {
	local name=$1 conf=$2 regex=$3 lines
	run_daemon "$conf"
	ok "$name: exit status is a failure, not a crash ($RUN_RC)" \
		test "$RUN_RC" -ge 1 -a "$RUN_RC" -lt 128
	lines=$(wc -l <"$HG_TMP/run.err")
	if ! is "$lines" 1 "$name: exactly one line on stderr"; then
		diag "stderr: $RUN_ERR"
	fi
	like "$RUN_ERR" "$regex" "$name: the line says why"
}

# line_of PATTERN FILE: the number of the first line matching the fixed string PATTERN.
line_of() {
	grep -n -F -m 1 -- "$1" "$2" | cut -d: -f1
}

# A string as a bash regex matching only itself.
re_escape() {
	# shellcheck disable=SC2016 # a sed expression, not a shell one
	printf '%s' "$1" | sed 's#[][\\.*^$(){}+?|]#\\&#g'
}

pg_start
conf=$HG_TMP/hookgate.conf
conf_re=$(re_escape "$conf")
# A migrated database, so that every case below fails for its own reason only, whatever order
# hookgated checks things in; "fresh" stays unmigrated.
hg_config
ok "migrate" hg_migrate
pg_sql 'CREATE DATABASE fresh'

# ---- configuration errors name the file and the line ----------------------------------------
hg_config '[server]' 'bogus_key = 1'
line=$(line_of 'bogus_key' "$conf")
expect_failure "unknown key" "$conf" "^hookgated: $conf_re:$line: .*bogus_key"

hg_config '[nonsense]'
line=$(line_of '[nonsense]' "$conf")
expect_failure "unknown section" "$conf" "^hookgated: $conf_re:$line: .*nonsense"

hg_config '[server]' 'workers = many'
line=$(line_of 'workers = many' "$conf")
expect_failure "bad value" "$conf" "^hookgated: $conf_re:$line: .*workers"

hg_config
grep -v '^conninfo' "$conf" >"$HG_TMP/noconninfo.conf"
expect_failure "missing database.conninfo" "$HG_TMP/noconninfo.conf" \
	"^hookgated: $(re_escape "$HG_TMP/noconninfo.conf"):.*conninfo"

expect_failure "missing config file" "$HG_TMP/does-not-exist.conf" \
	"^hookgated: .*does-not-exist\.conf"

# ---- the log file ----------------------------------------------------------------------------
hg_config '[log]' "file = $HG_TMP/no-such-dir/hookgated.log"
expect_failure "log.file in a missing directory" "$conf" \
	"^hookgated: cannot open log file $(re_escape "$HG_TMP")/no-such-dir/hookgated\.log: No such file or directory$"

# ---- the secret key --------------------------------------------------------------------------
hg_config
chmod 0644 "$HG_TMP/secret.key"
expect_failure "secret key file mode 0644" "$conf" "^hookgated: .*secret\.key"
chmod 0600 "$HG_TMP/secret.key"

hg_config '[security]' "secret_key_file = $HG_TMP/missing.key"
expect_failure "missing secret key file" "$conf" "^hookgated: .*missing\.key"

head -c 40 /dev/zero | tr '\0' x >"$HG_TMP/weak.key"
chmod 0600 "$HG_TMP/weak.key"
hg_config '[security]' "secret_key_file = $HG_TMP/weak.key"
expect_failure "a key file of 40 times the same character" "$conf" \
	"^hookgated: secret key file $(re_escape "$HG_TMP")/weak\.key is not a random key \(too few distinct byte values in its first 32 bytes\); create one with hookgatectl keygen$"

# ---- the database ----------------------------------------------------------------------------
closed_port=$(hg_free_port)
hg_config '[database]' "conninfo = host=127.0.0.1 port=$closed_port dbname=hookgate user=hookgate"
expect_failure "database down" "$conf" "^hookgated: cannot connect to PostgreSQL: ."

hg_config '[database]' "conninfo = host=127.0.0.1 port=$PGPORT dbname=fresh user=hookgate"
expect_failure "schema not migrated" "$conf" \
	'^hookgated: database schema is not migrated \(version 0, need [0-9]+\); run hookgatectl migrate$'

# ---- ports in use: a first hookgated holds them, a second one must refuse -------------------
hg_config
ok "a first hookgated starts" hg_start
expect_failure "webhook port in use" "$conf" \
	"^hookgated: cannot listen on 127\.0\.0\.1:$HG_PORT: bind\(\): Address already in use$"

first_admin_port=$HG_ADMIN_PORT
first_port=$HG_PORT
cp "$conf" "$HG_TMP/first.conf"
hg_config '[server]' "admin_listen = 127.0.0.1:$first_admin_port"
expect_failure "admin port in use" "$conf" \
	"^hookgated: cannot listen on 127\.0\.0\.1:$first_admin_port: bind\(\): Address already in use$"

is "$(http_status "http://127.0.0.1:$first_port/healthz")" 200 \
	"the first hookgated still answers after the failed starts"
ok "the first hookgated stops cleanly" hg_stop
