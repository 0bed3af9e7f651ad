#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# shellcheck disable=SC2119 # lib.sh functions with optional arguments, called without
# HTTP/1.1 as hookgated speaks it on both listeners: reason phrases, Host (RFC 9112 §3.2),
# absolute-form request targets (§3.2.2) and Expect: 100-continue (RFC 9110 §10.1.1), where a
# request refused from its head alone is answered at once, without "100 Continue" and without
# reading its body.
. "$HG_SRCDIR/tests/integration/lib.sh"
. "$HG_SRCDIR/tests/integration/webhook_lib.sh"
hg_setup
plan 41

# raw PORT HEAD [BODY]: sends HEAD (printf %b escapes: write \r\n) on a new connection and sets
# RAW to the first status line of the answer. With BODY, sends it once that line is in (the
# "100 Continue") and sets RAW_FINAL to the next status line.
raw() {
	local port=$1 head=$2 body=${3-} line
	RAW='(no answer)' RAW_FINAL='(no answer)'
	exec 3<>"/dev/tcp/127.0.0.1/$port" || return 1
	printf '%b' "$head" >&3
	IFS= read -r -t 5 line <&3 && RAW=${line%$'\r'}
	if [[ -n $body ]]; then
		printf '%s' "$body" >&3
		while IFS= read -r -t 5 line <&3; do
			line=${line%$'\r'}
			if [[ $line == HTTP/1.1\ * ]]; then
				RAW_FINAL=$line
				break
			fi
		done
	fi
	exec 3<&-
}

# status_line URL [curl args...]: the status line curl got, reason phrase included.
status_line() {
	local url=$1
	shift
	curl -s -o /dev/null -D - --max-time 5 "$@" "$url" | head -n 1 | tr -d '\r'
}

# expect_head METHOD TARGET [HEADER...]: a head announcing a 20-byte JSON body (another
# Content-Type among the HEADERs replaces application/json).
expect_head() {
	local line h="$1 $2 HTTP/1.1\\r\\nHost: h\\r\\nContent-Length: 20\\r\\nExpect: 100-continue\\r\\n"
	shift 2
	[[ "$*" == *Content-Type:* ]] || h+='Content-Type: application/json\r\n'
	for line in "$@"; do
		h+="$line\\r\\n"
	done
	printf '%s\\r\\n' "$h"
}

pg_start
hg_config '[server]' 'max_body_size = 4k' '[log]' 'access = on'
hg_migrate >/dev/null || bail_out "migrate failed"
webhook_fixtures || bail_out "fixtures failed"
hg_start || bail_out "hookgated does not start"
W=$HG_PORT A=$HG_ADMIN_PORT
msg=/api/v2/channelsbyname/general/message

# ---- reason phrases ------------------------------------------------------------------------------
is "$(status_line "http://127.0.0.1:$A/admin")" "HTTP/1.1 301 Moved Permanently" \
	"GET /admin: 301 Moved Permanently"
is "$(status_line "http://127.0.0.1:$W$msg")" "HTTP/1.1 405 Method Not Allowed" \
	"GET on a webhook endpoint: 405 Method Not Allowed"
is "$(status_line "http://127.0.0.1:$W$msg" -X POST --data-binary @/dev/null)" \
	"HTTP/1.1 401 Unauthorized" "no token: 401 Unauthorized"
is "$(status_line "http://127.0.0.1:$W$(channel_path general "$TOK_A")" \
	--data-binary "$(head -c 5000 /dev/zero | tr '\0' a)" -H 'Expect:')" \
	"HTTP/1.1 413 Content Too Large" "a body over max_body_size: 413 Content Too Large"

# ---- Host ----------------------------------------------------------------------------------------
raw "$W" 'GET /healthz HTTP/1.1\r\n\r\n'
is "$RAW" "HTTP/1.1 400 Bad Request" "HTTP/1.1 without Host: 400"
raw "$W" 'GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n'
is "$RAW" "HTTP/1.1 400 Bad Request" "two Host headers: 400"
raw "$A" 'GET /healthz HTTP/1.0\r\nHost: a\r\nhost: a\r\n\r\n'
is "$RAW" "HTTP/1.1 400 Bad Request" "two Host headers in HTTP/1.0, even equal: 400"
raw "$W" 'GET /healthz HTTP/1.1\r\nHost: a b\r\n\r\n'
is "$RAW" "HTTP/1.1 400 Bad Request" "Host with a space: 400"
raw "$W" 'GET /healthz HTTP/1.1\r\nHost: user@example.com\r\n\r\n'
is "$RAW" "HTTP/1.1 400 Bad Request" "Host with userinfo: 400"
raw "$W" 'GET /healthz HTTP/1.1\r\nHost: example.com:8080:9\r\n\r\n'
is "$RAW" "HTTP/1.1 400 Bad Request" "Host with two ports: 400"
raw "$W" 'GET /healthz HTTP/1.0\r\n\r\n'
is "$RAW" "HTTP/1.1 200 OK" "HTTP/1.0 without Host: 200"
raw "$W" 'GET /healthz HTTP/1.1\r\nHost: [::1]:8080\r\nConnection: close\r\n\r\n'
is "$RAW" "HTTP/1.1 200 OK" "Host [::1]:8080: 200"
raw "$A" 'GET /healthz HTTP/1.1\r\nHost: \r\nConnection: close\r\n\r\n'
is "$RAW" "HTTP/1.1 200 OK" "an empty Host (RFC 9112 allows it): 200"

