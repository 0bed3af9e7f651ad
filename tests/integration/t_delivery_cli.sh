#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# hookgatectl's delivery destinations and delivery commands (docs/hookgatectl.md, "Destinations"
# and "Delivery") against a throwaway cluster: endpoint set/show/disable/enable/rotate-secret for
# bots, extensions and channels, the URL and name rules, signing secrets printed once and sealed
# to their destination (opened here with Python's cryptography, not with our code), the rotation
# overlap, audit rows without secrets, and delivery status/list/replay with its window rules.
. "$HG_SRCDIR/tests/integration/lib.sh"
. "$HG_SRCDIR/tests/integration/webhook_lib.sh"
hg_setup
plan 88

CTL_LOG=$HG_TMP/ctl-stderr.log
: >"$CTL_LOG"

# run_ctl ARGS...: hookgatectl -c; sets RC, OUT and ERR (stderr also kept in $CTL_LOG, which the
# cleanup searches for the secrets noted below).
run_ctl() {
	RC=0
	hgctl "$@" >"$HG_TMP/ctl.out" 2>"$HG_TMP/ctl.err" </dev/null || RC=$?
	OUT=$(cat "$HG_TMP/ctl.out")
	ERR=$(cat "$HG_TMP/ctl.err")
	cat "$HG_TMP/ctl.err" >>"$CTL_LOG"
}

# The "secret: whsec_..." of $OUT (or of --json's "secret"), noted so that no log may hold it.
secret_of_out() {
	local s
	s=$(sed -n 's/^secret: \(whsec_.*\)$/\1/p; s/.*"secret":"\(whsec_[^"]*\)".*/\1/p' <<<"$OUT")
	[[ -n $s ]] && printf '%s\n' "$s" >>"$HG_TMP/.secrets"
	printf '%s' "$s"
}

# open_sealed COLUMN MODULE TARGET: the destination's sealed column opened with the key file
# (HKDF-SHA-256 "hookgate enc key v1" of the file without its line end, AES-256-GCM, aad = version byte + "whsec:MODULE:TARGET").
open_sealed() {
	local hex
	hex=$(pg_sql "SELECT encode($1, 'hex') FROM hookgate.destinations
		WHERE module = '$2' AND target = '$3'")
	python3 - "$HG_TMP/secret.key" "whsec:$2:$3" "$hex" <<'EOF'
import sys
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
ikm = open(sys.argv[1], 'rb').read()
ikm = ikm[:-1] if ikm.endswith(b'\n') else ikm  # the key file's line end is not key
ikm = ikm[:-1] if ikm.endswith(b'\r') else ikm
key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
           info=b'hookgate enc key v1').derive(ikm)
sealed = bytes.fromhex(sys.argv[3])
plain = AESGCM(key).decrypt(sealed[1:13], sealed[13:], bytes(sealed[:1]) + sys.argv[2].encode())
print(plain.decode())
EOF
}

audit() { # audit ACTION: the newest audit row of ACTION as "actor|user login|details"
	pg_sql "SELECT a.actor, coalesce(u.login, '-'), a.details FROM hookgate.audit_log a
		LEFT JOIN hookgate.users u ON u.id = a.user_id WHERE a.action = '$1'
		ORDER BY a.id DESC LIMIT 1"
}

dest_id() { pg_sql "SELECT id FROM hookgate.destinations WHERE module = '$1' AND target = '$2'"; }

SECRET_RE='^whsec_[A-Za-z0-9+/]{43}=$'

pg_start
hg_config
hg_migrate >/dev/null || bail_out "migrate failed"
webhook_fixtures || bail_out "fixtures failed"
hgctl channel add ops >/dev/null || bail_out "channel add failed"

# ---- set ---------------------------------------------------------------------------------------
run_ctl bot endpoint set DeployBot https://hooks.example.com/deploy
S1=$(secret_of_out)
is "$RC/$(head -n 1 <<<"$OUT")" "0/created bot:deploybot: https://hooks.example.com/deploy" \
	"bot endpoint set creates the bot's destination (name lowercased)"
like "$S1" "$SECRET_RE" "the new signing secret is whsec_ + padded base64 of 32 bytes, printed once"
is "$(open_sealed secret_enc bot_incoming deploybot)" "$S1" \
	"secret_enc opens, with aad whsec:bot_incoming:deploybot, to the printed secret"
is "$(pg_sql "SELECT url, enabled, previous_secret_enc IS NULL FROM hookgate.destinations
	WHERE module = 'bot_incoming' AND target = 'deploybot'")" \
	"https://hooks.example.com/deploy|t|t" "the row: URL, enabled, no previous secret"
