#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# shellcheck disable=SC2119 # lib.sh functions with optional arguments, called without
# The "Delivery" routes of docs/api-admin.md against the real hookgated: the endpoints list and
# its attention list, GET/PUT of bot and extension destinations (URL rule, secrets shown once,
# enable/disable, delete), rotation, the test ping against a local receiver (signatures checked
# here with Python's hmac: tests/integration has no receiver.js with npm standardwebhooks yet),
# its busy and rate limits and the address policy, attempts paging, replay limits, usage rows'
# delivery state for each state, a message's attempts, another user's 404s, CSRF on every write,
# and the audit rows, without a secret in them or in a log.
. "$HG_SRCDIR/tests/integration/lib.sh"
. "$HG_SRCDIR/tests/integration/admin_lib.sh"
hg_setup
plan 105

# ---- a receiver: records each request as a JSON line, answers by path ----------------------------
RECV_PORT=$(hg_free_port)
RECV_LOG=$HG_TMP/receiver.jsonl
cat >"$HG_TMP/receiver.py" <<'EOF'
import json, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
log = open(sys.argv[2], 'a')
class H(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get('content-length', '0')))
        log.write(json.dumps({'path': self.path, 'headers': {k.lower(): v for k, v in self.headers.items()},
                              'body': body.decode()}) + '\n')
        log.flush()
        if self.path == '/slow':
            time.sleep(2)
        status, answer = (500, b'broken') if self.path == '/fail' else (200, 'pong \u00e9'.encode() + b'\xff' + b'x' * 600)
        self.send_response(status)
        self.send_header('content-length', str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)
    def log_message(self, *a):
        pass
ThreadingHTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()
EOF
python3 "$HG_TMP/receiver.py" "$RECV_PORT" "$RECV_LOG" &
RECV_PID=$!
trap 'kill $RECV_PID 2>/dev/null; hg_cleanup' EXIT
RECV=http://127.0.0.1:$RECV_PORT

# verify SECRET INDEX: the INDEX-th request the receiver got carries a v1 signature by SECRET
# (Standard Webhooks: base64 HMAC-SHA-256 of "id.timestamp.body" keyed by the secret's bytes).
verify() {
	python3 - "$1" "$2" "$RECV_LOG" <<'EOF'
import base64, hashlib, hmac, json, sys
req = json.loads(open(sys.argv[3]).read().splitlines()[int(sys.argv[2])])
h = req['headers']
key = base64.b64decode(sys.argv[1][len('whsec_'):])
mac = hmac.new(key, f"{h['webhook-id']}.{h['webhook-timestamp']}.{req['body']}".encode(), hashlib.sha256)
want = 'v1,' + base64.b64encode(mac.digest()).decode()
sys.exit(0 if want in h['webhook-signature'].split(' ') else 1)
EOF
}

# note_secret: the "secret" of the last answer, remembered so that no log may hold it.
note_secret() {
	local s
	s=$(jstr secret)
	[[ -n $s ]] && printf '%s\n' "$s" >>"$HG_TMP/.secrets"
	printf '%s' "$s"
}

pg_start
hg_config '[security]' 'login_burst = 1000' '[delivery]' 'workers = 0' \
	'allow_networks = 127.0.0.0/8, ::1/128' 'timeout = 5s'
hg_migrate >/dev/null || bail_out "migrate failed"
for who in alice bob; do
	hgctl user add "$who" --display-name "User ${who^}" <<<"$(pw "$who")" >/dev/null ||
		bail_out "user add $who failed"
done
{
	hgctl bot add alibot --owner alice && hgctl bot add bobbot --owner bob &&
		hgctl extension add aliext --owner alice
} >/dev/null || bail_out "bot or extension add failed"
hg_start || bail_out "hookgated does not start"
login alice || bail_out "alice cannot log in"
login bob || bail_out "bob cannot log in"
B=/admin/api/bots/alibot/endpoints
E=/admin/api/extensions/aliext/endpoints

# ---- nothing set yet ---------------------------------------------------------------------------
api alice GET /admin/api/endpoints ''
is "$HTTP_STATUS" 200 "GET endpoints: 200"
is "$(grep -o '"status":"none"' <<<"$HTTP_BODY" | wc -l)" 4 \
	"every slot of alice's bot (incoming, message) and extension (sandbox, marketplace), none set"
like "$HTTP_BODY" '"attention":\[\]' "nothing needs attention"
like "$HTTP_BODY" '"kind":"extension","name":"aliext"|"env":"marketplace"' "extension items"
[[ $HTTP_BODY != *bobbot* ]]
ok "bob's bot is not in alice's list" true
api alice GET "$B" ''
is "$(jq -c '[.incoming.status, .message.status]' <<<"$HTTP_BODY")" '["none","none"]' \
	"GET a bot's endpoints: incoming and message"
