#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# t_token_life.sh: a token's lifecycle through the admin API against the real daemon and
# PostgreSQL (docs/api-admin.md, "Token lifecycle"): rotation with a grace period (both secrets
# work, then the old one is token_invalid; usage rows record the generation; the five-token
# limit is unaffected), expiry (token_expired, the list's expiring_soon, the maximum lifetime),
# and source and target limits (forbidden_source, forbidden), each taking effect on the next
# call and audited.
. "$HG_SRCDIR/tests/integration/lib.sh"
. "$HG_SRCDIR/tests/integration/admin_lib.sh"
hg_setup
plan 51

pg_start
hg_config '[security]' 'max_token_lifetime = 30d'
hg_migrate >/dev/null || bail_out "migrate failed"
hgctl user add alice <<<"$(pw alice)" >/dev/null || bail_out "user add failed"
{ hgctl channel add general && hgctl channel add alerts &&
	hgctl channel member add general alice && hgctl channel member add alerts alice; } \
	>/dev/null || bail_out "channels failed"
hg_start || bail_out "hookgated does not start"
login alice || bail_out "alice cannot sign in"

# call CHANNEL SECRET: posts a message; sets HTTP_STATUS and HTTP_BODY.
call() {
	http_get "http://127.0.0.1:$HG_PORT/api/v2/channelsbyname/$1/message?zapikey=$2" \
		-X POST -H 'Content-Type: application/json' --data-binary '{"text":"hi"}'
}
usage_of() { # usage_of PUBLIC_ID: "status:generation" of its last usage row
	q "SELECT u.http_status || ':' || coalesce(u.generation::text, '-')
	     FROM hookgate.token_usage u JOIN hookgate.webhook_tokens t ON t.id = u.token_id
	    WHERE t.public_id = '$1' ORDER BY u.at DESC, u.seq DESC LIMIT 1"
}
audit_of() { # audit_of ACTION PUBLIC_ID
	q "SELECT count(*) FROM hookgate.audit_log WHERE action = '$1'
	     AND details->>'token' = '$2' AND actor = 'admin-api'"
}
in_days() { date -u -d "+$1 days" +%Y-%m-%dT%H:%M:%SZ; }

