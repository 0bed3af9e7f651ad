#!/bin/bash
# shellcheck disable=SC2119
# Housekeeping by webhook worker 1: monthly token_usage partitions kept three months ahead,
# and partitions older than database.usage_retention dropped (their rows with them).
. "$HG_SRCDIR/tests/integration/lib.sh"
hg_setup
plan 5

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

hg_start || bail_out "hookgated does not start"
ok "worker 1 re-creates the partition three months ahead" \
	wait_until 15000 bash -c "[[ \$(PGHOST=$PGHOST PGPORT=$PGPORT PGUSER=$PGUSER PGDATABASE=$PGDATABASE psql -X -At -c \"SELECT count(*) FROM pg_class WHERE relname = '$ahead'\") == 1 ]]"
ok "the partition older than usage_retention is dropped" \
	wait_until 5000 bash -c "[[ \$(PGHOST=$PGHOST PGPORT=$PGPORT PGUSER=$PGUSER PGDATABASE=$PGDATABASE psql -X -At -c \"SELECT count(*) FROM pg_class WHERE relname = 'token_usage_y2020m01'\") == 0 ]]"
is "$(pg_sql "SELECT count(*) FROM hookgate.token_usage WHERE at < '2021-01-01'")" 0 \
	"its rows are gone with it"
ok "the log says what was done" grep -q 'maintenance: created 1 usage partition' "$HG_TMP/hookgated.log"
