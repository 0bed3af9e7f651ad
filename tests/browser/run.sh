#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# tests/browser/run.sh: runs the dashboard's browser test (dashboard.test.js) and prints its
# TAP. Installs playwright-core and standardwebhooks (pinned by package-lock.json) into MODULES_DIR — never into the
# source tree, which may be read-only — and skips the whole test when Chromium, Node or npm
# is missing. The test's settings (URLs, users) come from the environment: see
# tests/integration/t_browser.sh, which starts the servers and then runs this.
#
#   tests/browser/run.sh MODULES_DIR
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
modules=${1:?usage: run.sh MODULES_DIR}
chromium=${HG_CHROMIUM:-/usr/bin/chromium}

skip() {
	printf '1..0 # SKIP %s\n' "$*"
	exit 0
}

[[ -x $chromium ]] || skip "chromium not installed ($chromium)"
command -v node >/dev/null 2>&1 || skip "node not installed"
command -v npm >/dev/null 2>&1 || skip "npm not installed"

# Install again only when the lock file changed since the last install.
mkdir -p "$modules" || skip "cannot create $modules"
if ! cmp -s "$here/package-lock.json" "$modules/package-lock.json" ||
	[[ ! -d $modules/node_modules/playwright-core ]]; then
	cp "$here/package.json" "$here/package-lock.json" "$modules/" || skip "cannot write $modules"
	if ! (cd "$modules" && npm ci --no-audit --no-fund --loglevel=error >npm.log 2>&1); then
		rm -f "$modules/package-lock.json"
		skip "cannot install the test's modules with npm (see $modules/npm.log)"
	fi
fi

NODE_PATH=$modules/node_modules exec node "$here/dashboard.test.js"