like "$HTTP_BODY" '"url":null' "no URL: url null"

# ---- another user's bot or extension, an unknown one: 404 -----------------------------------------
api bob GET "$B" ''
is "$(status_code)" "404 not_found" "bob GETs alice's bot: 404"
api bob PUT "$B" "{\"incoming\":{\"url\":\"$RECV/ok\"}}"
is "$(status_code)" "404 not_found" "bob PUTs alice's bot: 404"
api bob GET "$E/sandbox" ''
is "$(status_code)" "404 not_found" "bob GETs alice's extension: 404"
api bob PUT "$E/sandbox" "{\"url\":\"$RECV/ok\"}"
is "$(status_code)" "404 not_found" "bob PUTs alice's extension: 404"
api alice GET /admin/api/bots/nobot/endpoints ''
is "$(status_code)" "404 not_found" "an unknown bot: 404"
api alice GET "$E/production" ''
is "$(status_code)" "404 not_found" "an unknown environment: 404"
is "$(q "SELECT count(*) FROM hookgate.destinations")" 0 "none of it made a destination"

# ---- CSRF on every write -------------------------------------------------------------------------
for w in "PUT $B {}" "PUT $E/sandbox {}" "POST $B/incoming/rotate-secret" \
	"POST $E/sandbox/rotate-secret" "POST $B/incoming/test" "POST $E/sandbox/test" \
	"POST $B/incoming/replay {}" "POST $E/sandbox/replay {}"; do
	read -r m p d <<<"$w"
	api_raw alice "$m" "$p" "${d:-}"
	is "$(status_code)" "403 csrf_failed" "$m $p without X-CSRF-Token: 403"
done

# ---- PUT: the URL rule, creation with the secret shown once ------------------------------------
for bad in 'ftp://x/' 'http://user:pw@127.0.0.1/' 'http:///x' "http://h/$(head -c 2050 /dev/zero | tr '\0' a)"; do
	api alice PUT "$B" "{\"incoming\":{\"url\":\"$bad\"}}"
	is "$(status_code)" "400 invalid_url" "URL ${bad:0:30}: 400 invalid_url"
