#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# shellcheck disable=SC2119 # lib.sh functions with optional arguments, called without
# Reads from a standby (docs/operations.md, "Reads from a standby"): a primary and a hot standby
# that applies commits 2 s late (recovery_min_apply_delay), hookgated with
# database.read_conninfo naming the standby. The dashboard's token list is served by the
# standby (a token made on the primary by hookgatectl shows only once the standby applied it);
# a session's own creation is listed at once and its own deletion is never listed again
# (read-your-writes); with the standby stopped the list still answers, from the primary, and
# the fallback is logged once; the standby serves again once it is back.
. "$HG_SRCDIR/tests/integration/lib.sh"
. "$HG_SRCDIR/tests/integration/admin_lib.sh"
hg_setup
plan 17

[[ -x $(pg_bindir)/pg_basebackup ]] || bail_out "pg_basebackup not found"
replica_cleanup() {
	local rc=$?
	pg_standbys_stop
	(exit "$rc")
	hg_cleanup
}
trap replica_cleanup EXIT

READS_APP="hookgated admin reads"

# listed NAME: the last token list holds a token named NAME.
listed() {
	[[ $HTTP_BODY == *"\"name\":\"$1\""* ]]
}
# standby_has SQL_CONDITION: the standby's count of live tokens matching it.
standby_has() {
	pg_at "$P2" "SELECT count(*) FROM hookgate.webhook_tokens
		WHERE deleted_at IS NULL AND $1"
}
# standby_caught_up: the standby has applied everything the primary had committed when asked.
standby_caught_up() {
	local lsn
	lsn=$(pg_at "$P1" "SELECT pg_current_wal_lsn()")
	wait_until 10000 eval "[[ \$(pg_at $P2 \"SELECT pg_last_wal_replay_lsn() >= '$lsn'\") == t ]]"
}
list_tokens() {
	api alice GET /admin/api/tokens ''
}
fallback_lines() {
	grep -c 'reads go to the primary' "$HG_TMP/hookgated.log"
}

# ---- a primary, a standby 2 s behind, hookgated reading from it ----------------------------------

pg_start
P1=$PGPORT
standby_make "$HG_TMP/pg2" standby1 "$P1" || bail_out "the standby does not stream"
P2=$(cat "$HG_TMP/pg2/port")
ok "the standby applies commits 2 s late" eval \
	"pg_at $P2 \"ALTER SYSTEM SET recovery_min_apply_delay = '2s'\" &&
	 [[ \$(pg_at $P2 'SELECT pg_reload_conf()') == t ]]"
hg_config "[database]" "read_conninfo = host=127.0.0.1 port=$P2 dbname=hookgate user=hookgate"
hg_migrate >/dev/null || bail_out "migrate failed"
hgctl user add alice <<<"$(pw alice)" >/dev/null || bail_out "user add alice failed"
standby_caught_up || bail_out "the standby does not catch up"
hg_start || bail_out "hookgated does not start"

ok "the admin worker's read sessions are on the standby (pool_size 2)" wait_until 5000 eval \
	"[[ \$(pg_at $P2 \"SELECT count(*) FROM pg_stat_activity
		WHERE application_name = '$READS_APP'\") == 2 ]]"
is "$(pg_at "$P1" "SELECT count(*) FROM pg_stat_activity WHERE application_name = '$READS_APP'")" \
	0 "and none on the primary"

# ---- the standby serves the reads ----------------------------------------------------------------

ok "alice logs in" login alice
# Her login is a write: her reads stay on the primary until the standby applied it.
standby_caught_up
sleep 0.3
hgctl token create alice --name direct >/dev/null || bail_out "token create failed"
list_tokens
is "$HTTP_STATUS" 200 "token list: 200"
ok "a token made on the primary by hookgatectl is not listed at once (the standby is 2 s late)" \
	eval '! listed direct'
ok "it is listed once the standby applied it" \
	wait_until 6000 eval 'list_tokens; listed direct'

# ---- read-your-writes ----------------------------------------------------------------------------

api alice POST /admin/api/tokens '{"name":"mine"}'
is "$HTTP_STATUS" 201 "alice creates a token through the API: 201"
MINE=$(jstr id)
list_tokens
ok "her next list shows it at once (the standby has not applied it yet)" listed mine
ok "the standby applies it 2 s later" \
	wait_until 6000 eval "[[ \$(standby_has \"public_id = '$MINE'\") == 1 ]]"
standby_caught_up
sleep 0.3
api alice DELETE "/admin/api/tokens/$MINE" ''
is "$HTTP_STATUS" 204 "alice deletes it: 204"
list_tokens
still=$(standby_has "public_id = '$MINE'")
ok "her next list does not show the deleted token" eval "[[ $HTTP_STATUS == 200 ]] && ! listed mine"
is "$still" 1 "although the standby still had it then"

# ---- the standby away: the primary answers -------------------------------------------------------

# Her deletion applied: her reads are the standby's again, until it stops.
standby_caught_up
sleep 0.3
before=$(fallback_lines)
pg_tmp stop "$HG_TMP/pg2" >/dev/null || diag "could not stop the standby"
list_tokens
ok "the standby stopped: the token list still answers 200" \
	eval "[[ $HTTP_STATUS == 200 ]] && listed direct"
for _ in 1 2 3; do
	list_tokens
done
is "$HTTP_STATUS" 200 "and again"
is "$(($(fallback_lines) - before))" 1 "the fallback to the primary is logged once"
pg_tmp start "$HG_TMP/pg2" >/dev/null || diag "could not start the standby again"
ok "the standby back: it serves the reads again" wait_until 10000 eval \
	"list_tokens; grep -q 'reads are served by the standby again' '$HG_TMP/hookgated.log'"