# ---- absolute-form targets -----------------------------------------------------------------------
raw "$W" "GET http://127.0.0.1:$W/healthz HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n"
is "$RAW" "HTTP/1.1 200 OK" "GET http://host/healthz: 200"
raw "$A" 'GET HTTPS://Example.COM/healthz?x=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
is "$RAW" "HTTP/1.1 200 OK" "scheme in capitals, another authority, a query: 200"
post / '{"text":"absolute"}' --request-target "http://127.0.0.1:$W$(channel_path general "$TOK_A")"
is "$HTTP_STATUS" 204 "POST http://host/api/v2/…?zapikey=…: 204"
is "$(pg_sql "SELECT target || ' ' || body FROM hookgate.messages WHERE id = $(msg_id)")" \
	'general {"text":"absolute"}' "... stored for the channel of its path"
post / '{}' --request-target "http://127.0.0.1:$W?zapikey=$TOK_A"
is "$HTTP_STATUS" 404 "an absolute-form target with an empty path is '/': 404 after the token"
for bad in "http://u@127.0.0.1/healthz" "ftp://h/healthz" "http:///healthz" "http://h#f" "*" \
	"healthz"; do
	raw "$W" "OPTIONS $bad HTTP/1.1\\r\\nHost: h\\r\\n\\r\\n"
	is "$RAW" "HTTP/1.1 400 Bad Request" "target '$bad': 400"
done
ok "the access log shows an absolute-form target's path" \
	grep -q "access: 127.0.0.1 \"POST $msg\" 204" "$HG_TMP/hookgated.log"

# ---- Expect: 100-continue on the webhook listener ------------------------------------------------
body20='{"text":"continued"}'
raw "$W" "$(expect_head POST "$msg")"
is "$RAW" "HTTP/1.1 401 Unauthorized" "no token: 401 at once, no 100 Continue"
raw "$W" "$(expect_head POST "$msg?zapikey=hgt_short")"
is "$RAW" "HTTP/1.1 401 Unauthorized" "malformed token: 401 at once"
raw "$W" "$(expect_head POST "/nowhere?zapikey=$TOK_A")"
is "$RAW" "HTTP/1.1 404 Not Found" "no such endpoint: 404 at once"
raw "$W" "$(expect_head POST "$msg?zapikey=$TOK_A" 'Content-Type: text/plain')"
is "$RAW" "HTTP/1.1 415 Unsupported Media Type" "a type the endpoint refuses: 415 at once"
is "$(pg_sql "SELECT http_status || ' ' || request_bytes FROM hookgate.token_usage
	WHERE http_status = 415")" "415 0" "... still recorded in the usage history"
raw "$W" "$(expect_head POST "$msg?zapikey=$TOK_A" 'Content-Length: 9999')"
is "$RAW" "HTTP/1.1 400 Bad Request" "two Content-Lengths: 400 at once"
raw "$W" "POST $msg?zapikey=$TOK_A HTTP/1.1\\r\\nHost: h\\r\\nContent-Type: application/json\\r\\nContent-Length: 5000\\r\\nExpect: 100-continue\\r\\n\\r\\n"
is "$RAW" "HTTP/1.1 413 Content Too Large" "over max_body_size: 413 at once"
raw "$W" "$(expect_head POST "$msg?zapikey=$TOK_A")" "$body20"
is "$RAW $RAW_FINAL" "HTTP/1.1 100 Continue HTTP/1.1 204 No Content" \
	"a call that proceeds: 100 Continue, then 204 once the body is in"
raw "$W" "POST $msg?zapikey=$TOK_A HTTP/1.0\\r\\nContent-Type: application/json\\r\\nContent-Length: 20\\r\\nExpect: 100-continue\\r\\n\\r\\n$body20"
is "$RAW" "HTTP/1.1 204 No Content" "HTTP/1.0: the expectation is ignored (no 100)"

# ---- Expect: 100-continue on the admin listener --------------------------------------------------
raw "$A" "$(expect_head POST /admin/api/tokens)"
is "$RAW" "HTTP/1.1 401 Unauthorized" "admin: not signed in: 401 at once"
raw "$A" "$(expect_head POST /admin/api/tokens 'Cookie: hookgate_session=x')"
is "$RAW" "HTTP/1.1 401 Unauthorized" "admin: a cookie that is no session id: 401 at once"
raw "$A" "$(expect_head POST /admin/api/login 'Content-Type: text/plain')"
is "$RAW" "HTTP/1.1 415 Unsupported Media Type" "admin: not JSON: 415 at once"
raw "$A" "$(expect_head POST /admin/api/nowhere)"
is "$RAW" "HTTP/1.1 404 Not Found" "admin: no such route: 404 at once"
raw "$A" "$(expect_head PUT /admin/api/tokens)"
is "$RAW" "HTTP/1.1 405 Method Not Allowed" "admin: wrong method: 405 at once"
raw "$A" "$(expect_head POST /admin/api/logout)"
is "$RAW" "HTTP/1.1 401 Unauthorized" "admin: a route that reads no body: answered at once"
raw "$A" "$(expect_head POST /admin/api/login)" '{"login":"alice123"}'
is "$RAW $RAW_FINAL" "HTTP/1.1 100 Continue HTTP/1.1 400 Bad Request" \
	"admin: login: 100 Continue, then the answer to the body"
