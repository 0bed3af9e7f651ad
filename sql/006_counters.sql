-- 006_counters.sql: token counters that a long transaction cannot slow down.
--
-- A batch no longer updates webhook_tokens: it inserts each of its tokens' "+n and latest
-- time" into token_counts_pending, an insert-only table, and takes its token rows FOR SHARE.
-- fold_token_counts() moves the pending rows into webhook_tokens.invocations and
-- last_invoked_at, at most a second behind; token_counts adds the two, so it is exact at
-- every moment.
--
-- Why: when every batch rewrote its tokens' rows, each batch left a dead version of each
-- row, which PostgreSQL cannot remove while any snapshot older than it is open (pg_dump, a
-- DBA's report). Look-ups and updates then walked the versions: a REPEATABLE READ snapshot
-- held 25 s cut ingest from 18.5k to 3.9k calls/s, and two workers' batches waited for each
-- other's commit on the shared rows. Inserts leave no version behind to walk, and FOR SHARE
-- locks do not conflict with each other; a disable or delete of a token (an UPDATE) still
-- waits for every batch holding its row, and a batch that starts after it commits sees it.

-- One row per token per batch that counted calls for it. No index and no foreign key: each
-- would cost every batch an entry or a look-up. Only fold_token_counts() deletes from it, and
-- the token_counts view reads it. Cleaned up by autovacuum as soon as a fold's deletions
-- are old enough; the settings make it run on this small, churning table without waiting
-- for the default 20% of its size.
CREATE TABLE hookgate.token_counts_pending (
	token_id bigint NOT NULL,
	calls    integer NOT NULL CHECK (calls > 0),
	last_at  timestamptz NOT NULL
) WITH (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 10000,
	autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_insert_threshold = 10000,
	autovacuum_vacuum_cost_delay = 0);

-- Exact counters: what has been folded plus what has not. One statement sees one snapshot,
-- and a fold deletes pending rows and adds them to webhook_tokens in one transaction, so a
-- call is counted once, whether its fold happened before the statement or not.
CREATE VIEW hookgate.token_counts AS
SELECT t.id AS token_id,
       t.invocations + coalesce(p.calls, 0) AS invocations,
       greatest(t.last_invoked_at, p.last_at) AS last_invoked_at
  FROM hookgate.webhook_tokens t
  LEFT JOIN (SELECT token_id, sum(calls)::bigint AS calls, max(last_at) AS last_at
	       FROM hookgate.token_counts_pending GROUP BY token_id) p
    ON p.token_id = t.id;

COMMENT ON VIEW hookgate.token_counts IS
	'Exact invocations and last_invoked_at of every token (webhook_tokens plus the counts not yet folded).';

-- Moves every pending row into webhook_tokens, in one short transaction. Returns how many
-- calls it folded, or NULL when another fold holds the lock (every webhook worker of every
-- node calls it; one at a time is enough, and two would only wait for each other).
-- A pending row committed after this fold's snapshot is left for the next fold. The token
-- rows are locked in id order, as batches lock them (FOR SHARE), so a fold and a batch never
-- deadlock; a fold waits for the batches holding its rows, and an UPDATE that waited acts on
-- the row's latest version, so a rename or disable committed meanwhile is kept, and so are
-- the counts. Tokens that no longer exist (deleted by hand) lose their pending rows.
CREATE FUNCTION hookgate.fold_token_counts() RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	ids bigint[];
	ns bigint[];
	lasts timestamptz[];
BEGIN
	-- Advisory lock (1751869300, 1): 1751869300 is "hkgt" in ASCII, hookgate's class of
	-- advisory locks (README, "Tokens and the schema"); 1 is the fold.
	IF NOT pg_try_advisory_xact_lock(1751869300, 1) THEN
		RETURN NULL;
	END IF;
	WITH moved AS (
		DELETE FROM hookgate.token_counts_pending RETURNING token_id, calls, last_at
	)
	SELECT array_agg(token_id ORDER BY token_id), array_agg(n ORDER BY token_id),
	       array_agg(latest ORDER BY token_id)
	  INTO ids, ns, lasts
	  FROM (SELECT token_id, sum(calls) AS n, max(last_at) AS latest
		  FROM moved GROUP BY token_id) g;
	IF ids IS NULL THEN
		RETURN 0;
	END IF;
	PERFORM 1 FROM hookgate.webhook_tokens t
	  WHERE t.id = ANY (ids) ORDER BY t.id FOR NO KEY UPDATE;
	UPDATE hookgate.webhook_tokens t
	   SET invocations = t.invocations + n.calls,
	       last_invoked_at = greatest(t.last_invoked_at, n.last_at)
	  FROM unnest(ids, ns, lasts) n (token_id, calls, last_at)
	 WHERE t.id = n.token_id;
	RETURN (SELECT sum(x) FROM unnest(ns) x);
END;
$$;
