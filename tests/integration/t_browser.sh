#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# shellcheck disable=SC2119 # lib.sh functions with optional arguments, called without
# The dashboard in headless Chromium: PostgreSQL, two hookgated (the second with a
# 10 s 2FA session for the expiry case) serving the page from the source tree, a channel, a bot
# and an extension; then tests/browser/run.sh prints the TAP of tests/browser/dashboard.test.js.
# The dashboard's destinations point at a receiver on 127.0.0.1 that the browser test runs, so
# both daemons allow loopback addresses for delivery.
. "$HG_SRCDIR/tests/integration/lib.sh"

chromium=${HG_CHROMIUM:-/usr/bin/chromium}
if [[ ! -x $chromium ]] || ! command -v node >/dev/null 2>&1; then
	printf '1..0 # SKIP chromium or node not installed\n'
	exit 0
fi

hg_setup
pw() {
	printf 'pass-%s-correct-horse\n' "$1"
}

pg_start
loopback='allow_networks = 127.0.0.0/8, ::1/128'
hg_config '[server]' "web_dir = $HG_SRCDIR/web" '[delivery]' "$loopback"
hg_migrate >/dev/null || bail_out "migrate failed"
# olga is an administrator (the Organisation view); dora is disabled (her sign-in is refused).
for who in alice erin olga dora; do
	hgctl user add "$who" --display-name "User ${who^}" <<<"$(pw "$who")" >/dev/null ||
		bail_out "user add $who failed"
done
{
	hgctl channel add general --title "General talk" &&
		hgctl channel member add general alice &&
		hgctl bot add helper --owner alice &&
		hgctl extension add ext1 --owner alice
} >/dev/null || bail_out "cannot create the channel, bot and extension"
{ hgctl user grant-admin olga && hgctl user disable dora; } >/dev/null ||
	bail_out "cannot make olga an administrator and disable dora"
# hg_start waits for the ports of the latest hg_config: start each daemon right after its own.
cp "$HG_CONF" "$HG_TMP/long.conf"
hg_start "$HG_TMP/long.conf" || bail_out "hookgated (long sessions) does not start"
PORT_LONG=$HG_PORT
ADMIN_LONG=$HG_ADMIN_PORT
hg_config '[server]' "web_dir = $HG_SRCDIR/web" '[security]' 'twofa_session_ttl = 10s' \
	'[delivery]' "$loopback"
cp "$HG_CONF" "$HG_TMP/short.conf"
hg_start "$HG_TMP/short.conf" || bail_out "hookgated (short sessions) does not start"

shots=$HG_SRCDIR/tests/browser/screenshots
if ! mkdir -p "$shots" 2>/dev/null || [[ ! -w $shots ]]; then
	shots=$HG_BUILDDIR/tests/browser-screenshots
fi
mkdir -p "$HG_TMP/profile"
HG_ADMIN_URL=http://127.0.0.1:$ADMIN_LONG \
	HG_ADMIN_URL_SHORT=http://127.0.0.1:$HG_ADMIN_PORT \
	HG_WEBHOOK_URL=http://127.0.0.1:$PORT_LONG \
	HG_USER=alice HG_PASSWORD=$(pw alice) HG_USER2=erin HG_PASSWORD2=$(pw erin) \
	HG_ADMIN_USER=olga HG_ADMIN_PASSWORD=$(pw olga) \
	HG_DISABLED_USER=dora HG_DISABLED_PASSWORD=$(pw dora) \
	HG_SCREENSHOTS=$shots HG_BROWSER_PROFILE=$HG_TMP/profile HG_CHROMIUM=$chromium \
	timeout 300 bash "$HG_SRCDIR/tests/browser/run.sh" "$HG_BUILDDIR/tests/browser-deps"
