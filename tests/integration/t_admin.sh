#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# shellcheck disable=SC2119 # lib.sh functions with optional arguments, called without
# The admin API of docs/api-admin.md against the real hookgated: two-step login (password, then TOTP
# computed here with openssl), enrollment and recovery codes, replay refusal, lockout and
# "user unlock", "user reset-2fa", CSRF and origin refusals, the token module (24 racing
# creations, rename rules, status, delete, secret copy, usage paging, cross-user 404s), modules
# and every webhook-url variant, audit rows, logout, session expiry and PostgreSQL down.
. "$HG_SRCDIR/tests/integration/lib.sh"
. "$HG_SRCDIR/tests/integration/admin_lib.sh"
hg_setup
plan 170

is "$(totp_at GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ 1)" 287082 \
	"the test's TOTP helper gives RFC 6238's SHA-1 code for T=59"

pg_start
# Every login here comes from 127.0.0.1, a few dozen in a minute: more than the default budget
# of password checks per address (t_admin_flood.sh tests that budget).
hg_config '[security]' 'login_max_failures = 3' 'login_lockout = 10m' 'login_burst = 1000' \
	'[server]' 'admin_max_body_size = 8k'
hg_migrate >/dev/null || bail_out "migrate failed"
for who in alice bob carol dave racer; do
	hgctl user add "$who" --display-name "User ${who^}" <<<"$(pw "$who")" >/dev/null ||
		bail_out "user add $who failed"
done
hg_start || bail_out "hookgated does not start"

# ---- login, enrollment -------------------------------------------------------------------------
api_raw alice GET /admin/api/tokens ''
is "$(status_code)" "401 unauthenticated" "no cookie: 401 unauthenticated"
password_step alice
is "$HTTP_STATUS" 200 "alice's password: 200"
is "$(jstr next)" enroll "no second factor yet: next is enroll"
like "${SECRET[alice]}" '^[A-Z2-7]{32}$' "the secret is 160 bits of base32"
uri_re="^otpauth://totp/hookgate:alice\\?secret=${SECRET[alice]}&issuer=hookgate"
like "$(jstr otpauth_uri)" "$uri_re" \
	"otpauth URI with issuer hookgate and the secret"
cookie=$(header Set-Cookie)
like "$cookie" '^hookgate_session=[A-Za-z0-9_-]{43}; ' "pre-2FA cookie hookgate_session"
like "$cookie" 'HttpOnly' "the cookie is HttpOnly"
like "$cookie" 'SameSite=Strict' "the cookie is SameSite=Strict"
like "$cookie" 'Max-Age=300' "the pre-2FA cookie lives 5 minutes"
[[ $cookie == *Secure* ]]
is "$?" 1 "no Secure attribute without TLS"
api_raw alice GET /admin/api/tokens ''
is "$(status_code)" "401 2fa_required" "pre-2FA session cannot list tokens"
api_raw alice POST /admin/api/tokens '{"name":"x"}'
is "$(status_code)" "401 2fa_required" "pre-2FA session cannot create tokens"
api_raw alice GET /admin/api/session ''
is "$(status_code)" "401 2fa_required" "pre-2FA session: GET session is 2fa_required"
api_raw alice POST /admin/api/login/totp '{"code":"000000"}'
is "$(status_code)" "401 invalid_code" "a wrong code: 401 invalid_code"
code_for alice
api_raw alice POST /admin/api/login/totp "{\"code\":\"$CODE\"}"
is "$HTTP_STATUS" 200 "the first valid code confirms the enrollment"
CSRF[alice]=$(jstr csrf_token)
like "${CSRF[alice]}" '^[A-Za-z0-9_-]{43}$' "a csrf_token comes with it"
like "$HTTP_BODY" '"user":\{"login":"alice","display_name":"User Alice","is_admin":false\}' \
	"the user object"
like "$(jstr expires_at)" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$' \
	"expires_at is RFC 3339 UTC"
