#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# shellcheck disable=SC2119
# Maintenance by the housekeeping process (its leader): monthly token_usage (and
# delivery_attempts) partitions kept three months ahead, partitions older than database.usage_retention dropped (their rows with them),
# and a warning when an open transaction keeps PostgreSQL from cleaning up the pending token
# counts folds read.
. "$HG_SRCDIR/tests/integration/lib.sh"
hg_setup
plan 12

pg_start
hg_config '[database]' 'usage_retention = 90d'
hg_migrate >/dev/null || bail_out "migrate failed"

parts() {
	pg_sql "SELECT string_agg(c.relname, ',' ORDER BY c.relname) FROM pg_inherits i
		JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'hookgate.token_usage'::regclass"
}
# Forget the partitions ahead (as if the last migrate was months ago) and add an old one.
ahead=$(pg_sql "SELECT 'token_usage_' || to_char(now() AT TIME ZONE 'UTC' + interval '3 months', '\"y\"YYYY\"m\"MM')")
pg_sql "DROP TABLE hookgate.$ahead" >/dev/null
pg_sql "CREATE TABLE hookgate.token_usage_y2020m01 PARTITION OF hookgate.token_usage
	FOR VALUES FROM ('2020-01-01 00:00+00') TO ('2020-02-01 00:00+00')" >/dev/null
pg_sql "INSERT INTO hookgate.token_usage (token_id, user_id, at, module, target, http_status)
	VALUES (1, 1, '2020-01-15 00:00+00', 'channel', 'general', 204)" >/dev/null
ok "before: the partition three months ahead is gone" bash -c "[[ '$(parts)' != *$ahead* ]]"
# The same for the delivery attempts, which share the retention.
dahead=delivery_attempts_${ahead#token_usage_}
pg_sql "DROP TABLE hookgate.$dahead" >/dev/null
pg_sql "SELECT hookgate.create_monthly_partition('delivery_attempts', 'delivery_attempts_y2020m01',
	'2020-01-01 00:00+00', '2020-02-01 00:00+00')" >/dev/null

hg_start || bail_out "hookgated does not start"
ok "the housekeeping leader re-creates the partition three months ahead" \
	wait_until 15000 bash -c "[[ \$(PGHOST=$PGHOST PGPORT=$PGPORT PGUSER=$PGUSER PGDATABASE=$PGDATABASE psql -X -At -c \"SELECT count(*) FROM pg_class WHERE relname = '$ahead'\") == 1 ]]"
ok "the partition older than usage_retention is dropped" \
	wait_until 5000 bash -c "[[ \$(PGHOST=$PGHOST PGPORT=$PGPORT PGUSER=$PGUSER PGDATABASE=$PGDATABASE psql -X -At -c \"SELECT count(*) FROM pg_class WHERE relname = 'token_usage_y2020m01'\") == 0 ]]"
is "$(pg_sql "SELECT count(*) FROM hookgate.token_usage WHERE at < '2021-01-01'")" 0 \
	"its rows are gone with it"
ok "the log says what was done" grep -q 'maintenance: created 1 usage partition' "$HG_TMP/hookgated.log"
# relcount NAME N: N relations are named NAME.
relcount() {
	[[ $(pg_sql "SELECT count(*) FROM pg_class WHERE relname = '$1'") == "$2" ]]
}
ok "the delivery attempts' partition three months ahead is re-created" \
	wait_until 5000 relcount "$dahead" 1
ok "and the one older than usage_retention dropped" \
	wait_until 5000 relcount delivery_attempts_y2020m01 0
ok "the log says so" grep -q 'maintenance: dropped 1 delivery attempt partition(s) older' \
	"$HG_TMP/hookgated.log"

# The watch ran with the partitions (5 s after start): nothing held cleanup back then.
sleep 1
ok "no cleanup warning while no transaction holds cleanup back" \
	bash -c "! grep -q 'dead row versions' '$HG_TMP/hookgated.log'"

# A snapshot held open (as pg_dump holds one) while 500,000 pending counts are inserted and
# deleted leaves row versions behind that PostgreSQL may not remove; the watch, run again at
# start-up, must say so. (Inserted and deleted in one transaction: no fold ever sees them.)
PGAPPNAME=hg-test-holder psql -X -q -c "BEGIN ISOLATION LEVEL REPEATABLE READ" \
	-c "SELECT count(*) FROM hookgate.users" -c "SELECT pg_sleep(120)" >/dev/null 2>&1 &
holder=$!
holder_open() {
	[[ $(pg_sql "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'hg-test-holder'
		AND backend_xmin IS NOT NULL AND query LIKE '%pg_sleep%'") == 1 ]]
}
wait_until 10000 holder_open || bail_out "the snapshot holder did not start"
pg_sql "BEGIN; INSERT INTO hookgate.token_counts_pending (token_id, calls, last_at)
	SELECT 0, 1, now() FROM generate_series(1, 500000);
	DELETE FROM hookgate.token_counts_pending WHERE token_id = 0; COMMIT" >/dev/null
dead_kept() {
	[[ $(pg_sql "SELECT n_dead_tup >= 500000 FROM pg_stat_user_tables
		WHERE relid = 'hookgate.token_counts_pending'::regclass") == t ]]
}
ok "the held snapshot keeps 500,000 dead row versions of token_counts_pending" \
	wait_until 5000 dead_kept
hg_stop >/dev/null 2>&1
sleep 5 # the watch names transactions open for over 10 s; it runs 5 s after start-up
hg_start || bail_out "hookgated does not start again"
ok "the watch warns about the dead row versions" \
	wait_until 15000 grep -q 'token_counts_pending holds [0-9]* dead row versions' \
	"$HG_TMP/hookgated.log"
ok "the warning names the open transaction" \
	grep -q "(user $PGUSER, application hg-test-holder) has had a transaction open for" \
	"$HG_TMP/hookgated.log"
pg_sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
	WHERE application_name = 'hg-test-holder'" >/dev/null
wait "$holder" 2>/dev/null || true