A=$(audit destination.set)
like "$A" '^hookgatectl\|alice\|' "destination.set is audited by hookgatectl for the bot's owner"
like "$A" '"url": "https://hooks.example.com/deploy"' "the audit details name the URL"
like "$A" '"module": "bot_incoming", "target": "deploybot"' "... and the module and target"
sealed_before=$(pg_sql "SELECT encode(secret_enc, 'hex') FROM hookgate.destinations
	WHERE target = 'deploybot'")
run_ctl bot endpoint set deploybot http://hooks.example.com:8080/v2
is "$RC/$OUT" "0/updated bot:deploybot: http://hooks.example.com:8080/v2" \
	"set on an existing destination changes the URL and prints no secret"
is "$(pg_sql "SELECT url, encode(secret_enc, 'hex') = '$sealed_before' FROM hookgate.destinations
	WHERE module = 'bot_incoming' AND target = 'deploybot'")" \
	"http://hooks.example.com:8080/v2|t" "... and keeps the secret"
like "$(audit destination.set)" '"created": false' "the URL change is audited as not created"

run_ctl --json bot endpoint set deploybot https://msgs.example.com/ --messages
S2=$(secret_of_out)
like "$OUT" '^\{"destination":"bot_message:deploybot","module":"bot_message","target":"deploybot","url":"https://msgs.example.com/","created":true,"secret":"whsec_' \
	"--messages is the bot_message destination (--json with the secret)"
is "$(open_sealed secret_enc bot_message deploybot)" "$S2" "its secret is sealed to whsec:bot_message:deploybot"

run_ctl extension endpoint set ticketing https://sb.example.com/hook --env sandbox
S3=$(secret_of_out)
run_ctl extension endpoint set ticketing https://mp.example.com/hook --env=marketplace
S4=$(secret_of_out)
is "$(pg_sql "SELECT string_agg(module || ' ' || url, ',' ORDER BY module)
	FROM hookgate.destinations WHERE target = 'ticketing'")" \
	"extension_marketplace https://mp.example.com/hook,extension_sandbox https://sb.example.com/hook" \
	"extension endpoint set --env sandbox|marketplace makes one destination per environment"
is "$(open_sealed secret_enc extension_sandbox ticketing)/$(open_sealed secret_enc extension_marketplace ticketing)" \
	"$S3/$S4" "each environment has its own sealed secret"
run_ctl channel endpoint set general https://chat.example.com/general
is "$RC" 0 "channel endpoint set NAME"
run_ctl channel endpoint set '*' 'https://[2001:db8::1]:8443/intake?all=1'
S5=$(secret_of_out)
is "$RC/$(pg_sql "SELECT target FROM hookgate.destinations WHERE module = 'channel'
	ORDER BY target LIMIT 1")" "0/*" "channel endpoint set '*' is the all-channels destination"
is "$(open_sealed secret_enc channel '*')" "$S5" "its secret is sealed to whsec:channel:*"
all="$S1 $S2 $S3 $S4 $S5"
is "$(tr ' ' '\n' <<<"$all" | sort -u | grep -c .)" 5 "every destination has a different secret"

# ---- refusals ------------------------------------------------------------------------------------
run_ctl bot endpoint set nobot https://x.example.com/
is "$RC/$ERR" "1/hookgatectl: no such bot: nobot" "an unknown bot is refused"
run_ctl channel endpoint set nochan https://x.example.com/
is "$RC/$ERR" "1/hookgatectl: no such channel: nochan" "an unknown channel is refused"
run_ctl extension endpoint show noext --env sandbox
is "$RC/$ERR" "1/hookgatectl: no such extension: noext" "an unknown extension is refused"
run_ctl bot endpoint set 'bad-name' https://x.example.com/
is "$RC" 1 "an invalid bot name is refused"
run_ctl extension endpoint set ticketing https://x.example.com/ --env prod
is "$RC/$(head -n 1 <<<"$ERR")" \
	"2/hookgatectl: extension endpoint set: invalid --env prod: sandbox or marketplace" \
	"a bad --env is a usage error"
run_ctl extension endpoint set ticketing https://x.example.com/
is "$RC" 2 "a missing --env is a usage error"
run_ctl bot endpoint set deploybot
is "$RC" 2 "a missing URL is a usage error"
run_ctl channel endpoint show ops
is "$RC/$ERR" "1/hookgatectl: no destination for channel:ops (set one with channel endpoint set)" \
	"show of a channel without a destination"
run_ctl bot endpoint frob deploybot
is "$RC" 2 "an unknown endpoint subcommand exits 2"
bad_url() { # bad_url URL WHY
	run_ctl channel endpoint set ops "$1"
	is "$RC/$ERR" "1/hookgatectl: invalid URL: $2" "URL refused: $3"
}
bad_url ftp://files.example.com/ "must start with http:// or https://" "not http(s)"
bad_url HTTPS//x "must start with http:// or https://" "no scheme"
bad_url 'https://user:hunter2@example.com/' "no user name or password allowed" "userinfo"
is "$(grep -c hunter2 "$CTL_LOG")" 0 "the refused URL's password is never echoed"
bad_url 'http:///path' "missing host" "no host"
bad_url 'http://example.com:0/' "bad port" "port 0"
bad_url 'http://example.com:99999/' "bad port" "port out of range"
bad_url 'http://exa mple.com/' "spaces, control or non-ASCII characters (percent-encode them)" \
	"a space"
long="https://example.com/$(printf 'a%.0s' $(seq 1 2029))"
bad_url "$long" "longer than 2048 bytes" "2049 bytes"
run_ctl channel endpoint set ops "${long:0:2048}"
is "$RC" 0 "a URL of exactly 2048 bytes is taken"
is "$(pg_sql "SELECT count(*) FROM hookgate.destinations")" 7 \
	"no refusal wrote a destination"
RC=0
HOOKGATE_SQL_DIR="${HG_SQL_DIR:-$HG_SRCDIR/sql}" "$HG_BUILDDIR/hookgatectl" --conninfo "$HG_CONNINFO" \
	bot endpoint rotate-secret deploybot >/dev/null 2>"$HG_TMP/ctl.err" || RC=$?
is "$RC/$(cat "$HG_TMP/ctl.err")" \
	"1/hookgatectl: this command needs the secret key file: use -c FILE, not --conninfo" \
	"rotate-secret needs the secret key file"

# ---- show, disable, enable ---------------------------------------------------------------------
run_ctl bot endpoint show deploybot
is "$(sed -n '1,3p' <<<"$OUT")" "destination: bot:deploybot
url: http://hooks.example.com:8080/v2
state: enabled" "show prints the destination, URL and state"
like "$OUT" $'\nqueued: 0\n' "show prints the queued count"
ok "show never prints a secret" test "$RC" = 0 -a "${OUT/whsec_/}" = "$OUT"
run_ctl --json bot endpoint show deploybot --messages
ok "show --json: one object, no secret" test "$RC" = 0 -a "${OUT/whsec_/}" = "$OUT" \
	-a "${OUT:0:1}" = "{"
like "$OUT" '"url":"https://msgs.example.com/","state":"enabled","disabled_reason":null' \
	"show --json has the URL and the state"

D1=$(dest_id bot_incoming deploybot)
pg_sql "INSERT INTO hookgate.delivery_queue (message_id, destination_id, attempts, first_at, due_at)
	VALUES (1001, $D1, 3, now() - interval '1 hour', now() + interval '2 hours'),
	       (1002, $D1, 0, now(), now())" >/dev/null
run_ctl bot endpoint disable deploybot
is "$RC/$OUT" "0/bot:deploybot disabled (reason: manual)" "disable"
is "$(pg_sql "SELECT enabled, disabled_reason, disabled_at > now() - interval '1 minute'
	FROM hookgate.destinations WHERE id = $D1")" "f|manual|t" \
	"disable sets enabled = false, reason manual and the time"
like "$(audit destination.disable)" '^hookgatectl\|alice\|.*"reason": "manual"' \
	"disable is audited with its reason"
run_ctl bot endpoint show deploybot
like "$OUT" $'state: disabled\ndisabled_reason: manual\ndisabled_at: [0-9T:-]+Z\n' \
	"show prints the disabled reason and time"
like "$OUT" $'\nqueued: 2\n' "show counts the queued deliveries"
pg_sql "UPDATE hookgate.destinations SET failing_since = now() - interval '2 days'
	WHERE id = $D1" >/dev/null
run_ctl bot endpoint show deploybot
like "$OUT" $'\nfailing_since: [0-9T:-]+Z\n' "show prints failing_since"
run_ctl bot endpoint enable deploybot
is "$RC/$OUT" "0/bot:deploybot enabled (queued: 2)" "enable"
is "$(pg_sql "SELECT enabled, disabled_reason IS NULL, disabled_at IS NULL, failing_since IS NULL
	FROM hookgate.destinations WHERE id = $D1")" "t|t|t|t" \
	"enable clears the reason, its time and failing_since"
is "$(pg_sql "SELECT count(*) FROM hookgate.delivery_queue
	WHERE destination_id = $D1 AND due_at <= now()")" 2 \
	"what was pending is due at once after enable"
like "$(audit destination.enable)" '"destination": "bot:deploybot"' "enable is audited"

# ---- rotate-secret ------------------------------------------------------------------------------
run_ctl bot endpoint rotate-secret deploybot
S6=$(secret_of_out)
like "$(head -n 1 <<<"$OUT")" \
	'^bot:deploybot has a new signing secret \(previous_secret_until: [0-9T:-]+Z\)$' \
	"rotate-secret says until when the old secret signs too"
ok "it prints a new secret" test -n "$S6" -a "$S6" != "$S1"
like "$S6" "$SECRET_RE" "the new secret has the secret format"
is "$(open_sealed secret_enc bot_incoming deploybot)|$(open_sealed previous_secret_enc bot_incoming deploybot)" \
	"$S6|$S1" "secret_enc opens to the new secret, previous_secret_enc to the old one"
is "$(pg_sql "SELECT previous_until BETWEEN now() + interval '23 hours 59 minutes'
	AND now() + interval '24 hours' FROM hookgate.destinations WHERE id = $D1")" t \
	"the old secret keeps signing for 24 hours"
run_ctl bot endpoint show deploybot
like "$OUT" $'\nprevious_secret_until: [0-9T:-]+Z\n' "show prints until when the old secret signs"
ok "show still prints no secret" test "${OUT/whsec_/}" = "$OUT"
like "$(audit destination.rotate_secret)" '^hookgatectl\|alice\|.*"previous_secret_until"' \
	"rotate-secret is audited"
ok "no audit row holds a secret" \
	test -z "$(pg_sql "SELECT id FROM hookgate.audit_log WHERE details::text LIKE '%whsec_%'")"
run_ctl --json channel endpoint rotate-secret '*'
S7=$(secret_of_out)
is "$(open_sealed secret_enc channel '*')|$(open_sealed previous_secret_enc channel '*')" \
	"$S7|$S5" "rotate-secret of channel '*' (--json)"

# ---- delivery status and list ------------------------------------------------------------------
pg_sql "INSERT INTO hookgate.delivery_attempts (at, message_id, destination_id, attempt, outcome,
	http_status, error, latency_us, response, next_at) VALUES
	(now() - interval '3 minutes', 1001, $D1, 1, 'retry', 503, NULL, 12000, 'busy',
	 now() + interval '5 seconds'),
	(now() - interval '2 minutes', 1001, $D1, 2, 'retry', NULL, 'timeout', 15000000, NULL,
	 now() + interval '5 minutes'),
	(now() - interval '1 minute', 1002, $D1, 1, 'delivered', 204, NULL, 2500, '', NULL)" \
	>/dev/null
