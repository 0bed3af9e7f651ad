#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# shellcheck disable=SC2119 # lib.sh functions with optional arguments, called without
# TLS (server.tls_cert/tls_key, docs/operations.md, "TLS"): with a self-signed certificate made here, both the
# webhook and the admin listener speak TLS only, the admin session cookie is Secure, and the
# admin API's Origin check expects the https origin.
. "$HG_SRCDIR/tests/integration/lib.sh"
hg_setup
plan 15

CERT=$HG_TMP/cert.pem
KEY=$HG_TMP/key.pem

# lib.sh's start-up probe speaks plain HTTP: here /healthz is only reachable over TLS.
hg_healthz_ok() {
	[[ $(tls_status "$HG_PORT" /healthz --max-time 1) == 200 ]]
}

# tls_url PORT PATH: https on "localhost", pinned to 127.0.0.1 (the certificate's name).
tls_url() {
	printf 'https://localhost:%s%s\n' "$1" "$2"
}

tls_status() {
	local port=$1 path=$2
	shift 2
	http_status "$(tls_url "$port" "$path")" --cacert "$CERT" \
		--resolve "localhost:$port:127.0.0.1" "$@"
}

tls_get() {
	local port=$1 path=$2
	shift 2
	http_get "$(tls_url "$port" "$path")" --cacert "$CERT" \
		--resolve "localhost:$port:127.0.0.1" "$@"
}

ok "openssl makes a self-signed P-256 certificate" \
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
	-addext 'subjectAltName=DNS:localhost,IP:127.0.0.1' -days 1 -keyout "$KEY" -out "$CERT"
chmod 600 "$KEY"

pg_start
hg_config '[server]' "tls_cert = $CERT" "tls_key = $KEY"
hg_migrate >/dev/null || bail_out "migrate failed"
hgctl user add alice <<<"alice-password-123" >/dev/null || bail_out "user add failed"
ok "hookgated starts with TLS on both listeners" hg_start

tls_get "$HG_PORT" /healthz
is "$HTTP_STATUS $HTTP_BODY" '200 {"status":"ok"}' "webhook listener: healthz over TLS"
tls_get "$HG_ADMIN_PORT" /healthz
is "$HTTP_STATUS $HTTP_BODY" '200 {"status":"ok"}' "admin listener: healthz over TLS"
is "$(http_status "http://127.0.0.1:$HG_PORT/healthz" --max-time 3)" 000 \
	"webhook listener: plain HTTP gets no HTTP answer"
is "$(http_status "http://127.0.0.1:$HG_ADMIN_PORT/healthz" --max-time 3)" 000 \
	"admin listener: plain HTTP gets no HTTP answer"
is "$(http_status "https://127.0.0.1:$HG_ADMIN_PORT/healthz" --max-time 3)" 000 \
	"a client that does not trust the certificate refuses it"
tls_get "$HG_PORT" /healthz --tlsv1.2 --tls-max 1.2
is "$HTTP_STATUS" 200 "TLS 1.2 is accepted"

login='{"login":"alice","password":"alice-password-123"}'
tls_get "$HG_ADMIN_PORT" /admin/api/login -X POST -H 'Content-Type: application/json' \
	--data-binary "$login"
is "$HTTP_STATUS" 200 "admin login over TLS"
cookie=$(grep -i '^set-cookie:' <<<"$HTTP_HEADERS")
like "$cookie" 'hookgate_session=[A-Za-z0-9_-]{43};' "the session cookie is set"
like "$cookie" '; Secure' "under TLS the cookie is Secure"
like "$cookie" 'HttpOnly' "and HttpOnly"
tls_get "$HG_ADMIN_PORT" /admin/api/login -X POST -H 'Content-Type: application/json' \
	-H "Origin: https://localhost:$HG_ADMIN_PORT" --data-binary "$login"
is "$HTTP_STATUS" 200 "the listener's own https origin is accepted"
tls_get "$HG_ADMIN_PORT" /admin/api/login -X POST -H 'Content-Type: application/json' \
	-H "Origin: http://localhost:$HG_ADMIN_PORT" --data-binary "$login"
like "$HTTP_STATUS $HTTP_BODY" '^403 .*"code":"csrf_failed"' "the http origin is foreign under TLS"
hg_stop
is "$?" 0 "SIGTERM: exit status 0"
