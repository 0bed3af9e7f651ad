#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Delivery over HTTPS (docs/delivery.md, "Outbound security"): the receiver's certificate is
# verified — against delivery.ca_file when set — chain and host name, and a failed verification
# is an attempt with error "tls" that reaches nothing; once the right CA is configured (SIGHUP),
# the retry and new messages arrive, verified by the Standard Webhooks reference library.
. "$HG_SRCDIR/tests/integration/lib.sh"
. "$HG_SRCDIR/tests/integration/webhook_lib.sh"
. "$HG_SRCDIR/tests/integration/delivery_lib.sh"
delivery_deps
hg_setup
plan 9

# ca NAME: a self-signed CA; cert NAME CA SAN: a server certificate CA signed for SAN.
ca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj "/CN=$1" -keyout "$HG_TMP/$1.key" -out "$HG_TMP/$1.pem" 2>/dev/null
}
cert() {
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$1" \
		-keyout "$HG_TMP/$1.key" -out "$HG_TMP/$1.csr" 2>/dev/null &&
		openssl x509 -req -in "$HG_TMP/$1.csr" -CA "$HG_TMP/$2.pem" -CAkey "$HG_TMP/$2.key" \
			-CAcreateserial -days 2 -extfile <(printf 'subjectAltName=%s\n' "$3") \
			-out "$HG_TMP/$1.pem" 2>/dev/null
}
ok "openssl makes two CAs and two server certificates" \
	eval 'ca goodca && ca rogueca && cert local goodca "IP:127.0.0.1,DNS:localhost" &&
		cert other goodca DNS:other.example'

# attempts TARGET: the errors of the attempts to that channel's destination, in order.
attempts() {
	pg_sql "SELECT string_agg(coalesce(a.error, a.outcome), ' ' ORDER BY a.at)
		  FROM hookgate.delivery_attempts a JOIN hookgate.destinations d
		    ON d.id = a.destination_id WHERE d.target = '$1'"
}
has_attempt() { [[ -n $(attempts "$1") ]]; }

pg_start
hg_config '[delivery]' 'timeout = 5s' 'connect_timeout = 2s' 'allow_networks = 127.0.0.1/32' \
	"ca_file = $HG_TMP/rogueca.pem"
hg_migrate >/dev/null || bail_out "migrate failed"
webhook_fixtures || bail_out "fixtures failed"
receiver_start r http 127.0.0.1 "$HG_TMP/local.pem,$HG_TMP/local.key"
receiver_start o http 127.0.0.1 "$HG_TMP/other.pem,$HG_TMP/other.key"
for c in tls1 tls2; do
	{ hgctl channel add "$c" && hgctl channel member add "$c" alice; } >/dev/null ||
		bail_out "channel $c"
done
dest_set r /ok/tls1 channel tls1 >/dev/null || bail_out "endpoint tls1"
dest_set o /ok/tls2 channel tls2 >/dev/null || bail_out "endpoint tls2"
hg_start || bail_out "hookgated does not start"

post "$(channel_path tls1 "$TOK_A")" '{"text":"signed by an unknown CA"}'
is "$HTTP_STATUS" 204 "the call is stored (delivery comes after)"
wait_until 10000 has_attempt tls1
is "$(attempts tls1)" tls "a certificate of a CA other than delivery.ca_file: attempt error tls"
is "$(recv_count r)" 0 "and no request reached the receiver"

sed -i "s|^ca_file = .*|ca_file = $HG_TMP/goodca.pem|" "$HG_TMP/hookgate.conf"
kill -HUP "$HG_PID"
ok "after SIGHUP with the right CA, the retry arrives" wait_recv 15000 r 1
post "$(channel_path tls1 "$TOK_A")" '{"text":"now trusted"}'
ok "and a new message" wait_recv 10000 r 2
is "$(recv '[.[] | select(.verified)] | length')" 2 "both verified by the reference library"

post "$(channel_path tls2 "$TOK_A")" '{"text":"right CA, wrong name"}'
wait_until 10000 has_attempt tls2
is "$(attempts tls2)" tls "a certificate for another host name, from the right CA: error tls"
is "$(recv_count o)" 0 "and nothing reached that receiver"
