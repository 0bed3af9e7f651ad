#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# shellcheck disable=SC2119 # lib.sh functions with optional arguments, called without
# Owners and the organisation (docs/api-admin.md, docs/hookgatectl.md) against the real
# hookgated: where each token was last used from, the administrator role (every user's token
# metadata, never their secrets; disable and delete audited with the actor), the audit API's
# scoping and paging, and the owner lifecycle: "user disable" refuses the tokens at once with
# 401 token_disabled, ends the sessions and refuses sign-in; "user enable" restores;
# "user delete" deletes the tokens and keeps the history.
. "$HG_SRCDIR/tests/integration/lib.sh"
. "$HG_SRCDIR/tests/integration/admin_lib.sh"
. "$HG_SRCDIR/tests/integration/webhook_lib.sh"
hg_setup
plan 65

pg_start
hg_config '[security]' 'login_burst = 1000'
hg_migrate >/dev/null || bail_out "migrate failed"
for who in alice bob carol; do
	hgctl user add "$who" --display-name "User ${who^}" <<<"$(pw "$who")" >/dev/null ||
		bail_out "user add $who failed"
done
hgctl channel add general >/dev/null || bail_out "channel add failed"
hgctl channel member add general alice >/dev/null || bail_out "channel member add failed"
read -r PUB_A TOK_A < <(new_token alice deploy) || bail_out "token a1"
read -r PUB_A2 _ < <(new_token alice spare) || bail_out "token a2"
read -r PUB_C _ < <(new_token carol carols) || bail_out "token c1"
hg_start || bail_out "hookgated does not start"

# lastused LOGIN ID: "addr|agent" of token ID in LOGIN's token list.
lastused() {
	api "$1" GET /admin/api/tokens ''
	# shellcheck disable=SC2016 # JavaScript, not shell
	node -e 'const t = JSON.parse(process.argv[1]).tokens.find((x) => x.id === process.argv[2]);
		console.log(`${t.last_client_addr}|${t.last_user_agent}|${t.last_used_at !== null}`)' \
		"$HTTP_BODY" "$2"
}
call_a() { post "$(channel_path general "$TOK_A")" '{"text":"hi"}' -A "${1:-curl-test}"; }

# ---- last used from ------------------------------------------------------------------------------
call_a agent-one/1.0
is "$HTTP_STATUS" 204 "alice's token posts"
ok "alice logs in" login alice
is "$(lastused alice "$PUB_A")" "127.0.0.1|agent-one/1.0|true" \
	"the token list shows the last client address and user agent"
is "$(lastused alice "$PUB_A2")" "null|null|false" "a token never used: nulls"
call_a agent-two/2.0
is "$(lastused alice "$PUB_A")" "127.0.0.1|agent-two/2.0|true" "the latest call wins"

# ---- the administrator role -----------------------------------------------------------------------
ok "carol logs in" login carol
api carol GET /admin/api/org/tokens ''
is "$(status_code)" "403 admin_required" "not an administrator: the organisation list is 403"
api carol GET "/admin/api/tokens/$PUB_A/usage" ''
is "$(status_code)" "404 not_found" "not an administrator: another's usage is 404"
api carol PATCH "/admin/api/tokens/$PUB_A" '{"status":"disabled"}'
is "$(status_code)" "404 not_found" "not an administrator: another's disable is 404"
ok "grant-admin bob" hgctl user grant-admin bob
ok "bob logs in" login bob
like "$HTTP_BODY" '"is_admin":true' "the session tells the administrator"
api bob GET /admin/api/org/tokens ''
is "$HTTP_STATUS" 200 "the organisation list: 200"
like "$HTTP_BODY" "\"id\":\"$PUB_A\",\"name\":\"deploy\"" "it holds alice's token"
like "$HTTP_BODY" "\"id\":\"$PUB_C\"" "and carol's"
like "$HTTP_BODY" '"owner":\{"login":"alice","display_name":"User Alice","status":"active"\}' \
	"with its owner"
like "$HTTP_BODY" '"last_user_agent":"agent-two/2.0"' "and where it was last used from"
[[ $HTTP_BODY == *hgt_* || $HTTP_BODY == *secret* ]]
is "$?" 1 "no secret in the organisation list"
api bob GET '/admin/api/org/tokens?q=DEPL' ''
is "$(grep -o '"id":"tk_[A-Za-z0-9]*"' <<<"$HTTP_BODY" | paste -sd' ' -)" "\"id\":\"$PUB_A\"" \
	"search by name, case-insensitive"
