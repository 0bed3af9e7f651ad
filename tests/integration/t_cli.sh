#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# hookgatectl (docs/hookgatectl.md) against a throwaway cluster, and the schema rules it relies
# on (docs/schema.md): migrations, users, modules, tokens, the five-token trigger under races
# (hookgatectl processes, hand-written SQL, REPEATABLE READ sessions), soft deletion and --json
# output.
. "$HG_SRCDIR/tests/integration/lib.sh"
hg_setup
plan 89

CTL_LOG=$HG_TMP/ctl-stderr.log
: >"$CTL_LOG"

# run_ctl ARGS...: hookgatectl -c (stdin from $CTL_STDIN); sets RC, OUT and ERR.
run_ctl() {
	RC=0
	hgctl "$@" >"$HG_TMP/ctl.out" 2>"$HG_TMP/ctl.err" <<<"${CTL_STDIN:-}" || RC=$?
	OUT=$(cat "$HG_TMP/ctl.out")
	ERR=$(cat "$HG_TMP/ctl.err")
	cat "$HG_TMP/ctl.err" >>"$CTL_LOG"
}

# run_raw ARGS...: hookgatectl without -c (for --conninfo and keygen).
run_raw() {
	RC=0
	HOOKGATE_SQL_DIR="$HG_SRCDIR/sql" "$HG_BUILDDIR/hookgatectl" "$@" \
		>"$HG_TMP/ctl.out" 2>"$HG_TMP/ctl.err" </dev/null || RC=$?
	OUT=$(cat "$HG_TMP/ctl.out")
	ERR=$(cat "$HG_TMP/ctl.err")
	cat "$HG_TMP/ctl.err" >>"$CTL_LOG"
}

# One JSON value (python3 when there is one, else the outline of a single object).
json_valid() {
	if command -v python3 >/dev/null 2>&1; then
		python3 -c 'import json,sys; json.load(sys.stdin)' <<<"$1" 2>/dev/null
	else
		[[ $1 == \{*\} && $1 != *$'\n'* ]]
	fi
}