codes=$(grep -oE '"[a-z0-9]{5}-[a-z0-9]{5}"' <<<"$HTTP_BODY" | tr -d '"' | sort -u)
is "$(wc -l <<<"$codes")" 10 "ten distinct recovery codes of the form xxxxx-xxxxx"
like "$(header Set-Cookie)" "Max-Age=900" "the 2FA cookie lives twofa_session_ttl (15m)"
is "$(q "SELECT count(*) FROM hookgate.recovery_codes r JOIN hookgate.users u ON u.id = r.user_id
	WHERE u.login = 'alice'")" 10 "the recovery codes are stored (hashed)"
is "$(q "SELECT count(*) FROM hookgate.recovery_codes WHERE code_hash::text LIKE '%'
	|| encode(convert_to('$(head -n 1 <<<"$codes")', 'UTF8'), 'hex') || '%'")" 0 \
	"no recovery code is stored in clear"
api alice GET /admin/api/session ''
is "$HTTP_STATUS" 200 "GET session with the 2FA session"
session_re='^\{"user":\{"login":"alice","display_name":"User Alice","is_admin":false\},'
session_re+='"expires_at":"[0-9TZ:-]+"\}$'
like "$HTTP_BODY" "$session_re" \
	"session body {user, expires_at}"
is "$(q "SELECT totp_secret_enc IS NOT NULL AND position(convert_to('${SECRET[alice]}', 'UTF8')
	IN totp_secret_enc) = 0 FROM hookgate.users WHERE login = 'alice'")" t \
	"the TOTP secret is stored sealed"

# ---- second login: TOTP, replay, recovery ------------------------------------------------------
used_code=$CODE
password_step alice
is "$HTTP_STATUS $(jstr next)" "200 totp" "enrolled user: next is totp"
api_raw alice POST /admin/api/login/totp "{\"code\":\"$used_code\"}"
is "$(status_code)" "401 code_reused" "a replayed code: 401 code_reused"
api_raw alice POST /admin/api/login/totp '{"code":12}'
is "$(status_code)" "400 invalid_request" "a code that is not a string: 400"
api_raw alice POST /admin/api/login/totp '{"code":'
is "$(status_code)" "400 invalid_request" "malformed JSON: 400 invalid_request"
http_get "$(admin_url)/admin/api/login/totp" -b "$HG_TMP/alice.jar" -H 'Content-Type: text/plain' \
	--data-binary '{"code":"123456"}'
is "$(status_code)" "415 unsupported_media_type" "not application/json: 415"
pad=$(head -c 8300 /dev/zero | tr '\0' p)
api_raw nobody POST /admin/api/login "{\"login\":\"nobody\",\"password\":\"x\",\"pad\":\"$pad\"}"
is "$(status_code)" "413 payload_too_large" "a body over server.admin_max_body_size: 413"
api_raw nobody POST /admin/api/login "{\"login\":\"nobody\",\"password\":\"x\",\"pad\":\"${pad:0:8000}\"}"
is "$(status_code)" "401 invalid_credentials" "... one under it is read"
rcode=$(head -n 1 <<<"$codes")
api_raw alice POST /admin/api/login/recovery "{\"code\":\"${rcode^^}\"}"
is "$HTTP_STATUS" 200 "a recovery code (any case) is the alternative second step"
CSRF[alice]=$(jstr csrf_token)
password_step alice
api_raw alice POST /admin/api/login/recovery "{\"code\":\"$rcode\"}"
is "$(status_code)" "401 code_reused" "a recovery code works once"
api_raw alice POST /admin/api/login/recovery '{"code":"aaaaa-aaaaa"}'
is "$(status_code)" "401 invalid_code" "an unknown recovery code: invalid_code"
ok "alice logs in again with TOTP" login alice
is "$(q "SELECT failed_logins FROM hookgate.users WHERE login = 'alice'")" 0 \
	"a completed second factor resets the failure count"

# ---- wrong password, unknown user, lockout, unlock ----------------------------------------------
password_step bob 'wrong password'
bad_pw_status=$(status_code) bad_pw_body=$HTTP_BODY bad_pw_ms=$HTTP_MS
is "$bad_pw_status" "401 invalid_credentials" "wrong password: 401 invalid_credentials"
api_raw nul POST /admin/api/login "{\"login\":\"bob\\u0000junk\",\"password\":\"$(pw bob)\\u0000x\"}"
is "$(status_code)" "400 invalid_request" \
	"login \"bob\\u0000junk\" with bob's password and \\u0000 more: 400 invalid_request"