api bob GET '/admin/api/org/tokens?owner=carol' ''
is "$(grep -o '"id":"tk_[A-Za-z0-9]*"' <<<"$HTTP_BODY" | paste -sd' ' -)" "\"id\":\"$PUB_C\"" \
	"filter by owner"
q "UPDATE hookgate.webhook_tokens SET created_at = now() - interval '40 days'
	WHERE public_id IN ('$PUB_A', '$PUB_A2')" >/dev/null
api bob GET '/admin/api/org/tokens?unused_days=30' ''
is "$(grep -o '"id":"tk_[A-Za-z0-9]*"' <<<"$HTTP_BODY" | paste -sd' ' -)" "\"id\":\"$PUB_A2\"" \
	"unused for 30 days: the old token never called (not the one called today)"
api bob GET '/admin/api/org/tokens?status=bogus' ''
is "$(status_code)" "400 invalid_request" "a bad status filter: 400"
api bob GET "/admin/api/tokens/$PUB_A/secret" ''
is "$(status_code)" "404 not_found" "an administrator never copies another's secret: 404"
api bob GET "/admin/api/tokens/$PUB_A/webhook-url?module=channel&channel=general" ''
is "$(status_code)" "404 not_found" "nor gets its webhook URL: 404"
api bob PATCH "/admin/api/tokens/$PUB_A" '{"name":"renamed"}'
is "$(status_code)" "404 not_found" "nor renames it: 404"
api bob GET "/admin/api/tokens/$PUB_A/usage?limit=1" ''
like "$HTTP_STATUS $HTTP_BODY" '^200 .*"user_agent":"agent-two/2.0"' \
	"an administrator reads another's usage history"
api bob PATCH "/admin/api/tokens/$PUB_A" '{"status":"disabled"}'
like "$HTTP_STATUS $HTTP_BODY" '^200 .*"status":"disabled"' "an administrator disables it"
call_a
is "$(status_code)" "401 token_disabled" "the token is refused at once"
is "$(q "SELECT details->>'by' FROM hookgate.audit_log a JOIN hookgate.users u ON u.id = a.user_id
	WHERE u.login = 'alice' AND action = 'token.disable'")" bob \
	"audited on alice's log, naming bob"
api bob PATCH "/admin/api/tokens/$PUB_A" '{"status":"active"}'
is "$HTTP_STATUS" 200 "and enables it again"
api bob GET '/admin/api/org/tokens?owner=alice&status=disabled' ''
like "$HTTP_BODY" '"tokens":\[\]' "status filter: none disabled now"

