#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# shellcheck disable=SC2119
# The token in a header (docs/api-webhooks.md, "Authentication"): every endpoint takes
# "Authorization: Bearer hgt_…" as it takes ?zapikey=; both forms naming different tokens are
# refused; neither form reaches the access log or the usage rows.
. "$HG_SRCDIR/tests/integration/lib.sh"
. "$HG_SRCDIR/tests/integration/webhook_lib.sh"
hg_setup
plan 20

pg_start
hg_config '[log]' 'access = on'
hg_migrate >/dev/null || bail_out "migrate failed"
webhook_fixtures || bail_out "fixtures failed"
hg_start || bail_out "hookgated does not start"

bearer() { printf 'Authorization: Bearer %s' "$1"; }

# ---- every endpoint takes the header -----------------------------------------------------------
post /api/v2/channelsbyname/general/message '{"text":"header"}' -H "$(bearer "$TOK_A")"
is "$HTTP_STATUS" 204 "channel message with Authorization: Bearer: 204"
mid=$(msg_id)
is "$(pg_sql "SELECT t.public_id FROM hookgate.messages m JOIN hookgate.webhook_tokens t
	ON t.id = m.token_id WHERE m.id = ${mid:-0}")" "$PUB_A" "stored under the header's token"
post /api/v2/bots/deploybot/incoming '{"a":1}' -H "$(bearer "$TOK_A")"
is "$HTTP_STATUS" 204 "bot incoming with the header: 204"
post /api/v2/bots/deploybot/message '{"text":"m"}' -H "$(bearer "$TOK_A")"
is "$HTTP_STATUS" 204 "bot message with the header: 204"
post "/api/v2/applications/$SB_APP/incoming?appkey=$SB_KEY" '{"e":1}' -H "$(bearer "$TOK_A")"
is "$HTTP_STATUS" 204 "extension incoming with the header (appkey in the query): 204"
post /api/v2/channelsbyname/general/message '{"text":"lower"}' -H "authorization: bearer $TOK_A"
is "$HTTP_STATUS" 204 "header name and scheme are case-insensitive"

# ---- the query form keeps working; both forms ---------------------------------------------------
post "$(channel_path general "$TOK_A")" '{"text":"query"}'
is "$HTTP_STATUS" 204 "the zapikey query form still works"
post "$(channel_path general "$TOK_A")" '{"text":"both"}' -H "$(bearer "$TOK_A")"
is "$HTTP_STATUS" 204 "the same token in both forms: 204"
post "$(channel_path general "$TOK_A")" '{"text":"both"}' -H "$(bearer "$TOK_A2")"
is "$HTTP_STATUS" 400 "different tokens in the query and the header: 400"
is "$(json_field "$HTTP_BODY" code)" invalid_request "... invalid_request"
post /api/v2/channelsbyname/general/message '{"text":"x"}' -H "$(bearer "$TOK_A")" \
	-H "$(bearer "$TOK_A")"
is "$HTTP_STATUS" 400 "Authorization sent twice: 400 invalid_request"

# ---- refusals from the header ---------------------------------------------------------------
post /api/v2/channelsbyname/general/message '{"text":"x"}' -H 'Authorization: Bearer hgt_short'
is "$(json_field "$HTTP_BODY" code)" token_invalid "a malformed Bearer token: token_invalid"
post /api/v2/channelsbyname/general/message '{"text":"x"}' -H 'Authorization: Bearer'
is "$(json_field "$HTTP_BODY" code)" token_invalid "an empty Bearer token: token_invalid"
post /api/v2/channelsbyname/general/message '{"text":"x"}' -H 'Authorization: Basic dXNlcjpwdw=='
is "$(json_field "$HTTP_BODY" code)" token_missing "another scheme presents no token: token_missing"
post /api/v2/channelsbyname/general/message '{"text":"x"}' -H "$(bearer "$TOK_B")"
is "$HTTP_STATUS:$(json_field "$HTTP_BODY" code)" 403:forbidden \
	"authentication first, then permission, with the header too"
# A call announcing its body is refused from its head when the header's token is malformed.
post /api/v2/channelsbyname/general/message '{"text":"x"}' -H 'Authorization: Bearer hgt_x' \
	-H 'Expect: 100-continue'
is "$HTTP_STATUS" 401 "Expect: 100-continue with a malformed Bearer token: 401 from the head"
post /api/v2/channelsbyname/general/message '{"text":"expect"}' -H "$(bearer "$TOK_A")" \
	-H 'Expect: 100-continue'
is "$HTTP_STATUS" 204 "Expect: 100-continue with a valid Bearer token: body read, 204"

# ---- neither form is kept ----------------------------------------------------------------------
is "$(pg_sql "SELECT count(*) FROM hookgate.token_usage WHERE user_agent ~ 'hgt_'
	OR target ~ 'hgt_'")" 0 "no usage row holds a token"
like "$(grep -c 'access: ' "$HG_TMP/hookgated.log")" '^[1-9]' "the access log has lines"
no_token_in_log() { ! grep -qE 'hgt_[0-9A-Za-z]{33}' "$HG_TMP/hookgated.log"; }
ok "no token in hookgated.log (hg_check_secrets also checks every log at exit)" no_token_in_log