run_ctl delivery status
is "$(head -n 1 <<<"$OUT" | tr -s ' ')" \
	"destination state failing_since queued last_attempt last_outcome last_status" \
	"delivery status: the header line"
like "$OUT" $'\nbot:deploybot +ok +- +2 +[0-9T:-]+Z +delivered +204\n' \
	"status: state, queue, last attempt of a destination"
like "$OUT" $'\nchannel:\\* +ok +- +0 +- +- +-' "status lists channel:* too"
run_ctl --json delivery status
like "$OUT" '^\{"destinations":\[.*\{"destination":"extension:ticketing:sandbox","state":"ok",' \
	"status --json"
run_ctl delivery list --destination bot:deploybot
is "$(awk 'NR > 1 { print $2, $3, $4, $5, $6 }' <<<"$OUT")" "1002 1 delivered 204 -
1001 2 retry - timeout
1001 1 retry 503 -" "delivery list: attempts newest first with status or error"
run_ctl delivery list --destination=bot:deploybot --limit 1
is "$(grep -c . <<<"$OUT")" 2 "--limit 1: the header and one attempt"
run_ctl --json delivery list --destination bot:deploybot --limit 3
like "$OUT" '"attempt":1,"outcome":"retry","http_status":503,"error":null,"latency_ms":"12.0","next_at":"[0-9T:-]+Z","response":"busy"\}\]\}$' \
	"list --json has the answer's first KiB"
