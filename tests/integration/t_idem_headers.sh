#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# shellcheck disable=SC2119
# Sender delivery ids as idempotency keys (docs/api-webhooks.md, "Idempotency-Key"): webhook-id
# and X-GitHub-Delivery make retries store once; limits.idempotency_headers sets which headers
# count and their precedence; an invalid Idempotency-Key is still refused, an invalid delivery
# id passed over; a list without Idempotency-Key is refused by the config check.
. "$HG_SRCDIR/tests/integration/lib.sh"
. "$HG_SRCDIR/tests/integration/webhook_lib.sh"
hg_setup
plan 14

pg_start
hg_config
hg_migrate >/dev/null || bail_out "migrate failed"
webhook_fixtures || bail_out "fixtures failed"
hg_start || bail_out "hookgated does not start"

messages() { pg_sql "SELECT count(*) FROM hookgate.messages WHERE body = '{\"text\":\"$1\"}'"; }
# twice TEXT HEADER...: posts the same call twice; prints "first-id second-id"
twice() {
	local text=$1 a b
	shift
	post "$(channel_path general "$TOK_A")" "{\"text\":\"$text\"}" "$@"
	a=$(msg_id)
	post "$(channel_path general "$TOK_A")" "{\"text\":\"$text\"}" "$@"
	b=$(msg_id)
	printf '%s %s\n' "$a" "$b"
}
same_ids() { [[ -n $1 && $1 == "$2" ]]; }

read -r a b < <(twice wh1 -H 'webhook-id: msg_2KWPBgLlAfxdpx2AI54pPJ85f4W')
ok "webhook-id: a retry replays the first answer" same_ids "$a" "$b"
is "$(messages wh1)" 1 "webhook-id: stored once"
read -r a b < <(twice gh1 -H 'X-GitHub-Delivery: 72d3162e-cc78-11e3-81ab-4c9367dc0958')
ok "X-GitHub-Delivery: a retry replays the first answer" same_ids "$a" "$b"
is "$(messages gh1)" 1 "X-GitHub-Delivery: stored once"
is "$(pg_sql "SELECT idempotency_key FROM hookgate.messages WHERE body = '{\"text\":\"gh1\"}'")" \
	72d3162e-cc78-11e3-81ab-4c9367dc0958 "the delivery id is the stored key"

# Default order: Idempotency-Key, webhook-id, X-GitHub-Delivery.
post "$(channel_path general "$TOK_A")" '{"text":"p1"}' -H 'Idempotency-Key: k-p1' \
	-H 'webhook-id: w-p1'
post "$(channel_path general "$TOK_A")" '{"text":"p1"}' -H 'webhook-id: w-p1'
is "$(messages p1)" 2 "Idempotency-Key wins over webhook-id (webhook-id alone is a new key)"
post "$(channel_path general "$TOK_A")" '{"text":"p2"}' -H 'webhook-id: w-p2' \
	-H 'X-GitHub-Delivery: g-p2'
post "$(channel_path general "$TOK_A")" '{"text":"p2"}' -H 'webhook-id: w-p2' \
	-H 'X-GitHub-Delivery: other'
is "$(messages p2)" 1 "webhook-id wins over X-GitHub-Delivery"

long=$(head -c 200 /dev/zero | tr '\0' k)
read -r a b < <(twice bad1 -H "webhook-id: $long")
is "$(messages bad1)" 2 "a webhook-id that is no valid key is passed over: both stored"
read -r a b < <(twice bad2 -H "webhook-id: $long" -H 'X-GitHub-Delivery: g-bad2')
is "$(messages bad2)" 1 "... and the next header of the list is used"
post "$(channel_path general "$TOK_A")" '{"text":"x"}' -H "Idempotency-Key: $long" \
	-H 'webhook-id: w-ok'
is "$HTTP_STATUS" 400 "an invalid Idempotency-Key is still 400, whatever else is sent"

# ---- the list is configurable ----------------------------------------------------------------
hg_stop >/dev/null
hg_config '[limits]' 'idempotency_headers = X-GitHub-Delivery, Idempotency-Key'
hg_start || bail_out "hookgated does not restart"
read -r a b < <(twice c1 -H 'webhook-id: w-c1')
is "$(messages c1)" 2 "a header left out of the list is no key"
post "$(channel_path general "$TOK_A")" '{"text":"c2"}' -H 'X-GitHub-Delivery: g-c2' \
	-H 'Idempotency-Key: k-c2a'
post "$(channel_path general "$TOK_A")" '{"text":"c2"}' -H 'X-GitHub-Delivery: g-c2' \
	-H 'Idempotency-Key: k-c2b'
is "$(messages c2)" 1 "the list's order is the precedence"

hg_config '[limits]' 'idempotency_headers = webhook-id'
out=$("$HG_BUILDDIR/hookgated" -t -c "$HG_CONF" 2>&1)
like "$out" 'idempotency_headers: Idempotency-Key must be one of the names' \
	"a list without Idempotency-Key is refused"
hg_config '[limits]' 'idempotency_headers = Idempotency-Key, bad(name)'
out=$("$HG_BUILDDIR/hookgated" -t -c "$HG_CONF" 2>&1)
like "$out" 'is not a header name' "a name that is no header name is refused"