# json_str TEXT KEY: the first string value of "KEY" in TEXT (cJSON prints no spaces).
json_str() {
	[[ $1 =~ \"$2\":\"([^\"]*)\" ]] && printf '%s\n' "${BASH_REMATCH[1]}"
}

live_tokens() {
	pg_sql "SELECT count(*) FROM hookgate.webhook_tokens t JOIN hookgate.users u
		ON u.id = t.user_id WHERE u.login = '$1' AND t.deleted_at IS NULL"
}

pg_start
hg_config

# ---- keygen --------------------------------------------------------------------------------
run_raw keygen "$HG_TMP/secret.key"
is "$RC" 1 "keygen refuses to overwrite an existing key file"
run_raw keygen "$HG_TMP/new.key"
ok "keygen writes a new key file with mode 0600" \
	test "$RC" = 0 -a "$(stat -c %a "$HG_TMP/new.key")" = 600

# ---- migrate ---------------------------------------------------------------------------------
# What this source tree ships: every sql/NNN_*.sql, the highest NNN is the schema version.
SQL_FILES=$(cd "$HG_SRCDIR/sql" && ls [0-9][0-9][0-9]_*.sql)
SQL_LAST=$(tail -n 1 <<<"$SQL_FILES")
SQL_VERSION=$((10#${SQL_LAST%%_*}))
NEXT=$(printf '%03d' $((SQL_VERSION + 1)))
run_ctl migrate --check
is "$RC/$ERR" "1/hookgatectl: schema at version 0, pending migrations: $(echo $SQL_FILES)" \
	"migrate --check on an empty database: exit 1, one line naming every migration"
is "$(pg_sql "SELECT to_regnamespace('hookgate') IS NULL")" t "migrate --check creates nothing"
run_ctl migrate
is "$RC/$OUT" "0/$(sed 's/^/applied /' <<<"$SQL_FILES")
schema at version $SQL_VERSION" "migrate applies every migration in order"
before=$(pg_sql "SELECT version, name, sha256, applied_at FROM hookgate.schema_migrations")
like "$before" '^1\|001_schema\.sql\|[0-9a-f]{64}\|' "schema_migrations records them with their sha256"
# The licence line is left out of the checksum: databases migrated before it was added to the
# files keep matching them.
is "$(pg_sql "SELECT sha256 FROM hookgate.schema_migrations WHERE version = 1")" \
	"$(sed '1{/^-- SPDX-License-Identifier:/d}' "$HG_SRCDIR/sql/001_schema.sql" | sha256sum | cut -d' ' -f1)" \
	"the checksum covers the migration without its licence line"
run_ctl migrate
is "$RC/$OUT" "0/nothing to do, schema at version $SQL_VERSION" "a second migrate has nothing to do"
is "$(pg_sql "SELECT version, name, sha256, applied_at FROM hookgate.schema_migrations")" \
	"$before" "a second migrate leaves schema_migrations as it was"
run_ctl --json migrate
is "$OUT" "{\"applied\":[],\"version\":$SQL_VERSION}" "migrate --json"
run_ctl migrate --check
is "$RC/$OUT" "0/schema current at version $SQL_VERSION" "migrate --check on a current schema: exit 0"
run_ctl --json migrate --check
is "$RC/$OUT" "0/{\"pending\":[],\"version\":$SQL_VERSION}" "migrate --check --json"
like "$(pg_sql "SELECT string_agg(relname, ',' ORDER BY relname) FROM pg_class c
	JOIN pg_inherits i ON i.inhrelid = c.oid
	WHERE i.inhparent = 'hookgate.token_usage'::regclass")" \
	'^token_usage_default(,token_usage_y[0-9]{4}m[0-9]{2}){4}$' \
	"token_usage has a DEFAULT partition and this month's plus 3 monthly partitions"

# Two migrates racing on an empty database: the advisory lock makes one of them wait.
pg_sql "CREATE DATABASE racedb" >/dev/null
for i in 1 2; do
	HOOKGATE_SQL_DIR="$HG_SRCDIR/sql" "$HG_BUILDDIR/hookgatectl" \
		--conninfo "host=127.0.0.1 port=$PGPORT dbname=racedb user=hookgate" migrate \
		>"$HG_TMP/race-migrate.$i" 2>>"$CTL_LOG" &
done
wait
is "$(cat "$HG_TMP"/race-migrate.* | grep -c '^applied 001_schema.sql$')/$(psql -X -At -d racedb \
	-c 'SELECT count(*) FROM hookgate.schema_migrations')" "1/$(wc -l <<<"$SQL_FILES")" \
	"two concurrent migrates apply the schema once"

# ---- usage and errors ---------------------------------------------------------------------
run_ctl frobnicate
ok "an unknown command exits 2 with the usage" test "$RC" = 2 -a -n "$ERR"
run_ctl token create alice
is "$RC" 2 "a missing required option exits 2"
run_raw --bogus user list
is "$RC" 2 "an unknown global option exits 2"
run_raw --help
ok "--help prints the usage and exits 0" test "$RC" = 0 -a -n "$OUT"
run_ctl token list bob
is "$RC/$ERR" "1/hookgatectl: no such user: bob" "an unknown user is refused with exit 1"
run_ctl --json token list bob
is "$RC/$OUT" '1/{"error":"no such user: bob"}' "--json reports the error as a JSON object too"
run_raw --conninfo "host=127.0.0.1 port=$(hg_free_port) dbname=hookgate user=hookgate" user list
ok "an unreachable database: exit 1 and one line from libpq" \
	test "$RC" = 1 -a "$(wc -l <<<"$ERR")" = 1
like "$ERR" '^hookgatectl: connection to server' "the line is libpq's message"

# ---- users -----------------------------------------------------------------------------------
CTL_STDIN='correct horse battery' run_ctl user add Alice --display-name 'Alice Liddell'
is "$RC/$OUT" "0/created user alice" "user add (login lowercased)"
CTL_STDIN='correct horse battery' run_ctl user add alice
is "$RC/$ERR" "1/hookgatectl: user alice already exists" "a duplicate login is refused"
CTL_STDIN='correct horse battery' run_ctl user add carol --display-name $'Carol\tC'
is "$RC/$ERR" "1/hookgatectl: invalid display name: 1-200 characters, no control characters" \
	"a display name with a control character is refused"
CTL_STDIN='short' run_ctl user add shorty
is "$RC" 1 "a password under 8 characters is refused"
CTL_STDIN='' run_ctl user add nopass
is "$RC" 1 "an empty password is refused"
RC=0
printf 'correct horse\0 battery\n' | hgctl user add nulpw >/dev/null 2>"$HG_TMP/ctl.err" || RC=$?
is "$RC/$(cat "$HG_TMP/ctl.err")" "1/hookgatectl: the password must not contain a NUL byte" \
	"a NUL byte in the password is refused (it would cut the password short)"
like "$(pg_sql "SELECT password_hash FROM hookgate.users WHERE login = 'alice'")" '^\$scrypt\$' \
	"the password is stored as a scrypt hash"
for u in bob racer rr mover; do
	CTL_STDIN='correct horse battery' run_ctl user add "$u"
done
run_ctl user list
like "$OUT" $'\nalice +Alice Liddell +no +- +0 +[0-9T:Z-]+ +active +no\n' "user list shows alice"
run_ctl --json user list
ok "user list --json parses" json_valid "$OUT"
want='^\{"users":\[\{"login":"alice","display_name":"Alice Liddell","twofa_enrolled":false,'
want+='"locked_until":null,"tokens":0,"created_at":"[0-9T:Z-]+","status":"active","admin":false\}'
like "$OUT" "$want" "user list --json shape"

pg_sql "UPDATE hookgate.users SET totp_secret_enc = '\\x01', totp_enabled = true,
	totp_last_step = 99, failed_logins = 5, locked_until = now() + interval '1 hour'
	WHERE login = 'alice';
	INSERT INTO hookgate.recovery_codes SELECT id, '\\x02' FROM hookgate.users WHERE login = 'alice';
	INSERT INTO hookgate.admin_sessions (id_hash, user_id, stage, expires_at)
	SELECT '\\x03', id, 'full', now() + interval '1 hour' FROM hookgate.users WHERE login = 'alice'"
run_ctl user list
like "$OUT" $'\nalice +Alice Liddell +yes +[0-9]{4}-' "user list shows 2FA enrolled and the lock"
run_ctl user reset-2fa alice
is "$RC/$(pg_sql "SELECT totp_secret_enc IS NULL, totp_enabled, totp_last_step,
	(SELECT count(*) FROM hookgate.recovery_codes r WHERE r.user_id = u.id),
	(SELECT count(*) FROM hookgate.admin_sessions s WHERE s.user_id = u.id)
	FROM hookgate.users u WHERE login = 'alice'")" "0/t|f|0|0|0" \
	"user reset-2fa clears the secret, the recovery codes and the sessions"
run_ctl user unlock alice
is "$RC/$(pg_sql "SELECT failed_logins, locked_until IS NULL FROM hookgate.users
	WHERE login = 'alice'")" "0/0|t" "user unlock clears the lock"
run_ctl user unlock nobody
is "$RC/$ERR" "1/hookgatectl: no such user: nobody" "user unlock of an unknown user"

# ---- channels, bots, extensions ----------------------------------------------------------------
run_ctl channel add General --title 'General talk'
is "$RC/$OUT" "0/created channel general" "channel add (name lowercased)"
run_ctl channel add general
is "$RC/$ERR" "1/hookgatectl: channel general already exists" "a duplicate channel is refused"
run_ctl channel add 'bad-name'
like "$RC/$ERR" "^1/hookgatectl: invalid channel name: " "an invalid channel name is refused"
run_ctl channel add news --title $'two\nlines'
is "$RC/$ERR" "1/hookgatectl: invalid title: 1-200 characters, no control characters" \
	"a title with a control character is refused"
run_ctl --json channel add ops
is "$OUT" '{"name":"ops","title":"ops"}' "channel add --json"
run_ctl channel member add general alice
is "$RC/$OUT" "0/alice is a member of channel general" "channel member add"
run_ctl channel member add nochan alice
is "$RC/$ERR" "1/hookgatectl: no such channel: nochan" "channel member add to an unknown channel"
run_ctl bot add Helper --owner alice
is "$RC/$OUT" "0/created bot helper owned by alice" "bot add"
run_ctl bot add other
is "$RC" 2 "bot add without --owner is a usage error"
run_ctl bot add HELPER --owner bob
is "$RC/$ERR" "1/hookgatectl: bot helper already exists" "a duplicate bot is refused"
run_ctl --json bot subscribe helper bob
is "$OUT" '{"bot":"helper","login":"bob","added":true}' "bot subscribe --json"
run_ctl --json extension add Deploy --owner alice
ext_json=$OUT
ok "extension add --json parses" json_valid "$ext_json"
app='\{"app_id":"app_[0-9A-Za-z]{16}","appkey":"hga_[0-9A-Za-z]{32}"\}'
want='^\{"name":"deploy","owner":"alice","sandbox":'"$app"',"marketplace":'"$app"'\}$'
like "$ext_json" "$want" "extension add --json shape"
[[ $ext_json =~ \"appkey\":\"(hga_[0-9A-Za-z]+)\" ]] && appkey=${BASH_REMATCH[1]}
is "$(pg_sql "SELECT octet_length(sandbox_appkey_hash), octet_length(marketplace_appkey_hash)
	FROM hookgate.extensions WHERE name = 'deploy'")" "32|32" "appkeys stored as 32-byte hashes"
run_raw --conninfo "$HG_CONNINFO" extension add nokeys --owner alice
like "$RC/$ERR" "^1/hookgatectl: .*-c FILE" "extension add under --conninfo is refused (no key)"
run_ctl extension add DEPLOY --owner bob
is "$RC/$ERR" "1/hookgatectl: extension deploy already exists" "a duplicate extension is refused"
is "$(pg_sql "SELECT string_agg(a.action || ' ' || coalesce(u.login, '-') || ' ' || a.details::text,
	', ' ORDER BY a.id) FROM hookgate.audit_log a LEFT JOIN hookgate.users u ON u.id = a.user_id
	WHERE a.actor = 'hookgatectl' AND a.action LIKE '%.create' AND a.action <> 'token.create'
	AND a.action <> 'user.create'")" \
	'channel.create - {"channel": "general"}, channel.create - {"channel": "ops"}, bot.create alice {"bot": "helper"}, extension.create alice {"extension": "deploy"}' \
	"each module created is audited once, for its owner; refused ones are not"

# ---- tokens -----------------------------------------------------------------------------------
run_ctl --json token create alice --name 'CI pipeline'
tok_json=$OUT
ok "token create --json parses" json_valid "$tok_json"
want='^\{"id":"tk_[0-9A-Za-z]{16}","name":"CI pipeline","secret":"hgt_[0-9A-Za-z]{33}"\}$'
like "$tok_json" "$want" "token create --json shape"
secret=$(json_str "$tok_json" secret)
tok_id=$(json_str "$tok_json" id)
run_ctl token create alice --name 'plain text'
like "$OUT" $'\nhgt_[0-9A-Za-z]{33}$' "token create prints the token"
pg_dump -a -n hookgate >"$HG_TMP/dump.sql"
ok "the dump has the token rows" grep -q "$tok_id" "$HG_TMP/dump.sql"
ok "no token in clear anywhere in the database" \
	test -n "$secret" -a -n "$appkey" -a "$(grep -c -e "$secret" -e "$appkey" "$HG_TMP/dump.sql")" = 0
is "$(pg_sql "SELECT count(*) FROM hookgate.audit_log WHERE actor = 'hookgatectl'
	AND action = 'token.create' AND details->>'token' = '$tok_id'")" 1 "token create is audited"
run_raw --conninfo "$HG_CONNINFO" token create alice --name x
like "$RC/$ERR" "^1/hookgatectl: .*-c FILE" "token create under --conninfo is refused (no key)"
run_ctl token create alice --name "$(printf 'x%.0s' {1..65})"
like "$RC/$ERR" "^1/hookgatectl: invalid token name" "a 65-character token name is refused"
run_ctl token create alice --name $'tab\there'
is "$RC" 1 "a token name with a control character is refused"
run_ctl token create alice --name $'bad\xffutf8'
is "$RC" 1 "a token name that is not UTF-8 is refused"
run_ctl --json token create alice --name "$(printf 'é%.0s' {1..64})"
is "$RC" 0 "a 64-character (128-byte) token name is accepted"

run_ctl token disable "$tok_id"
is "$RC/$OUT" "0/token $tok_id disabled" "token disable"
run_ctl --json token list alice
ok "token list --json parses" json_valid "$OUT"
want="\\{\"id\":\"$tok_id\",\"name\":\"CI pipeline\",\"status\":\"disabled\",\"invocations\":0,"
want+='"last_invoked_at":null,"created_at":"[0-9T:Z-]+","disabled_reason":"owner",'
want+='"disabled_at":"[0-9T:Z-]+"\}'
like "$OUT" "$want" "token list shows it disabled, why (owner) and when"
run_ctl token enable "$tok_id"
is "$RC/$(pg_sql "SELECT status FROM hookgate.webhook_tokens WHERE public_id = '$tok_id'")" \
	"0/active" "token enable"
pg_sql "INSERT INTO hookgate.token_usage (token_id, user_id, module, target, http_status)
	SELECT id, user_id, 'channel', 'general', 204 FROM hookgate.webhook_tokens
	WHERE public_id = '$tok_id'"
run_ctl token delete "$tok_id"
is "$RC/$OUT" "0/token $tok_id deleted" "token delete"
run_ctl token list alice
ok "token list hides the deleted token" test "$RC" = 0 -a "${OUT/$tok_id/}" = "$OUT"
is "$(pg_sql "SELECT deleted_at IS NOT NULL, token_hash IS NULL, secret_enc IS NULL,
	(SELECT count(*) FROM hookgate.token_usage u WHERE u.token_id = t.id)
	FROM hookgate.webhook_tokens t WHERE public_id = '$tok_id'")" "t|t|t|1" \
	"the deleted token keeps its row (secrets cleared) and its usage history"
run_ctl token delete "$tok_id"
is "$RC/$ERR" "1/hookgatectl: no such token" "deleting it again: no such token"
run_ctl token enable "$secret"
is "$RC/$ERR" "1/hookgatectl: no such token" "a token pasted as an id is not echoed"
is "$(pg_sql "SELECT string_agg(action, ',' ORDER BY id) FROM hookgate.audit_log
	WHERE details->>'token' = '$tok_id'")" "token.create,token.disable,token.enable,token.delete" \
	"each token change is audited"

# ---- the five-token limit --------------------------------------------------------------------
for i in $(seq 1 24); do
	(
		rc=0
		HOOKGATE_SQL_DIR="$HG_SRCDIR/sql" "$HG_BUILDDIR/hookgatectl" -c "$HG_TMP/hookgate.conf" \
			token create racer --name "race $i" >"$HG_TMP/race.$i.out" \
			2>"$HG_TMP/race.$i.err" || rc=$?
		echo "$rc" >"$HG_TMP/race.$i.rc"
	) &
done
wait
cat "$HG_TMP"/race.*.err >>"$CTL_LOG"
is "$(cat "$HG_TMP"/race.*.rc | sort | uniq -c | tr -s ' ' | paste -sd, -)" " 5 0, 19 1" \
	"24 racing token creates: 5 succeed, 19 are refused with exit 1"
is "$(cat "$HG_TMP"/race.*.err | sort | uniq -c | tr -s ' ')" \
	" 19 hookgatectl: user racer already has 5 webhook tokens" \
	"every refusal says why, once"
is "$(live_tokens racer)" 5 "racer has exactly 5 live tokens"

hand_insert() {
	psql -X -q -At -v ON_ERROR_STOP=1 <<EOF
\\set VERBOSITY verbose
INSERT INTO hookgate.webhook_tokens (public_id, user_id, name, token_hash, secret_enc)
SELECT 'tk_$2', id, 'by hand', sha256('$2'::bytea), '\\x00' FROM hookgate.users WHERE login = '$1';
EOF
}
out=$(hand_insert racer HandWrittenSixth 2>&1)
like "$out" "ERROR: +HG001: user racer already has 5 webhook tokens" \
	"a hand-written sixth INSERT is refused with SQLSTATE HG001"
first=$(pg_sql "SELECT public_id FROM hookgate.webhook_tokens t JOIN hookgate.users u
	ON u.id = t.user_id WHERE login = 'racer' AND deleted_at IS NULL ORDER BY t.id LIMIT 1")
run_ctl token delete "$first"
run_ctl token create racer --name replacement
is "$RC/$(live_tokens racer)" "0/5" "after a delete the user may create a fifth token again"
out=$(pg_sql "UPDATE hookgate.webhook_tokens SET deleted_at = NULL,
	token_hash = sha256('undelete'::bytea), secret_enc = '\\x00' WHERE public_id = '$first'" 2>&1)
like "$out" "already has 5 webhook tokens" "un-deleting a token of a user with 5 is refused"
run_ctl --json token create mover --name moving
move_id=$(json_str "$OUT" id)
out=$(pg_sql "UPDATE hookgate.webhook_tokens SET user_id = (SELECT id FROM hookgate.users
	WHERE login = 'racer') WHERE public_id = '$move_id'" 2>&1)
like "$out" "already has 5 webhook tokens" "moving a token to a user with 5 is refused"
out=$(pg_sql "UPDATE hookgate.webhook_tokens SET name = 'renamed', status = 'disabled'
	WHERE public_id = (SELECT public_id FROM hookgate.webhook_tokens t JOIN hookgate.users u
	ON u.id = t.user_id WHERE login = 'racer' AND deleted_at IS NULL LIMIT 1)" 2>&1)
is "$?/$out" "0/" "renaming or disabling one of five live tokens is allowed"

# REPEATABLE READ: each session takes its snapshot, waits, then inserts. Without the users-row
# update in the trigger every one of them would count 4 and insert.
for i in 1 2 3 4; do
	hand_insert rr "RepeatableRead0$i" >/dev/null 2>&1
done
for i in 1 2 3 4 5 6; do
	psql -X -q -At >"$HG_TMP/rr.$i.out" 2>&1 <<EOF &
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT count(*) FROM hookgate.webhook_tokens;
SELECT pg_sleep(1);
INSERT INTO hookgate.webhook_tokens (public_id, user_id, name, token_hash, secret_enc)
SELECT 'tk_RepeatableRace0$i', id, 'rr', sha256('race $i'::bytea), '\\x00'
  FROM hookgate.users WHERE login = 'rr';
COMMIT;
EOF
done
wait
is "$(live_tokens rr)" 5 "6 racing REPEATABLE READ inserts for a user with 4 tokens: 5, never 6"
is "$(cat "$HG_TMP"/rr.*.out | grep -c 'could not serialize access')" 5 \
	"the losers get a serialization failure"

# ---- migrations that changed or fail (on racedb) ---------------------------------------------
race_conninfo="host=127.0.0.1 port=$PGPORT dbname=racedb user=hookgate"
mkdir "$HG_TMP/sql"
cp "$HG_SRCDIR"/sql/[0-9][0-9][0-9]_*.sql "$HG_TMP/sql/"
echo '-- edited after it was applied' >>"$HG_TMP/sql/001_schema.sql"
printf 'CREATE TABLE hookgate.half_done (x int);\nSELECT 1/0;\n' >"$HG_TMP/sql/${NEXT}_broken.sql"
rc=0
err=$(HOOKGATE_SQL_DIR=$HG_TMP/sql "$HG_BUILDDIR/hookgatectl" --conninfo "$race_conninfo" migrate \
	2>&1 >/dev/null) || rc=$?
echo "$err" >>"$CTL_LOG"
want=$'^1/hookgatectl: warning: 001_schema.sql differs[^\n]*\n'
want+="hookgatectl: ${NEXT}_broken.sql: division by zero\$"
like "$rc/$err" "$want" \
	"an edited applied migration is only warned about; a failing one is refused"
is "$(psql -X -At -d racedb -c "SELECT count(*), to_regclass('hookgate.half_done') IS NULL
	FROM hookgate.schema_migrations")" "$SQL_VERSION|t" "the failing migration left nothing behind"
rm "$HG_TMP/sql/${NEXT}_broken.sql"
printf 'CREATE TABLE hookgate.extra (x int);\n' >"$HG_TMP/sql/${NEXT}_extra.sql"
rc=0
err=$(HOOKGATE_SQL_DIR=$HG_TMP/sql "$HG_BUILDDIR/hookgatectl" --conninfo "$race_conninfo" \
	migrate --check 2>&1 >/dev/null) || rc=$?
is "$rc/$err" "1/hookgatectl: schema at version $SQL_VERSION, pending migrations: ${NEXT}_extra.sql" \
	"migrate --check names only the migration not applied yet"
out=$(HOOKGATE_SQL_DIR=$HG_TMP/sql "$HG_BUILDDIR/hookgatectl" --conninfo "$race_conninfo" migrate \
	2>>"$CTL_LOG")
is "$out" "applied ${NEXT}_extra.sql
schema at version $((SQL_VERSION + 1))" "a new migration is applied after the recorded ones"

# ---- sanitizers ------------------------------------------------------------------------------
if grep -qE 'Sanitizer|runtime error:' "$CTL_LOG"; then
	hg_result 0 "no sanitizer report from any hookgatectl run"
	diag "$(grep -E -A 20 'Sanitizer|runtime error:' "$CTL_LOG" | head -n 60)"
else
	hg_result 1 "no sanitizer report from any hookgatectl run"
fi