ok "... and no session" bash -c "! grep -q hookgate_session '$HG_TMP/nul.jar'"
password_step nobody-here 'whatever password'
is "$(status_code)" "$bad_pw_status" "unknown user: the same status and code"
is "$HTTP_BODY" "$bad_pw_body" "unknown user: the same body"
unknown_ms=$HTTP_MS
# One answer each is at the mercy of whatever else the machine does (CI saw 181 ms against
# 552 ms once): compare the fastest of three for the unknown user with the fastest of two for
# bob, whose third failure would lock him out. (Another unknown login: the audit check below
# counts nobody-here's one failure.)
password_step bob 'wrong password'
((HTTP_MS >= bad_pw_ms)) || bad_pw_ms=$HTTP_MS
for _ in 1 2; do
	password_step nobody-else 'whatever password'
	((HTTP_MS >= unknown_ms)) || unknown_ms=$HTTP_MS
done
ok "unknown user: about the same time (fastest $unknown_ms ms vs $bad_pw_ms ms)" \
	test $((unknown_ms * 3)) -ge "$bad_pw_ms" -a "$unknown_ms" -le $((bad_pw_ms * 3 + 50))
password_step carol 'wrong 1'
is "$(status_code)" "401 invalid_credentials" "carol: failure 1 of 3"
password_step carol 'wrong 2'
is "$(status_code)" "401 invalid_credentials" "carol: failure 2 of 3"
password_step carol 'wrong 3'
is "$(status_code)" "423 account_locked" "the third failure locks the account: 423"
like "$(header Retry-After)" '^(59[0-9]|600)$' "Retry-After: the rest of login_lockout (10m)"
password_step carol
is "$(status_code)" "423 account_locked" "locked: even the right password gets 423"
ok "hookgatectl user unlock carol" hgctl user unlock carol
ok "after unlock carol logs in (and enrolls)" login carol
is "$(audit_count carol login.failure)" 3 "audit: three login.failure rows"
is "$(audit_count carol login.locked)" 1 "audit: a login.locked row"
is "$(q "SELECT count(*) FROM hookgate.audit_log WHERE action = 'login.failure'
	AND user_id IS NULL AND details->>'login' = 'nobody-here'")" 1 \
	"audit: the unknown login's failure"
password_step dave
code_for dave
for i in 1 2; do
	api_raw dave POST /admin/api/login/totp '{"code":"abcdef"}'
done
is "$(status_code)" "401 invalid_code" "dave: two wrong codes"
api_raw dave POST /admin/api/login/totp "{\"code\":\"$CODE\"}"
is "$HTTP_STATUS" 200 "a right code before the limit still works (and resets the count)"
password_step dave
for i in 1 2 3; do
	api_raw dave POST /admin/api/login/totp '{"code":"123"}'
done
is "$(status_code)" "423 account_locked" "wrong codes count towards the lockout too"
hgctl user unlock dave >/dev/null

# ---- reset-2fa -----------------------------------------------------------------------------------
ok "hookgatectl user reset-2fa dave" hgctl user reset-2fa dave
old_secret=${SECRET[dave]}
password_step dave
is "$HTTP_STATUS $(jstr next)" "200 enroll" "after reset-2fa the next login enrolls again"
ok "with a new secret" test "${SECRET[dave]}" != "$old_secret"

