#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# shellcheck disable=SC2119
# Leaked-token reports (docs/api-webhooks.md, "Reporting leaked tokens"): POST
# /api/v2/tokens/revoke disables every live token it names with reason exposed, audited, seen
# by the owner in the admin API; the answer is the same 202 whatever the candidates were;
# candidates that are not well-formed tokens never reach PostgreSQL; reports are rate-limited
# per address.
. "$HG_SRCDIR/tests/integration/lib.sh"
. "$HG_SRCDIR/tests/integration/webhook_lib.sh"
. "$HG_SRCDIR/tests/integration/admin_lib.sh"
hg_setup
plan 36

pg_start
# A budget of 40 reports per address that does not refill during the test (the defaults: 10,
# one more a second).
hg_config '[limits]' 'revoke_rate = 0.001' 'revoke_burst = 40'
hg_migrate >/dev/null || bail_out "migrate failed"
webhook_fixtures || bail_out "fixtures failed"
pw dave | hgctl user add dave >/dev/null || bail_out "user dave"
hgctl channel member add general dave >/dev/null || bail_out "dave in general"
read -r PUB_D TOK_D < <(new_token dave d1) || bail_out "token d1"
read -r PUB_GONE TOK_GONE < <(new_token carol gone) || bail_out "token gone"
hgctl token delete "$PUB_GONE" >/dev/null || bail_out "token delete"
# Every statement PostgreSQL runs goes to its log from here on.
pg_sql "ALTER SYSTEM SET log_statement = 'all'" && pg_sql "SELECT pg_reload_conf()" >/dev/null
hg_start || bail_out "hookgated does not start"

report() { http_get "http://127.0.0.1:$HG_PORT/api/v2/tokens/revoke" -X POST --data-binary "$1" \
	-H 'Content-Type: application/json'; }
# The answer without its Date: what a reporter could compare.
answer() { printf '%s|%s|%s' "$HTTP_STATUS" "$(grep -vi '^date:' <<<"$HTTP_HEADERS")" "$HTTP_BODY"; }
statements() { grep -c 'revoke_exposed' "$HG_TMP/pg/postgres.log"; }
token_state() {
	pg_sql "SELECT status || ' ' || coalesce(disabled_reason, '-') || ' ' ||
		(disabled_at IS NOT NULL) FROM hookgate.webhook_tokens WHERE public_id = '$1'"
}
bad_check=${TOK_C%?}$([[ ${TOK_C: -1} == A ]] && echo B || echo A)

# ---- garbage never reaches PostgreSQL ------------------------------------------------------
before=$(statements)
report "[\"$bad_check\", \"hgt_short\", \"not a token\", \"\"]"
garbage=$(answer)
is "$HTTP_STATUS" 202 "only malformed candidates: 202"
sleep 0.3
is "$(statements)" "$before" "... and no statement reached PostgreSQL (invalid checksum dropped)"
report "[\"$TOK_GONE\"]"
unknown=$(answer)
sleep 0.3
is "$(statements)" "$((before + 1))" "a well-formed candidate (a deleted token) is looked up"

# ---- a live token is disabled as exposed -------------------------------------------------------
post "$(channel_path general "$TOK_A")" '{"text":"before"}'
is "$HTTP_STATUS" 204 "alice's token works before the report"
report "[\"x\", \"$TOK_A\", \"$bad_check\"]"
valid=$(answer)
is "$HTTP_STATUS" 202 "a report naming a live token: 202"
is "$HTTP_BODY" "" "... with no body"
is "$valid" "$unknown" "the answer for a live token equals the one for an unknown token"
is "$valid" "$garbage" "... and the one for garbage"
is "$(token_state "$PUB_A")" "disabled exposed true" "the token is disabled, reason exposed, with the time"
is "$(token_state "$PUB_A2")" "active - false" "the owner's other token is untouched"
post "$(channel_path general "$TOK_A")" '{"text":"after"}'
is "$HTTP_STATUS:$(json_field "$HTTP_BODY" code)" 401:token_disabled \
	"the exposed token is refused at once: 401 token_disabled"
like "$(json_field "$HTTP_BODY" message)" 'reported exposed' "... saying it was reported exposed"
is "$(pg_sql "SELECT count(*) FROM hookgate.token_usage u JOIN hookgate.webhook_tokens t
	ON t.id = u.token_id WHERE t.public_id = '$PUB_A' AND u.http_status = 401")" 1 \
	"... with its usage row"
is "$(pg_sql "SELECT a.actor || ' ' || a.action || ' ' || (a.details->>'reason') || ' ' ||
	host(a.client_addr) FROM hookgate.audit_log a WHERE a.details->>'token' = '$PUB_A'
	AND a.action = 'token.exposed'")" "revocation-api token.exposed exposed 127.0.0.1" \
	"audited: actor revocation-api, action token.exposed, the reporter's address"