# ---- rotation ----------------------------------------------------------------------------------
api alice POST /admin/api/tokens '{"name":"ci"}'
is "$HTTP_STATUS" 201 "create: 201"
pub=$(jstr id)
s1=$(jstr secret)
hg_note_secrets "$s1"
like "$HTTP_BODY" '"generation":1' "a new token is generation 1"
like "$HTTP_BODY" '"expiring_soon":false' "with a 30-day maximum lifetime: expiring_soon false"
[[ $(q "SELECT expires_at > now() + interval '29 days' FROM hookgate.webhook_tokens
	WHERE public_id = '$pub'") == t ]]
is $? 0 "no expires_at asked, security.max_token_lifetime set: it expires in 30 days"
call general "$s1"
is "$HTTP_STATUS" 204 "the first secret works"
is "$(usage_of "$pub")" "204:1" "its usage row records generation 1"

api alice POST "/admin/api/tokens/$pub/rotate" '{"grace":"3s"}'
is "$HTTP_STATUS" 200 "rotate with a 3 s grace: 200"
s2=$(jstr secret)
hg_note_secrets "$s2"
like "$s2" '^hgt_' "rotate returns a new secret"
[[ $s2 != "$s1" ]]
is $? 0 "the new secret differs"
is "$(jstr id)" "$pub" "the public id stays"
call general "$s2"
is "$HTTP_STATUS" 204 "the new secret works at once"
is "$(usage_of "$pub")" "204:2" "its usage row records generation 2"
call general "$s1"
is "$HTTP_STATUS" 204 "the old secret still works during the grace"
is "$(usage_of "$pub")" "204:1" "that usage row records generation 1"
is "$(audit_of token.rotate "$pub")" 1 "the rotation is audited"
api alice GET /admin/api/tokens ''
like "$HTTP_BODY" "\"id\":\"$pub\",\"name\":\"ci\",\"invocations\":3" \
	"name and counters stay across the rotation"

for n in 2 3 4 5; do api alice POST /admin/api/tokens "{\"name\":\"t$n\"}"; done
is "$HTTP_STATUS" 201 "five tokens"
api alice POST "/admin/api/tokens/$pub/rotate" '{"grace":"3s"}'
is "$HTTP_STATUS" 200 "rotating with five tokens: not refused by the five-token limit"
s3=$(jstr secret)
hg_note_secrets "$s3"
api alice POST /admin/api/tokens '{"name":"six"}'
is "$(status_code)" "409 token_limit" "a sixth token is still refused"
call general "$s1"
is "$(status_code)" "401 token_invalid" "two rotations later the first secret is token_invalid"
call general "$s2"
is "$HTTP_STATUS" 204 "the second secret works in its grace"
sleep 3.2
call general "$s2"
is "$(status_code)" "401 token_invalid" "after the grace the previous secret is token_invalid"
call general "$s3"
is "$HTTP_STATUS" 204 "the current secret works"
api alice POST "/admin/api/tokens/$pub/rotate" '{"grace":"8d"}'
is "$(status_code)" "400 invalid_request" "a grace over 7 days: 400"

# ---- expiry ------------------------------------------------------------------------------------
api alice PUT "/admin/api/tokens/$pub/limits" "{\"expires_at\":\"$(in_days 3)\"}"
is "$HTTP_STATUS" 200 "set expires_at in 3 days: 200"
api alice GET /admin/api/tokens ''
like "$HTTP_BODY" "\"id\":\"$pub\"[^}]*\"expiring_soon\":true" "the list flags it expiring soon"
api alice PUT "/admin/api/tokens/$pub/limits" "{\"expires_at\":\"$(in_days 40)\"}"
is "$(status_code)" "400 invalid_request" "beyond security.max_token_lifetime: 400"
api alice POST /admin/api/tokens "{\"name\":\"x\",\"expires_at\":\"$(in_days -1)\"}"
is "$(status_code)" "400 invalid_request" "creating with an expiry in the past: 400"
is "$(audit_of token.expiry "$pub")" 1 "the expiry change is audited"
call general "$s3"
q "UPDATE hookgate.webhook_tokens SET expires_at = now() - interval '1 second'
    WHERE public_id = '$pub'" >/dev/null
call general "$s3"
is "$(status_code)" "401 token_expired" "expired (set just before): the next call is 401 token_expired"
is "$(usage_of "$pub")" "401:3" "the refused call has its usage row"
api alice PUT "/admin/api/tokens/$pub/limits" "{\"expires_at\":\"$(in_days 20)\"}"
call general "$s3"
is "$HTTP_STATUS" 204 "a new expiry: the token works again"

# ---- source and target limits --------------------------------------------------------------------
api alice PUT "/admin/api/tokens/$pub/limits" '{"networks":["10.0.0.0/8","2001:db8::/32"]}'
is "$HTTP_STATUS" 200 "limit to networks without 127.0.0.1: 200"
call general "$s3"
is "$(status_code)" "403 forbidden_source" "the next call from 127.0.0.1: 403 forbidden_source"
is "$(usage_of "$pub")" "403:3" "the refused call has its usage row"
api alice PUT "/admin/api/tokens/$pub/limits" '{"networks":["10.0.0.1/8"]}'
is "$(status_code)" "400 invalid_request" "a network with host bits set: 400"
api alice PUT "/admin/api/tokens/$pub/limits" '{"networks":["127.0.0.0/8"]}'
call general "$s3"
is "$HTTP_STATUS" 204 "limited to 127.0.0.0/8: the call passes"
api alice PUT "/admin/api/tokens/$pub/limits" '{"targets":["channel:alerts"]}'
call general "$s3"
is "$(status_code)" "403 forbidden" "limited to channel:alerts: general is 403 forbidden"
call alerts "$s3"
is "$HTTP_STATUS" 204 "and alerts passes"
api alice PUT "/admin/api/tokens/$pub/limits" '{"targets":["queue:x"]}'
is "$(status_code)" "400 invalid_request" "a malformed target: 400"
api alice PUT "/admin/api/tokens/$pub/limits" '{"networks":null,"targets":null}'
call general "$s3"
is "$HTTP_STATUS" 204 "limits removed: the call passes"
is "$(audit_of token.networks "$pub")" 3 "each networks change is audited"

# ---- hookgatectl -------------------------------------------------------------------------------
out=$(hgctl --json token rotate "$pub" --grace 1h)
s4=$(sed -n 's/.*"secret":"\([^"]*\)".*/\1/p' <<<"$out")
hg_note_secrets "$s4"
like "$out" '"generation":4' "hookgatectl token rotate: generation 4"
call general "$s4"
is "$HTTP_STATUS" 204 "the secret hookgatectl printed works"
call general "$s3"
is "$HTTP_STATUS" 204 "and the previous one works in its 1 h grace"
ok "hookgatectl token limit --networks 10.0.0.0/8" \
	hgctl token limit "$pub" --networks 10.0.0.0/8 --targets channel:general
call general "$s4"
is "$(status_code)" "403 forbidden_source" "set by hookgatectl: forbidden_source"
hgctl token limit "$pub" --targets bot:nobody,channel:x >/dev/null 2>&1
hgctl token limit "$pub" --networks none --expires none >/dev/null 2>&1
like "$(hgctl token limit "$pub" --expires "$(in_days 40)" 2>&1)" "max_token_lifetime" \
	"hookgatectl refuses an expiry beyond the maximum lifetime"
call general "$s4"
is "$(status_code)" "403 forbidden" "targets set by hookgatectl: general is forbidden"
like "$(hgctl token rotate "$pub" --grace 9d 2>&1)" "0 to 7d" "hookgatectl: a grace over 7 days is refused"
is "$(q "SELECT count(*) FROM hookgate.audit_log WHERE actor = 'hookgatectl'
	AND details->>'token' = '$pub' AND action IN ('token.rotate', 'token.networks')")" 3 \
	"hookgatectl's rotation and limits are audited"