# ---- CSRF and origin -----------------------------------------------------------------------------
api_raw alice POST /admin/api/tokens '{"name":"no csrf"}'
is "$(status_code)" "403 csrf_failed" "POST without X-CSRF-Token: 403 csrf_failed"
api_raw alice POST /admin/api/tokens '{"name":"bad csrf"}' -H "X-CSRF-Token: ${CSRF[bob]:-AAAA}"
is "$(status_code)" "403 csrf_failed" "a wrong X-CSRF-Token: 403"
# One character in the middle changed (the last one carries padding bits, and 'A' there can
# spell the same token).
almost=${CSRF[alice]:0:20}
[[ ${CSRF[alice]:20:1} == A ]] && almost+=B || almost+=A
almost+=${CSRF[alice]:21}
api_raw alice POST /admin/api/tokens '{"name":"bad csrf"}' -H "X-CSRF-Token: $almost"
is "$(status_code)" "403 csrf_failed" "an almost right X-CSRF-Token: 403"
api alice POST /admin/api/tokens '{"name":"x"}' -H 'X-CSRF-Token: wrong'
is "$(status_code)" "403 csrf_failed" "the right X-CSRF-Token plus a second, wrong one: 403"
api alice POST /admin/api/tokens '{"name":"x"}' -H 'Sec-Fetch-Site: cross-site'
is "$(status_code)" "403 csrf_failed" "Sec-Fetch-Site: cross-site: 403"
api alice POST /admin/api/tokens '{"name":"x"}' -H 'Origin: http://evil.example'
is "$(status_code)" "403 csrf_failed" "a foreign Origin: 403"
api alice POST /admin/api/tokens '{"name":"x"}' -H "Origin: https://127.0.0.1:$HG_ADMIN_PORT"
is "$(status_code)" "403 csrf_failed" "the right host with the wrong scheme: 403"
api_raw eve POST /admin/api/login '{"login":"alice","password":"x"}' \
	-H 'Origin: http://evil.example'
is "$(status_code)" "403 csrf_failed" "login from a foreign Origin: 403"
is "$(q "SELECT count(*) FROM hookgate.webhook_tokens")" 0 "nothing was created by any of them"
api alice GET /admin/api/tokens '' -H 'Origin: http://evil.example'
is "$HTTP_STATUS" 200 "GET is not refused for its Origin"

# ---- the token module ----------------------------------------------------------------------------
api alice POST /admin/api/tokens '{"name":"Deploy bot"}' -H "Origin: $(admin_url)" \
	-H 'Sec-Fetch-Site: same-origin'
is "$HTTP_STATUS" 201 "create with the right CSRF token and own Origin: 201"
T1=$(jstr id) S1=$(jstr secret)
like "$T1" '^tk_[0-9A-Za-z]{16}$' "token id tk_…"
like "$S1" '^hgt_[0-9A-Za-z]{33}$' "secret hgt_…"
token_re='"id":"tk_[0-9A-Za-z]+","name":"Deploy bot","invocations":0,"last_invoked_at":null,'
token_re+='"status":"active","created_at":"[0-9TZ:-]+","disabled_reason":null,"disabled_at":null,'
token_re+='"expires_at":null,"expired":false,'
token_re+='"expiring_soon":false,"networks":null,"targets":null,"generation":1,"previous_until":null'
like "$HTTP_BODY" "^\\{\"token\":\\{$token_re,\"secret\":\"hgt_[0-9A-Za-z]+\"\\}\\}$" \
	"201 body shape"
is "$(q "SELECT count(*) FROM hookgate.webhook_tokens WHERE position(convert_to('$S1', 'UTF8')
	IN secret_enc) > 0")" 0 "the secret is not stored in clear"
api alice GET /admin/api/tokens ''
last_re=',"last_used_at":null,"last_client_addr":null,"last_user_agent":null'
like "$HTTP_BODY" "^\\{\"limit\":5,\"tokens\":\\[\\{${token_re/tk_\[0-9A-Za-z\]+/$T1}$last_re\\}\\]\\}$" \
	"list: {limit:5, tokens:[…]} without secrets"
like "$(header Cache-Control)" no-store "answers are Cache-Control: no-store"
api alice GET "/admin/api/tokens/$T1/secret" ''
is "$HTTP_STATUS $(jstr secret)" "200 $S1" "secret copy equals the created secret"

for name in '' "$(printf 'n%.0s' {1..65})" 'tab\there' 'bell\u0007' 'c1 \u0085' ; do
	api alice PATCH "/admin/api/tokens/$T1" "{\"name\":\"$name\"}"
	is "$(status_code)" "400 invalid_name" "rename to '${name:0:12}' (${#name} bytes): 400"