report "[\"$TOK_A\"]"
is "$(pg_sql "SELECT count(*) FROM hookgate.audit_log WHERE action = 'token.exposed'")" 1 \
	"a second report of the same token changes and audits nothing"

# ---- the owner sees it -------------------------------------------------------------------------
report "[\"$TOK_D\"]"
login dave || bail_out "dave cannot sign in"
api dave GET /admin/api/tokens ''
like "$HTTP_BODY" '"status":"disabled"' "admin API: the token is disabled"
like "$HTTP_BODY" '"disabled_reason":"exposed","disabled_at":"[0-9-]+T[0-9:]+Z"' \
	"admin API: disabled_reason exposed and disabled_at"

# ---- an exposed token is back in service only with a new secret ---------------------------
api dave PATCH "/admin/api/tokens/$PUB_D" '{"status":"active"}'
is "$HTTP_STATUS:$(json_field "$HTTP_BODY" code)" 409:token_exposed \
	"enabling an exposed token as it is: 409 token_exposed"
like "$(json_field "$HTTP_BODY" message)" 'rotate its secret' "... saying to rotate it first"
out=$(hgctl token enable "$PUB_D" 2>&1)
rc=$?
is "$rc:$(token_state "$PUB_D")" "$((rc ? rc : 1)):disabled exposed true" \
	"hookgatectl token enable refuses it too (exit $rc), the token unchanged"
like "$out" 'reported exposed' "... with the reason"
api dave POST "/admin/api/tokens/$PUB_D/rotate" '{"grace":"1h"}'
is "$HTTP_STATUS:$(json_field "$HTTP_BODY" code)" 400:invalid_request \
	"a rotation that keeps the leaked secret working for a grace: 400"
like "$(json_field "$HTTP_BODY" message)" 'without a grace' "... saying why"
api dave POST "/admin/api/tokens/$PUB_D/rotate" '{"grace":"0s"}'
is "$HTTP_STATUS" 200 "a rotation without grace: 200"
NEW_D=$(sed -n 's/.*"secret":"\([^"]*\)".*/\1/p' <<<"$HTTP_BODY")
hg_note_secrets "$NEW_D"
is "$(token_state "$PUB_D")" "disabled owner true" "... the token stays disabled, reason owner now"
api dave PATCH "/admin/api/tokens/$PUB_D" '{"status":"active"}'
is "$HTTP_STATUS" 200 "then enabling it: 200"
like "$HTTP_BODY" '"disabled_reason":null,"disabled_at":null' "... which clears the reason"
post "$(channel_path general "$NEW_D")" '{"text":"new secret"}'
is "$HTTP_STATUS" 204 "the new secret posts: 204"
post "$(channel_path general "$TOK_D")" '{"text":"leaked secret"}'
is "$HTTP_STATUS:$(json_field "$HTTP_BODY" code)" 401:token_invalid "the leaked one: 401 token_invalid"
is "$(pg_sql "SELECT string_agg(action, ' ' ORDER BY id) FROM hookgate.audit_log
	WHERE details->>'token' = '$PUB_D' AND action IN ('token.rotate', 'token.enable')")" \
	"token.rotate token.enable" "the rotation and the enable are audited"
api dave PATCH "/admin/api/tokens/$PUB_D" '{"status":"disabled"}'
like "$HTTP_BODY" '"disabled_reason":"owner"' "a disable by the owner has reason owner"

# ---- bodies and the rate limit ------------------------------------------------------------
report '{"tokens":[]}'
is "$HTTP_STATUS" 400 "a body that is not an array: 400 invalid_request"
report "[$(printf '"x",%.0s' $(seq 100))\"x\"]"
is "$HTTP_STATUS" 400 "101 candidates: 400"
report '[]'
is "$HTTP_STATUS" 202 "an empty list: 202"
codes=''
for _ in $(seq 45); do
	report '[]'
	codes+="$HTTP_STATUS "
done
like "$codes" '429' "reports over the per-address budget: 429"
# From an address that has not reported yet: exactly limits.revoke_burst before the first 429.
accepted=0
for _ in $(seq 45); do
	http_get "http://127.0.0.1:$HG_PORT/api/v2/tokens/revoke" -X POST --data-binary '[]' \
		-H 'Content-Type: application/json' --interface 127.0.0.2
	[[ $HTTP_STATUS == 202 ]] || break
	accepted=$((accepted + 1))
done
is "$accepted:$HTTP_STATUS" "40:429" "limits.revoke_burst = 40: 40 reports from a new address, then 429"