run_ctl delivery list --destination bot:deploybot --limit 0
is "$RC" 2 "--limit 0 is a usage error"
run_ctl delivery list --destination bot
is "$RC/$(head -n 1 <<<"$ERR")" \
	"2/hookgatectl: invalid destination bot: use channel:NAME, channel:*, bot:NAME, bot_message:NAME or extension:NAME:sandbox|marketplace" \
	"a bad destination spec is a usage error"
run_ctl delivery list --destination extension:ticketing:prod
is "$RC" 2 "an unknown extension environment in a spec is a usage error"
run_ctl delivery list --destination bot:nobot
is "$RC/$ERR" "1/hookgatectl: no such bot: nobot" "an unknown bot in a spec is refused"
run_ctl delivery list --destination channel:ops
is "$RC" 0 "list of a destination without attempts"

# ---- replay -------------------------------------------------------------------------------------
pg_sql "INSERT INTO hookgate.messages (at, module, target, user_id, token_id, content_type, body)
	SELECT now() - a, m, t, 1, 1, 'application/json', '{}' FROM (VALUES
	(interval '3 hours', 'bot_incoming', 'deploybot'),
	(interval '90 minutes', 'bot_incoming', 'deploybot'),
	(interval '10 minutes', 'bot_incoming', 'deploybot'),
	(interval '10 minutes', 'bot_message', 'deploybot'),
	(interval '20 days', 'bot_incoming', 'deploybot')) v(a, m, t)" >/dev/null