done
name_before=$(q "SELECT name FROM hookgate.webhook_tokens WHERE public_id = '$T1'")
api alice PATCH "/admin/api/tokens/$T1" $'{"name":"bad \xff utf8"}'
is "$(status_code)" "400 invalid_request" "rename to invalid UTF-8: 400 (not JSON text)"
api alice PATCH "/admin/api/tokens/$T1" '{"name":"ab\u0000cd"}'
is "$(status_code)" "400 invalid_request" "rename to \"ab\\u0000cd\": 400 invalid_request"
api alice PATCH "/admin/api/tokens/$T1" '{"name":"ab","name":"cd"}'
is "$(status_code)" "400 invalid_request" "a member given twice: 400 invalid_request"
is "$(q "SELECT name FROM hookgate.webhook_tokens WHERE public_id = '$T1'")" "$name_before" \
	"... the name is unchanged"
api alice PATCH "/admin/api/tokens/$T1" '{"name":42}'
is "$(status_code)" "400 invalid_name" "a name that is not a string: 400 invalid_name"
api alice POST /admin/api/tokens '{"name":""}'
is "$(status_code)" "400 invalid_name" "create with an empty name: 400 invalid_name"
api alice PATCH "/admin/api/tokens/$T1" '{"status":"paused"}'
is "$(status_code)" "400 invalid_request" "an unknown status: 400"
api alice PATCH "/admin/api/tokens/$T1" '{}'
is "$(status_code)" "400 invalid_request" "nothing to change: 400"
long=$(printf 'é%.0s' {1..64})
api alice PATCH "/admin/api/tokens/$T1" "{\"name\":\"$long\"}"
is "$HTTP_STATUS $(jstr name)" "200 $long" "64 two-byte characters are a valid name"
api alice PATCH "/admin/api/tokens/$T1" '{"name":"Prod deploy","status":"disabled"}'
is "$HTTP_STATUS $(jstr name) $(jstr status)" "200 Prod deploy disabled" \
	"rename and disable at once: 200 {token}"
is "$(q "SELECT status || ' ' || name FROM hookgate.webhook_tokens WHERE public_id = '$T1'")" \
	"disabled Prod deploy" "stored"
api alice PATCH "/admin/api/tokens/$T1" '{"status":"active"}'
is "$HTTP_STATUS $(jstr status)" "200 active" "enable again"
is "$(audit_count alice token.rename)" 2 "audit: token.rename rows"
is "$(audit_count alice token.disable) $(audit_count alice token.enable)" "1 1" \
	"audit: token.disable and token.enable"
is "$(q "SELECT details->>'old_name' FROM hookgate.audit_log WHERE action = 'token.rename'
	ORDER BY id DESC LIMIT 1")" "$long" "the rename audit row keeps the old name"
is "$(audit_count alice token.create) $(audit_count alice token.copy)" "1 1" \
	"audit: token.create and token.copy"

# ---- 24 racing creations -------------------------------------------------------------------------
ok "racer logs in" login racer
pids=()
for i in $(seq 24); do
	curl -s -o /dev/null -w '%{http_code}\n' --max-time 30 -X POST -b "$HG_TMP/racer.jar" \
		-H 'Content-Type: application/json' -H "X-CSRF-Token: ${CSRF[racer]}" \
		--data-binary "{\"name\":\"race $i\"}" "$(admin_url)/admin/api/tokens" \
		>"$HG_TMP/race.$i" &
	pids+=($!)
done
wait "${pids[@]}"
results=$(cat "$HG_TMP"/race.* | sort | uniq -c | awk '{print $2 "x" $1}' | paste -sd' ' -)
is "$results" "201x5 409x19" "24 racing creations: exactly 5 created, 19 refused"
is "$(q "SELECT count(*) FROM hookgate.webhook_tokens t JOIN hookgate.users u
	ON u.id = t.user_id WHERE u.login = 'racer' AND t.deleted_at IS NULL")" 5 \
	"five live tokens in the database"
api racer POST /admin/api/tokens '{"name":"sixth"}'
is "$(status_code)" "409 token_limit" "the sixth: 409 token_limit"
api racer GET /admin/api/tokens ''
RT=$(jstr id)
api racer DELETE "/admin/api/tokens/$RT" ''
is "$HTTP_STATUS" 204 "delete: 204"
api racer POST /admin/api/tokens '{"name":"after delete"}'
is "$HTTP_STATUS" 201 "a deleted token does not count: a new one may be created"
is "$(q "SELECT (deleted_at IS NOT NULL) || ' ' || (token_hash IS NULL) || ' ' ||
	(secret_enc IS NULL) FROM hookgate.webhook_tokens WHERE public_id = '$RT'")" \
	"true true true" "soft delete: the row stays with its secret forms cleared"