# ---- the audit API ------------------------------------------------------------------------------
mine=$(q "SELECT count(*) FROM hookgate.audit_log a JOIN hookgate.users u ON u.id = a.user_id
	WHERE u.login = 'alice'")
seen=0 before='' pages=0 logins=''
while :; do
	api alice GET "/admin/api/audit?limit=2${before:+&before=$before}" ''
	[[ $HTTP_STATUS == 200 ]] || break
	pages=$((pages + 1))
	seen=$((seen + $(grep -o '"action":' <<<"$HTTP_BODY" | wc -l)))
	logins+=$(grep -o '"login":"[a-z]*"' <<<"$HTTP_BODY" | sort -u | tr -d '\n')
	before=$(jstr next) || break
	((pages < 50)) || break
done
is "$seen" "$mine" "alice pages through all her audit events, 2 at a time"
is "$(sort -u <<<"${logins//\"login\"/$'\n'}" | grep -v '^$' | paste -sd' ' -)" ':"alice"' \
	"and only hers"
ok "more than one page" test "$pages" -gt 1
api alice GET '/admin/api/audit?limit=500' ''
is "$(status_code)" "400 invalid_request" "limit over 200: 400"
api alice GET '/admin/api/audit?before=bm90LWEtY3Vyc29y' ''
is "$(status_code)" "400 invalid_request" "a foreign cursor: 400"
api bob GET '/admin/api/audit?limit=200' ''
like "$HTTP_BODY" '"login":"carol"' "an administrator sees everyone's events"
like "$HTTP_BODY" '"action":"token.disable","client_addr":"127.0.0.1","details":\{[^}]*"by":"bob"' \
	"including what they did, with the actor"
ok "revoke-admin bob" hgctl user revoke-admin bob
api bob GET /admin/api/org/tokens ''
is "$(status_code)" "403 admin_required" "a revoke counts at the next request"
api bob GET "/admin/api/tokens/$PUB_A/usage" ''
is "$(status_code)" "404 not_found" "and others' tokens are 404 again"

# ---- owner lifecycle: disable, enable -------------------------------------------------------------
call_a
is "$HTTP_STATUS" 204 "before the disable: 204"
api bob PATCH "/admin/api/tokens/$PUB_A" '{"status":"disabled"}' >/dev/null
api alice PATCH "/admin/api/tokens/$PUB_A2" '{"status":"disabled"}'
is "$HTTP_STATUS" 200 "alice disables her spare token herself"
usage_before=$(q "SELECT count(*) FROM hookgate.token_usage")
ok "user disable alice" hgctl user disable alice
call_a
is "$(status_code)" "401 token_disabled" "the next call: 401 token_disabled"
like "$HTTP_BODY" '"message":"[^"]*owner is disabled' "its message says the owner is disabled"
is "$(q "SELECT http_status FROM hookgate.token_usage WHERE token_id = (SELECT id FROM
	hookgate.webhook_tokens WHERE public_id = '$PUB_A') ORDER BY at DESC, seq DESC LIMIT 1")" \
	401 "the refused call has its usage row"
is "$(q "SELECT count(*) FROM hookgate.admin_sessions s JOIN hookgate.users u ON u.id = s.user_id
	WHERE u.login = 'alice'")" 0 "her sessions are deleted"
api alice GET /admin/api/tokens ''
is "$(status_code)" "401 unauthenticated" "her open session no longer works"
password_step alice
is "$(status_code)" "403 user_disabled" "sign-in refused: 403 user_disabled"
password_step alice wrong-password-here
is "$(status_code)" "401 invalid_credentials" "a wrong password still says only that"
is "$(q "SELECT count(*) FROM hookgate.audit_log WHERE action IN ('user.disable', 'login.disabled')")" \
	2 "the disable and the refused sign-in are audited"
ok "user enable alice" hgctl user enable alice
call_a
is "$HTTP_STATUS" 204 "enabled again: the token works"
is "$(q "SELECT status FROM hookgate.webhook_tokens WHERE public_id = '$PUB_A2'")" disabled \
	"the token she disabled herself stays disabled"
ok "alice signs in again" login alice

# ---- owner lifecycle: delete ----------------------------------------------------------------------
usage_before=$(q "SELECT count(*) FROM hookgate.token_usage")
audit_before=$(q "SELECT count(*) FROM hookgate.audit_log")
ok "user delete alice" hgctl user delete alice
call_a
is "$(status_code)" "401 token_invalid" "her tokens are deleted: token_invalid"
is "$(q "SELECT count(*) FROM hookgate.webhook_tokens t JOIN hookgate.users u ON u.id = t.user_id
	WHERE u.login = 'alice' AND t.deleted_at IS NOT NULL AND t.token_hash IS NULL")" 2 \
	"both token rows stay, deleted, their secrets cleared"
is "$(q "SELECT count(*) FROM hookgate.token_usage")" "$usage_before" "the usage history stays"
ok "and the audit log too" test "$(q "SELECT count(*) FROM hookgate.audit_log")" -gt "$audit_before"
is "$(q "SELECT (SELECT count(*) FROM hookgate.recovery_codes r JOIN hookgate.users u
	ON u.id = r.user_id WHERE u.login = 'alice') + (SELECT count(*) FROM hookgate.admin_sessions s
	JOIN hookgate.users u ON u.id = s.user_id WHERE u.login = 'alice') + (SELECT count(*)
	FROM hookgate.channel_members m JOIN hookgate.users u ON u.id = m.user_id
	WHERE u.login = 'alice')")" 0 "recovery codes, sessions and memberships are gone"
password_step alice
is "$(status_code)" "401 invalid_credentials" "a deleted user is unknown to sign-in"
hgctl user enable alice >/dev/null 2>&1
is "$?" 1 "a deleted user cannot be enabled"
like "$(hgctl user list)" $'\nalice +User Alice +no +- +0 +[0-9T:Z-]+ +deleted +no' \
	"user list shows her deleted, her second factor gone"