done
api alice PUT "$B" '{"incoming":{"url":1}}'
is "$(status_code)" "400 invalid_url" "a URL that is not a string: 400"
api alice PUT "$B" '{"other":{}}'
is "$(status_code)" "400 invalid_request" "an unknown slot: 400"
api alice PUT "$B" "{\"incoming\":{\"url\":\"$RECV/ok\"}}"
is "$HTTP_STATUS" 200 "PUT incoming URL: 200"
sec1=$(note_secret)
like "$sec1" '^whsec_[A-Za-z0-9+/]{43}=$' "created: the secret is shown (whsec_ + base64 of 32 bytes)"
like "$HTTP_BODY" '"incoming":\{[^}]*"status":"healthy"' "the new destination is healthy"
[[ $HTTP_BODY =~ \"message\":\{[^}]*\"secret\" ]]
is "$?" 1 "the untouched message slot carries no secret"
is "$(q "SELECT count(*) FROM hookgate.destinations WHERE module = 'bot_incoming'
	AND target = 'alibot' AND position(convert_to('$sec1', 'UTF8') IN secret_enc) = 0")" 1 \
	"stored sealed, not in clear"
is "$(audit_count alice destination.set)" 1 "audited: destination.set"
is "$(q "SELECT count(*) FROM hookgate.audit_log WHERE details::text LIKE '%whsec_%'")" 0 \
	"no secret in an audit row"
api alice PUT "$B" "{\"incoming\":{\"url\":\"$RECV/ok?v=2\"}}"
[[ $HTTP_BODY == *'"secret"'* ]]
is "$?" 1 "changing the URL shows no secret again"
like "$HTTP_BODY" '"url":"http://127.0.0.1:[0-9]+/ok\?v=2"' "the URL changed"

# ---- enable, disable, delete ---------------------------------------------------------------------
api alice PUT "$B" '{"incoming":{"enabled":false}}'
like "$HTTP_BODY" '"status":"disabled"' "disabled by hand"
like "$HTTP_BODY" '"disabled_reason":"manual"' "reason manual"
api alice GET /admin/api/endpoints ''
like "$HTTP_BODY" '"attention":\[\{[^]]*"name":"alibot"' "a disabled destination needs attention"
api alice PUT "$B" '{"incoming":{"enabled":true}}'
like "$HTTP_BODY" '"incoming":\{[^}]*"status":"healthy"' "enabled again"
is "$(audit_count alice destination.disable) $(audit_count alice destination.enable)" "1 1" \
	"audited: destination.disable and destination.enable"
api alice PUT "$B" '{"message":{"url":null}}'
is "$(status_code)" "404 not_found" "deleting a slot with no destination: 404"
api alice PUT "$B" '{"message":{"enabled":true}}'
is "$(status_code)" "404 not_found" "enabling a slot with no destination: 404"
api alice PUT "$B" "{\"message\":{\"url\":\"$RECV/ok\",\"enabled\":false}}"
like "$HTTP_BODY" '"message":\{[^}]*"status":"disabled"' "created disabled in one PUT"
note_secret >/dev/null
api alice PUT "$B" '{"message":{"url":null}}'
like "$HTTP_BODY" '"message":\{[^}]*"status":"none"' "url null deletes the destination"

# ---- extensions ------------------------------------------------------------------------------------
api alice PUT "$E/sandbox" "{\"url\":\"$RECV/ok\"}"
is "$HTTP_STATUS" 200 "PUT an extension environment: 200"
like "$(note_secret)" '^whsec_' "... with its secret, shown once"
api alice GET "$E/sandbox" ''
like "$HTTP_BODY" '^\{.*"status":"healthy"' "GET it: a destination object"
[[ $HTTP_BODY == *'"secret"'* ]]
is "$?" 1 "GET never shows the secret"
api alice PUT "$E/marketplace" '{"url":"http://10.0.0.1/hook"}'
note_secret >/dev/null
is "$HTTP_STATUS" 200 "a private address is a valid URL (the policy judges where it connects)"

# ---- rotation ----------------------------------------------------------------------------------------
api alice POST "$B/incoming/rotate-secret" ''
is "$HTTP_STATUS" 200 "rotate-secret: 200"
sec2=$(note_secret)
like "$sec2" '^whsec_' "a new secret"
[[ $sec2 != "$sec1" ]]
ok "it differs from the old one" true
like "$(jstr previous_secret_until)" '^[0-9-]{10}T[0-9:]{8}Z$' "the old one signs until then"
is "$(q "SELECT previous_until - now() BETWEEN interval '23 hours 59 minutes'
	AND interval '24 hours' FROM hookgate.destinations WHERE module = 'bot_incoming'")" t \
	"... 24 hours"
api alice POST "$B/message/rotate-secret" ''
is "$(status_code)" "404 not_found" "rotating a slot with no destination: 404"
is "$(audit_count alice destination.rotate_secret)" 1 "audited: destination.rotate_secret"

# ---- test ping ---------------------------------------------------------------------------------------
api alice POST "$B/incoming/test" ''
is "$HTTP_STATUS" 200 "test: 200"
like "$HTTP_BODY" '"status":200' "the receiver's status"
like "$HTTP_BODY" '"error":null' "no error"
like "$HTTP_BODY" '"latency_ms":[0-9.]+' "the latency"
like "$HTTP_BODY" '"body":"pong é�xxx' "the answer's first bytes as UTF-8, a bad byte as U+FFFD"
is "$(jq -j .body <<<"$HTTP_BODY" | wc -c)" 514 "the first 512 bytes of the answer (U+FFFD takes 3)"
req=$(tail -n 1 "$RECV_LOG")
like "$req" '"webhook-id": "ping_[0-9a-f]{24}"' "webhook-id ping_<random>"
like "$req" '"body": "\{\\"type\\":\\"hookgate.ping\\",\\"timestamp\\":\\"[0-9TZ:-]+\\"' \
	"a hookgate.ping body"
like "$req" '\\"destination\\":\{\\"kind\\":\\"bot\\",\\"name\\":\\"alibot\\",\\"for\\":\\"incoming\\"\}' \
	"naming the destination"
ok "signed with the new secret" verify "$sec2" 0
ok "and, during the overlap, with the old one" verify "$sec1" 0
is "$(audit_count alice destination.test)" 1 "audited: destination.test"
api alice POST "$B/message/test" ''
is "$(status_code)" "404 not_found" "testing a slot with no destination: 404"
api alice POST "$E/marketplace/test" ''
like "$HTTP_BODY" '"status":null,"error":"refused_address"' \
	"a private address outside delivery.allow_networks: refused_address"
api bob POST "$B/incoming/test" ''
is "$(status_code)" "404 not_found" "bob tests alice's destination: 404"
api alice PUT "$E/sandbox" "{\"url\":\"$RECV/slow\"}"
curl -s -o /dev/null -X POST -b "$HG_TMP/alice.jar" -H "X-CSRF-Token: ${CSRF[alice]}" \
	--max-time 5 "$(admin_url)$E/sandbox/test" &
slow=$!
sleep 0.7
api alice POST "$E/sandbox/test" ''
is "$(status_code)" "409 busy" "a second test while one is in flight: 409 busy"
wait "$slow"
n=0
for i in 1 2 3 4 5 6; do
	api alice POST "$B/incoming/test" ''
	[[ $HTTP_STATUS == 429 ]] && break
	n=$i
done
is "$(status_code)" "429 rate_limited" "tests past the user's budget: 429 rate_limited"
ok "within the burst of 5 ($n more went through)" test "$n" -le 5
like "$(header Retry-After)" '^[0-9]+$' "with Retry-After"

# ---- attempts -----------------------------------------------------------------------------------------
did=$(q "SELECT id FROM hookgate.destinations WHERE module = 'bot_incoming' AND target = 'alibot'")
aid=$(q "SELECT id FROM hookgate.users WHERE login = 'alice'")
q "INSERT INTO hookgate.delivery_attempts (at, message_id, destination_id, attempt, outcome,
	http_status, error, latency_us, response)
	SELECT now() - i * interval '1 minute', 100 + i, $did, 1,
	       CASE WHEN i = 1 THEN 'retry' ELSE 'delivered' END,
	       CASE WHEN i = 1 THEN 503 ELSE 204 END, NULL, 1500 * i, 'r' || i
	  FROM generate_series(1, 5) i" >/dev/null
api alice GET "$B/incoming/attempts?limit=2" ''
is "$HTTP_STATUS" 200 "attempts: 200"
is "$(jq -c '[.attempts[] | .message_id]' <<<"$HTTP_BODY")" '["101","102"]' "newest first"
is "$(jq -c '.attempts[0] | [.outcome, .attempt, .http_status, .error, .latency_ms, .response]' \
	<<<"$HTTP_BODY")" '["retry",1,503,null,1.5,"r1"]' "every field of an attempt"
next=$(jstr next)
like "$next" '^[A-Za-z0-9_-]+$' "a next cursor"
api alice GET "$B/incoming/attempts?limit=2&before=$next" ''
is "$(jq -c '[.attempts[] | .message_id]' <<<"$HTTP_BODY")" '["103","104"]' "page 2"
api alice GET "$B/incoming/attempts?limit=2&before=$(jstr next)" ''
is "$(jq -c '[[.attempts[] | .message_id], .next]' <<<"$HTTP_BODY")" '[["105"],null]' \
	"the last page: next null"
api alice GET "$B/incoming/attempts?limit=0" ''
is "$(status_code)" "400 invalid_request" "limit 0: 400"
api alice GET "$B/incoming/attempts?before=bm90LWEtY3Vyc29y" ''
is "$(status_code)" "400 invalid_request" "a before that is no cursor: 400"
api bob GET "$B/incoming/attempts" ''
is "$(status_code)" "404 not_found" "bob lists alice's attempts: 404"

# ---- replay -------------------------------------------------------------------------------------------
api alice POST /admin/api/tokens '{"name":"deliveries"}'
tok=$(jstr id)
tid=$(q "SELECT id FROM hookgate.webhook_tokens WHERE public_id = '$tok'")
q "INSERT INTO hookgate.messages (at, module, target, user_id, token_id, content_type, body)
	SELECT now() - i * interval '1 hour', 'bot_incoming', 'alibot', $aid, $tid,
	       'application/json', '{}' FROM generate_series(1, 3) i" >/dev/null
since=$(q "SELECT to_char(now() AT TIME ZONE 'UTC' - interval '1 day', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')")
until=$(q "SELECT to_char(now() AT TIME ZONE 'UTC' + interval '1 minute', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')")
api alice POST "$B/incoming/replay" "{\"since\":\"$since\",\"until\":\"$until\"}"
is "$HTTP_BODY" '{"queued":3}' "replay: the messages of the range are queued"
is "$(q "SELECT count(*) FROM hookgate.audit_log a WHERE a.action = 'delivery.replay'
	AND a.user_id = $aid AND a.actor = 'admin-api' AND a.client_addr = '127.0.0.1'")" 1 \
	"audited as alice's"
api alice POST "$B/incoming/replay" '{"since":"2024-01-01T00:00:00Z","until":"2024-01-16T00:00:00Z"}'
is "$(status_code)" "400 invalid_request" "more than 14 days: 400"
api alice POST "$B/incoming/replay" '{"since":"2024-01-02T00:00:00Z","until":"2024-01-01T00:00:00Z"}'
is "$(status_code)" "400 invalid_request" "since after until: 400"
api alice POST "$B/incoming/replay" '{"since":"yesterday-ish","until":"2024-01-01T00:00:00Z"}'
is "$(status_code)" "400 invalid_request" "not a time: 400"
api alice POST "$B/incoming/replay" '{"since":"2024-01-01T00:00:00Z"}'
is "$(status_code)" "400 invalid_request" "until missing: 400"
api bob POST "$B/incoming/replay" "{\"since\":\"$since\",\"until\":\"$until\"}"
is "$(status_code)" "404 not_found" "bob replays alice's destination: 404"

# ---- usage rows: each delivery state; a message's attempts ------------------------------------------
q "DELETE FROM hookgate.delivery_queue" >/dev/null
mids=$(q "INSERT INTO hookgate.messages (at, module, target, user_id, token_id, content_type, body)
	SELECT now(), CASE WHEN i = 5 THEN 'bot_incoming' ELSE 'bot_incoming' END,
	       CASE WHEN i = 5 THEN 'bobbot' ELSE 'alibot' END, $aid, $tid, 'application/json', '{}'
	  FROM generate_series(1, 5) i RETURNING id" | tr '\n' ' ')
read -r m_deliv m_retry m_fail m_pend m_none <<<"$mids"
q "INSERT INTO hookgate.delivery_attempts (at, message_id, destination_id, attempt, outcome,
	http_status) VALUES (now(), $m_deliv, $did, 1, 'delivered', 204),
	(now(), $m_retry, $did, 1, 'retry', 500), (now(), $m_retry, $did, 2, 'retry', 500),
	(now(), $m_fail, $did, 10, 'failed', 500);
   INSERT INTO hookgate.delivery_queue (message_id, destination_id, attempts, first_at, due_at)
	VALUES ($m_retry, $did, 2, now(), now() + interval '5 minutes'),
	($m_pend, $did, 0, now(), now());
   INSERT INTO hookgate.token_usage (token_id, user_id, at, module, target, http_status,
	message_id) SELECT $tid, $aid, now() - i * interval '1 second', 'bot_incoming', 'x', 202,
	(ARRAY[$m_deliv, $m_retry, $m_fail, $m_pend, $m_none, NULL])[i] FROM generate_series(1, 6) i" \
	>/dev/null
api alice GET /admin/api/tokens/$tok/usage ''
is "$HTTP_STATUS" 200 "usage: 200"
state() { # state MESSAGE_ID: the delivery of its usage row, compact
	jq -c --arg m "$1" '.usage[] | select(.message_id == $m) | .delivery
		| [.state, (.at != null), .attempts, (.next_attempt_at != null)]' <<<"$HTTP_BODY"
}
is "$(state "$m_deliv")" '["delivered",true,1,false]' "a delivered message: state, time, attempts"
is "$(state "$m_retry")" '["retrying",true,2,true]' "a retrying message: its next attempt time"
is "$(state "$m_fail")" '["failed",true,10,false]' "a failed message"
is "$(state "$m_pend")" '["pending",false,0,false]' "a pending message"
is "$(state "$m_none")" '["no_destination",false,0,false]' "a message without a destination"
is "$(jq -c '.usage[5] | [.message_id, has("delivery")]' <<<"$HTTP_BODY")" '[null,false]' \
	"a row without a stored message: message_id null, no delivery"
api alice GET "/admin/api/tokens/$tok/messages/$m_retry/attempts" ''
is "$(jq -c '[.attempts[] | [.attempt, .destination.kind, .destination.name,
	.destination.for]]' <<<"$HTTP_BODY")" '[[2,"bot","alibot","incoming"],[1,"bot","alibot","incoming"]]' \
	"a message's attempts, newest first, with their destination"
api alice GET "/admin/api/tokens/$tok/messages/999999/attempts" ''
is "$(status_code)" "404 not_found" "a message of no token of hers: 404"
api bob GET "/admin/api/tokens/$tok/messages/$m_retry/attempts" ''
is "$(status_code)" "404 not_found" "bob asks for alice's message: 404"

# ---- failing shows in the list; no secret in the log -------------------------------------------------
q "UPDATE hookgate.destinations SET failing_since = now() - interval '1 hour' WHERE id = $did" \
	>/dev/null
api alice GET /admin/api/endpoints ''
like "$HTTP_BODY" '"attention":\[\{[^]]*"status":"failing"' "a failing destination needs attention"
ok "no secret shown by this test is in hookgated's log" hg_check_secrets