api racer DELETE "/admin/api/tokens/$RT" ''
is "$(status_code)" "404 not_found" "deleting it again: 404"
api racer GET "/admin/api/tokens/$RT/secret" ''
is "$(status_code)" "404 not_found" "a deleted token's secret: 404"

# ---- cross-user 404s -----------------------------------------------------------------------------
ok "bob logs in" login bob
api bob POST /admin/api/tokens '{"name":"bob token"}'
TB=$(jstr id) SB=$(jstr secret)
api alice GET "/admin/api/tokens/$TB/secret" ''
is "$(status_code)" "404 not_found" "another user's token: secret 404"
api alice PATCH "/admin/api/tokens/$TB" '{"name":"mine now"}'
is "$(status_code)" "404 not_found" "another user's token: PATCH 404"
api alice PATCH "/admin/api/tokens/$TB" '{"status":"disabled"}'
is "$(status_code)" "404 not_found" "another user's token: disable 404"
api alice DELETE "/admin/api/tokens/$TB" ''
is "$(status_code)" "404 not_found" "another user's token: DELETE 404"
api alice GET "/admin/api/tokens/$TB/usage" ''
is "$(status_code)" "404 not_found" "another user's token: usage 404"
api alice GET "/admin/api/tokens/$TB/webhook-url?module=channel&channel=general" ''
is "$(status_code)" "404 not_found" "another user's token: webhook-url 404"
api bob GET "/admin/api/tokens/$TB/secret" ''
is "$HTTP_STATUS $(jstr secret) $(jstr name)" "200 $SB " "bob's token is untouched"
is "$(q "SELECT name || ' ' || status FROM hookgate.webhook_tokens WHERE public_id = '$TB'")" \
	"bob token active" "and unchanged in the database"
api alice GET "/admin/api/tokens/not-a-token/secret" ''
is "$(status_code)" "404 not_found" "a malformed id: 404"
api alice GET "/admin/api/tokens/tk_AAAAAAAAAAAAAAAA/usage" ''
is "$(status_code)" "404 not_found" "an unknown id: 404"

# ---- usage history, keyset pagination ----------------------------------------------------------
q "INSERT INTO hookgate.token_usage (token_id, user_id, at, module, target, http_status,
	client_addr, user_agent, latency_us)
   SELECT t.id, t.user_id,
	timestamptz '2026-01-01 00:00:00+00' + make_interval(mins => least(g, 6)),
	'channel', 'general', CASE WHEN g = 8 THEN 403 ELSE 204 END, '203.0.113.7', 'ua-' || g, 1500
     FROM hookgate.webhook_tokens t, generate_series(1, 8) AS g
    WHERE t.public_id = '$T1' ORDER BY g" >/dev/null
agents() {
	grep -oE '"user_agent":"ua-[0-9]+"' <<<"$HTTP_BODY" | grep -oE '[0-9]+' | paste -sd, -
}
api alice GET "/admin/api/tokens/$T1/usage?limit=2" ''
is "$HTTP_STATUS $(agents)" "200 8,7" "usage page 1 (limit 2): newest first, ties by insertion"
usage_re='^\{"usage":\[\{"at":"2026-01-01T00:06:00.000Z","module":"channel","target":"general",'
usage_re+='"status":403,"client_addr":"203.0.113.7","user_agent":"ua-8","latency_ms":1.5,"message_id":null,"node":null\}'
like "$HTTP_BODY" "$usage_re" \
	"usage row shape"
pages="$(agents)"
for i in 2 3 4; do
	cursor=$(jstr next)
	api alice GET "/admin/api/tokens/$T1/usage?limit=2&before=$cursor" ''
	pages+=" $(agents)"
