-- SPDX-License-Identifier: Apache-2.0
-- 006_rate_shares.sql: the nodes that share limits.token_rate (docs/schema.md, "Rate shares";
-- docs/decisions/0015-rate-shares.md). Every hookgated with the limit on calls
-- rate_share_beat() a few times a second from its housekeeping process; the answer, the number
-- of nodes seen in the last two seconds, is how many shares the limit is cut into. The webhook
-- workers never read this table: a call is decided in the node's shared memory. Applied by
-- "hookgatectl migrate" like 001.

-- One row per running node. node_id is random, made when the node's master starts (so a
-- reload keeps it and a restart gets a new one); host is the machine's name, for people. Rows
-- of nodes gone for ten minutes are deleted by the beats of the others. seen_at is the only
-- column a beat changes and is not indexed, so a beat is a HOT update; the free room
-- (fillfactor) keeps the new versions on the row's page.
CREATE TABLE hookgate.rate_shares (
	node_id    bigint PRIMARY KEY,
	host       text NOT NULL,
	started_at timestamptz NOT NULL,
	seen_at    timestamptz NOT NULL
) WITH (fillfactor = 50);

-- A beat of node p_node: marks it seen now and returns how many nodes were seen within the last
-- p_live_ms milliseconds, itself included. Times are this server's clock_timestamp(), so the
-- nodes' clocks do not matter. Its commit does not wait for the WAL flush (nor a synchronous
-- standby): a beat lost in a crash is replaced by the next one, and a beat that waited for a
-- slow disk would make its node look gone to the others. Rows of other nodes are deleted only
-- when no one else holds them (SKIP LOCKED), so two beats never wait for each other.
CREATE FUNCTION hookgate.rate_share_beat(p_node bigint, p_host text, p_live_ms integer)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	t timestamptz := clock_timestamp();
	live integer;
BEGIN
	PERFORM set_config('synchronous_commit', 'off', true);
	INSERT INTO hookgate.rate_shares (node_id, host, started_at, seen_at)
	VALUES (p_node, p_host, t, t)
	ON CONFLICT (node_id) DO UPDATE SET seen_at = t;
	DELETE FROM hookgate.rate_shares
	 WHERE node_id IN (SELECT node_id FROM hookgate.rate_shares
			    WHERE seen_at < t - interval '10 minutes'
			      FOR UPDATE SKIP LOCKED);
	SELECT count(*) INTO live FROM hookgate.rate_shares
	 WHERE seen_at >= t - p_live_ms * interval '1 millisecond';
	RETURN live;
END;
$$;
