#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# shellcheck disable=SC2119
# limits.token_rate / token_burst : per token, shared by all webhook workers,
# 429 rate_limited with Retry-After; other tokens unaffected; refused calls still counted.
. "$HG_SRCDIR/tests/integration/lib.sh"
. "$HG_SRCDIR/tests/integration/webhook_lib.sh"
hg_setup
plan 9

pg_start
hg_config '[limits]' 'token_rate = 1' 'token_burst = 4'
hg_migrate >/dev/null || bail_out "migrate failed"
webhook_fixtures || bail_out "fixtures failed"
hg_start || bail_out "hookgated does not start"

statuses() { # statuses TOKEN N: N calls on new connections (spread over both workers)
	local i out=""
	for ((i = 0; i < $2; i++)); do
		out+="$(http_status "http://127.0.0.1:$HG_PORT$(channel_path general "$1")" -X POST \
			-H 'Content-Type: application/json' --data-binary '{"text":"r"}') "
	done
	printf '%s\n' "${out% }"
}
t0=$(hg_now_ms)
got=$(statuses "$TOK_A" 10)
elapsed=$(($(hg_now_ms) - t0))
accepted=$(tr ' ' '\n' <<<"$got" | grep -c '^204$')
limited=$(tr ' ' '\n' <<<"$got" | grep -c '^429$')
diag "10 calls in $elapsed ms: $got"
ok "the burst is accepted across both workers ($accepted accepted)" test "$accepted" -ge 4
ok "no more than burst + rate × elapsed accepted" test "$accepted" -le $((4 + elapsed / 1000 + 1))
ok "the rest is refused with 429" test "$limited" -eq $((10 - accepted))
post "$(channel_path general "$TOK_A")" '{"text":"r"}'
is "$HTTP_STATUS" 429 "one more: 429"
like "$HTTP_BODY" '"code":"rate_limited"' "429: code rate_limited"
like "$HTTP_HEADERS" $'\n''[Rr]etry-[Aa]fter: [1-9]' "429 carries Retry-After"
post "$(channel_path general "$TOK_C")" '{"text":"r"}'
is "$HTTP_STATUS" 403 "another token is not limited (carol: not a member, so 403 — not 429)"
sleep 1.2
post "$(channel_path general "$TOK_A")" '{"text":"r"}'
is "$HTTP_STATUS" 204 "after a second the token is accepted again"
is "$(pg_sql "SELECT c.invocations = (SELECT count(*) FROM hookgate.token_usage u WHERE u.token_id = t.id) FROM hookgate.webhook_tokens t JOIN hookgate.token_counts c ON c.token_id = t.id WHERE public_id = '$PUB_A'")" t \
	"429s are counted as invocations and recorded in the usage history"