done
is "$pages" "8,7 6,5 4,3 2,1" "four pages of two, no row twice or missing (ties across pages)"
like "$HTTP_BODY" '"next":null\}$' "the last page has next: null"
api alice GET "/admin/api/tokens/$T1/usage" ''
is "$(agents)" "8,7,6,5,4,3,2,1" "default limit: everything here, next null"
for bad in 'limit=0' 'limit=201' 'limit=abc' 'before=bm9wZQ' 'before=%%' 'limit=1&limit=2'; do
	api alice GET "/admin/api/tokens/$T1/usage?$bad" ''
	is "$(status_code)" "400 invalid_request" "usage?$bad: 400"
done
api alice GET "/admin/api/tokens/$T1/usage?limit=200" ''
is "$HTTP_STATUS" 200 "limit=200 is allowed"

# ---- modules and webhook URLs ------------------------------------------------------------------
{
	hgctl channel add general --title "General talk"
	hgctl channel member add general alice
	hgctl channel add private_room
	hgctl bot add helper --owner bob
	hgctl bot subscribe helper alice
	hgctl bot add solo --owner alice
	hgctl bot add other --owner bob
	hgctl --json extension add ext1 --owner alice >"$HG_TMP/ext1.json"
} >/dev/null || bail_out "module set-up failed"
ext=$(cat "$HG_TMP/ext1.json")
re='"sandbox":\{"app_id":"([^"]+)","appkey":"([^"]+)"\},'
re+='"marketplace":\{"app_id":"([^"]+)","appkey":"([^"]+)"\}'
[[ $ext =~ $re ]] || bail_out "cannot read extension add --json: $ext"
SB_ID=${BASH_REMATCH[1]} SB_KEY=${BASH_REMATCH[2]}
MP_ID=${BASH_REMATCH[3]} MP_KEY=${BASH_REMATCH[4]}
api alice GET /admin/api/modules ''
modules='{"channels":[{"name":"general","title":"General talk"}],'
modules+='"bots":[{"name":"helper","owned":false},{"name":"solo","owned":true}],'
modules+="\"extensions\":[{\"name\":\"ext1\",\"sandbox_app_id\":\"$SB_ID\","
modules+="\"marketplace_app_id\":\"$MP_ID\"}]}"
is "$HTTP_BODY" "$modules" \
	"modules: alice's channels, bots (owned or subscribed) and extensions"
base="http://127.0.0.1:$HG_PORT"
wurl() {
	api alice GET "/admin/api/tokens/$T1/webhook-url?$1" ''
	printf '%s %s\n' "$HTTP_STATUS" "$(jstr url)"
}
is "$(wurl 'module=channel&channel=General')" \
	"200 $base/api/v2/channelsbyname/general/message?zapikey=$S1" "webhook-url: channel"
is "$(wurl 'module=bot&bot=helper&endpoint=incoming')" \
	"200 $base/api/v2/bots/helper/incoming?zapikey=$S1" "webhook-url: bot incoming (subscribed)"
is "$(wurl 'module=bot&bot=solo&endpoint=message')" \
	"200 $base/api/v2/bots/solo/message?zapikey=$S1" "webhook-url: bot message (owned)"
is "$(wurl 'module=extension&extension=ext1&env=sandbox')" \
	"200 $base/api/v2/applications/$SB_ID/incoming?appkey=$SB_KEY&zapikey=$S1" \
	"webhook-url: extension sandbox with its app id and appkey"
is "$(wurl 'module=extension&extension=ext1&env=marketplace')" \
	"200 $base/api/v2/applications/$MP_ID/incoming?appkey=$MP_KEY&zapikey=$S1" \
	"webhook-url: extension marketplace with its app id and appkey"
for bad in 'module=channel&channel=private_room' 'module=bot&bot=other&endpoint=incoming' \
	'module=channel&channel=nosuch'; do
	wurl "$bad" >/dev/null
	is "$(status_code)" "404 not_found" "webhook-url $bad: 404"
done
for bad in 'module=fax' 'module=bot&bot=helper' 'module=bot&bot=helper&endpoint=outgoing' \
	'module=extension&extension=ext1' 'module=channel' 'module=channel&channel=a%2Fb'; do
	wurl "$bad" >/dev/null
	is "$(status_code)" "400 invalid_request" "webhook-url $bad: 400"
done
is "$(q "SELECT count(*) FROM hookgate.audit_log WHERE action = 'token.copy'
	AND details->>'via' = 'webhook-url'")" 5 "every webhook URL handed out is audited"