pg_sql "DELETE FROM hookgate.delivery_queue" >/dev/null
run_ctl delivery replay --destination bot:deploybot --since 2h
like "$RC/$OUT" '^0/queued 2 messages for bot:deploybot \(stored from [0-9T:.-]+Z until [0-9T:.-]+Z\)$' \
	"replay --since 2h queues the two messages of the last two hours"
is "$(pg_sql "SELECT count(*), min(attempts), bool_and(due_at <= now())
	FROM hookgate.delivery_queue WHERE destination_id = $D1")" "2|0|t" \
	"the queue rows: never tried, due now"
like "$(audit delivery.replay)" '^hookgatectl\|' "replay is audited"
since=$(pg_sql "SELECT to_char(now() AT TIME ZONE 'UTC' - interval '4 hours',
	'YYYY-MM-DD\"T\"HH24:MI:SS')")
until=$(pg_sql "SELECT to_char(now() AT TIME ZONE 'UTC' - interval '1 hour',
	'YYYY-MM-DD\"T\"HH24:MI:SS')")
run_ctl --json delivery replay --destination bot:deploybot --since "$since" --until "${until}Z"
like "$RC/$OUT" "^0/\\{\"destination\":\"bot:deploybot\",\"since\":\"${since}.000000Z\",\"until\":\"${until}.000000Z\",\"queued\":2\\}$" \
	"ISO 8601 times (UTC without an offset) pick the window [since, until)"
run_ctl delivery replay --destination bot:deploybot --since 15d
is "$RC/$ERR" "1/hookgatectl: delivery replay: at most 14 days at once" \
	"a window longer than 14 days is refused"
run_ctl delivery replay --destination bot:deploybot --since 2024-01-01 --until 2024-01-15T00:00:01+00:00
is "$RC" 1 "14 days and a second is refused too"
run_ctl delivery replay --destination bot:deploybot --since 2024-01-01 --until 2024-01-15T00:00:00Z
is "$RC/$OUT" "0/queued 0 messages for bot:deploybot (stored from 2024-01-01T00:00:00.000000Z until 2024-01-15T00:00:00.000000Z)" \
	"exactly 14 days is taken"
run_ctl delivery replay --destination bot:deploybot --since 1h --until 2h
is "$RC/$ERR" "1/hookgatectl: delivery replay: --since must be before --until" \
	"--since after --until is refused"
run_ctl delivery replay --destination bot:deploybot --since yesterday
is "$RC" 2 "a time PostgreSQL would read but ISO 8601 does not have is a usage error"
run_ctl delivery replay --destination bot:deploybot --since 7
is "$RC" 2 "a duration without its unit is a usage error"
run_ctl delivery replay --destination bot:deploybot
is "$RC" 2 "replay without --since is a usage error"

# ---- help --------------------------------------------------------------------------------------
RC=0
"$HG_BUILDDIR/hookgatectl" --help >"$HG_TMP/help.out" || RC=$?
ok "--help lists the endpoint and delivery commands" test "$RC" = 0 \
	-a "$(grep -c -E '^  (bot|extension|channel) endpoint |^  delivery (status|list|replay)' \
		"$HG_TMP/help.out")" = 9