# ---- the webhook side sees deletes and disables at once ------------------------------------
call() {
	curl -s -o "$HG_TMP/call.out" -w '%{http_code}' -X POST \
		-H 'Content-Type: application/json' \
		--data '{"text":"hi"}' --max-time 5 \
		"$base/api/v2/channelsbyname/general/message?zapikey=$1"
	printf ' %s\n' "$(grep -oE '"code":"[a-z_]+"' "$HG_TMP/call.out" | cut -d'"' -f4)"
}
is "$(call "$S1")" "204 " "alice's token posts to her channel"
api alice PATCH "/admin/api/tokens/$T1" '{"status":"disabled"}'
is "$(call "$S1")" "401 token_disabled" "disabled: refused at once"
api alice DELETE "/admin/api/tokens/$T1" ''
is "$(call "$S1")" "401 token_invalid" "deleted: refused at once"
is "$(q "SELECT count(*) FROM hookgate.token_usage t JOIN hookgate.webhook_tokens w
	ON w.id = t.token_id WHERE w.public_id = '$T1'")" 10 "the usage history stays after delete"

# ---- routing ------------------------------------------------------------------------------------
api alice GET /admin/ ''
is "$HTTP_STATUS" 404 "GET /admin/ is not served here (yet)"
api alice PUT /admin/api/tokens ''
is "$(status_code)" "405 method_not_allowed" "PUT /admin/api/tokens: 405"
like "$(header Allow)" 'GET, HEAD, POST' "with Allow"

# ---- audit rows of logins ------------------------------------------------------------------------
is "$(audit_count alice login.enroll)" 1 "audit: login.enroll"
is "$(audit_count alice login.recovery_code)" 1 "audit: login.recovery_code"
is "$(audit_count alice login.success)" 3 "audit: login.success for each completed login"

# ---- logout --------------------------------------------------------------------------------------
sid=$(awk '$6 == "hookgate_session" {print $7}' "$HG_TMP/bob.jar")
api_raw bob POST /admin/api/logout '' -H 'X-CSRF-Token: wrong'
is "$(status_code)" "403 csrf_failed" "logout needs the CSRF token"
api bob POST /admin/api/logout ''
is "$HTTP_STATUS" 204 "logout: 204"
like "$(header Set-Cookie)" 'hookgate_session=;.*Max-Age=0' "logout clears the cookie"
http_get "$(admin_url)/admin/api/tokens" -H "Cookie: hookgate_session=$sid"
is "$(status_code)" "401 unauthenticated" "the old session id is dead on the server"
is "$(audit_count bob logout)" 1 "audit: logout"

# ---- expiry with a short twofa_session_ttl -------------------------------------------------------
hg_stop >/dev/null
hg_config '[security]' 'twofa_session_ttl = 10s'
hg_start || bail_out "hookgated does not restart"
ok "alice logs in under a 10 s twofa_session_ttl" login alice
first_expiry=$(jstr expires_at)
like "$(header Set-Cookie)" 'Max-Age=10' "cookie Max-Age 10"
# The cookie is sent by hand: curl itself drops it once its Max-Age has passed.
sid=$(awk '$6 == "hookgate_session" {print $7}' "$HG_TMP/alice.jar")
sleep 5
http_get "$(admin_url)/admin/api/session" -H "Cookie: hookgate_session=$sid"
is "$HTTP_STATUS $(jstr expires_at)" "200 $first_expiry" "activity does not move expires_at"
sleep 6
http_get "$(admin_url)/admin/api/tokens" -H "Cookie: hookgate_session=$sid"
is "$(status_code)" "401 session_expired" "after 10 s: 401 session_expired"
http_get "$(admin_url)/admin/api/tokens" -H "Cookie: hookgate_session=$sid"
is "$(status_code)" "401 unauthenticated" "and then unauthenticated"

# ---- PostgreSQL down -----------------------------------------------------------------------------
ok "alice logs in once more" login alice
pg_stop >/dev/null
api alice GET /admin/api/tokens ''
is "$(status_code)" "503 unavailable" "PostgreSQL stopped: 503 unavailable"
ok "with Retry-After" header Retry-After
