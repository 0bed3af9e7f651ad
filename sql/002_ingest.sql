-- 002_ingest.sql: the database side of webhook ingest (SPEC §3): the group-commit function
-- the webhook workers call once per batch, the NOTIFY that invalidates their token caches,
-- and the purge of expired idempotency keys. Applied by "hookgatectl migrate" like 001.

-- ---- one call of a batch, as the worker sends it -------------------------------------------

-- The endpoint a call came through. "extension" is resolved here to extension_sandbox or
-- extension_marketplace by the app id that matches; anything else fails the whole batch.
CREATE DOMAIN hookgate.ingest_module AS text
	CHECK (VALUE IN ('channel', 'bot_incoming', 'bot_message', 'extension'));

-- status 0: to be decided here; any other value was decided by the worker (400, 413, 415,
-- 429, 401, ...) and only needs its usage row. appkey_hash is the hex HMAC look-up hash of
-- the call's appkey (NULL without one); at is the arrival time of the call.
CREATE TYPE hookgate.ingest_call AS (
	i             integer,
	token_id      bigint,
	user_id       bigint,
	status        integer,
	module        hookgate.ingest_module,
	target        text,
	appkey_hash   text,
	content_type  text,
	body          text,
	idem_key      text,
	client_addr   inet,
	user_agent    text,
	request_bytes integer,
	latency_us    integer,
	at            timestamptz
);

-- ---- the batch ---------------------------------------------------------------------------

-- One transaction per batch (the worker calls it alone, in autocommit): either every call of
-- the batch is stored with its usage row and counters, or nothing is.
--
-- Step 1 locks the batch's token rows in id order, so that two workers never deadlock and a
-- disable or delete either commits before (and is seen below) or waits until this batch has
-- committed: no call is accepted with a token whose disable committed first.
-- Step 2 is a single set-based statement. It runs with a snapshot taken after the locks were
-- granted (PL/pgSQL takes one per statement in READ COMMITTED), so it sees the tokens' final
-- state and the idempotency keys committed by the batches it waited for: keys belong to a
-- token, so two batches using the same key are serialized by that token's lock.
--
-- Outcome of a call (the returned code is NULL where the worker keeps its own, and for 204):
-- * token deleted or unknown: 401 token_invalid, no usage row, not counted;
-- * token disabled: 401 token_disabled, usage row, not counted;
-- * status decided by the worker: that status, usage row, counted unless it is a 401;
-- * otherwise the target and permission (SPEC §3): 404 not_found, 403 forbidden or 204 with a
--   stored message; usage row; counted.
-- Idempotency keys apply to the last kind only (a 429 or 400 is not remembered, so a retry can
-- still succeed): a key seen within 24 h replays its stored answer and stores no message; the
-- same key twice in one batch: the lowest i decides, the others replay its answer.
--
-- budget_ms (optional): the batch fails (SQLSTATE 57014) when its work ends later than that
-- after PostgreSQL received the statement. The worker gives up waiting a little later and
-- answers 503; without this a batch that was stalled (server stopped, lock wait) would still
-- commit after its callers were told that nothing was stored.
CREATE FUNCTION hookgate.ingest_batch(calls jsonb, budget_ms integer DEFAULT NULL)
RETURNS TABLE (i integer, http_status integer, code text, message_id bigint)
LANGUAGE plpgsql
-- The statements depend on the batch only through cs: a custom plan per call would re-plan
-- the big statement every time (about 1 ms, more than a whole small batch takes).
SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
DECLARE
	cs hookgate.ingest_call[];
BEGIN
	SELECT array_agg(x) INTO cs
	  FROM jsonb_populate_recordset(NULL::hookgate.ingest_call, calls) x;
	IF cs IS NULL THEN
		RETURN;
	END IF;
	IF EXISTS (SELECT 1 FROM unnest(cs) x
		    WHERE x.i IS NULL OR x.token_id IS NULL OR x.status IS NULL
		       OR x.module IS NULL OR x.target IS NULL OR x.at IS NULL)
	   OR (SELECT count(DISTINCT x.i) <> count(*) FROM unnest(cs) x) THEN
		RAISE EXCEPTION 'ingest_batch: every call needs a distinct i and i, token_id,'
			' status, module, target and at';
	END IF;

	PERFORM 1 FROM hookgate.webhook_tokens t
	  WHERE t.id IN (SELECT DISTINCT x.token_id FROM unnest(cs) x)
	  ORDER BY t.id FOR UPDATE;

	RETURN QUERY
	WITH c AS MATERIALIZED (
		SELECT x.*, t.id IS NOT NULL AS known,
		       coalesce(t.status = 'active', false) AS active, t.user_id AS owner
		  FROM unnest(cs) x
		  LEFT JOIN hookgate.webhook_tokens t ON t.id = x.token_id AND t.deleted_at IS NULL
	),
	-- Target look-ups, for known tokens only. found NULL = no such target.
	r AS MATERIALIZED (
		SELECT c.*, coalesce(e.module, CASE WHEN c.module = 'extension'
				THEN 'extension_sandbox' ELSE c.module::text END) AS module_final,
		       coalesce(ch.allowed, b.allowed, e.allowed) AS allowed
		  FROM c
		  LEFT JOIN LATERAL (
			SELECT EXISTS (
				SELECT 1 FROM hookgate.channel_members m
				 WHERE m.channel_id = h.id AND m.user_id = c.owner) AS allowed
			  FROM hookgate.channels h
			 WHERE c.known AND c.module = 'channel' AND h.name = c.target) ch ON true
		  LEFT JOIN LATERAL (
			SELECT bo.owner_id = c.owner OR EXISTS (
				SELECT 1 FROM hookgate.bot_subscribers s
				 WHERE s.bot_id = bo.id AND s.user_id = c.owner) AS allowed
			  FROM hookgate.bots bo
			 WHERE c.known AND c.module IN ('bot_incoming', 'bot_message')
			   AND bo.name = c.target) b ON true
		  LEFT JOIN LATERAL (
			-- Each environment's appkey opens only its own app id.
			SELECT CASE WHEN x.sandbox_app_id = c.target THEN 'extension_sandbox'
				    ELSE 'extension_marketplace' END AS module,
			       coalesce(CASE WHEN x.sandbox_app_id = c.target
					     THEN x.sandbox_appkey_hash
					     ELSE x.marketplace_appkey_hash END
					= decode(c.appkey_hash, 'hex'), false) AS allowed
			  FROM hookgate.extensions x
			 WHERE c.known AND c.module = 'extension'
			   AND (x.sandbox_app_id = c.target OR x.marketplace_app_id = c.target)
		  ) e ON true
	),
	d AS MATERIALIZED (
		SELECT r.*,
		       CASE WHEN NOT r.known OR NOT r.active THEN 401
			    WHEN r.status <> 0 THEN r.status
			    WHEN r.allowed IS NULL THEN 404
			    WHEN NOT r.allowed THEN 403
			    ELSE 204 END AS st,
		       r.active AND r.status = 0 AND r.idem_key IS NOT NULL AS keyed,
		       k.http_status AS prior_status, k.message_id AS prior_message,
		       min(r.i) FILTER (WHERE r.active AND r.status = 0)
			   OVER (PARTITION BY r.token_id, r.idem_key) AS leader_i
		  FROM r
		  -- OFFSET 0 keeps this a look-up by primary key per call: as a plain join the
		  -- planner may prefer scanning every key of the last 24 h.
		  LEFT JOIN LATERAL (
			SELECT k.http_status, k.message_id FROM hookgate.idempotency_keys k
			 WHERE r.active AND r.status = 0 AND k.token_id = r.token_id
			   AND k.key = r.idem_key AND k.created_at > now() - interval '24 hours'
			OFFSET 0) k ON true
	),
	-- role: 'replay' (key stored earlier), 'follower' (key used by a lower i of this batch),
	-- 'leader' (first use of a key), 'plain' (no key).
	e AS MATERIALIZED (
		SELECT d.*,
		       CASE WHEN NOT d.keyed THEN 'plain'
			    WHEN d.prior_status IS NOT NULL THEN 'replay'
			    WHEN d.i <> d.leader_i THEN 'follower'
			    ELSE 'leader' END AS role
		  FROM d
	),
	ids AS MATERIALIZED (
		SELECT s.i, nextval('hookgate.messages_id_seq') AS id
		  FROM (SELECT e.i FROM e WHERE e.st = 204 AND e.role IN ('plain', 'leader')
			 ORDER BY e.i) s
	),
	f AS MATERIALIZED (
		SELECT e.*,
		       CASE e.role WHEN 'replay' THEN e.prior_status
				   WHEN 'follower' THEN l.st ELSE e.st END AS final_status,
		       CASE e.role WHEN 'replay' THEN e.prior_message
				   WHEN 'follower' THEN li.id ELSE ids.id END AS final_message
		  FROM e
		  LEFT JOIN ids ON ids.i = e.i
		  LEFT JOIN e l ON e.role = 'follower' AND l.i = e.leader_i
		  LEFT JOIN ids li ON e.role = 'follower' AND li.i = e.leader_i
	),
	msg AS (
		INSERT INTO hookgate.messages (id, at, module, target, user_id, token_id,
					       content_type, body, idempotency_key)
		OVERRIDING SYSTEM VALUE
		SELECT f.final_message, f.at, f.module_final, f.target, f.owner, f.token_id,
		       f.content_type, f.body, f.idem_key
		  FROM f WHERE f.role IN ('plain', 'leader') AND f.st = 204
	),
	idem AS (
		-- A row still present but older than 24 h is replaced (the purge had not run yet).
		INSERT INTO hookgate.idempotency_keys AS k (token_id, key, created_at, http_status,
							    message_id)
		SELECT f.token_id, f.idem_key, now(), f.final_status, f.final_message
		  FROM f WHERE f.role = 'leader'
		ON CONFLICT (token_id, key) DO UPDATE
		   SET created_at = EXCLUDED.created_at, http_status = EXCLUDED.http_status,
		       message_id = EXCLUDED.message_id
	),
	usage_rows AS (
		INSERT INTO hookgate.token_usage (token_id, user_id, at, module, target,
			http_status, client_addr, user_agent, request_bytes, latency_us, message_id)
		SELECT f.token_id, f.owner, f.at, f.module_final, f.target, f.final_status,
		       f.client_addr, f.user_agent, f.request_bytes, f.latency_us, f.final_message
		  FROM f WHERE f.known
	),
	counted AS (
		UPDATE hookgate.webhook_tokens t
		   SET invocations = t.invocations + n.calls,
		       last_invoked_at = greatest(t.last_invoked_at, n.last_at)
		  FROM (SELECT f.token_id, count(*) AS calls, max(f.at) AS last_at
			  FROM f WHERE f.active AND f.final_status <> 401
			 GROUP BY f.token_id) n
		 WHERE t.id = n.token_id
	)
	SELECT f.i, f.final_status,
	       CASE WHEN NOT f.known THEN 'token_invalid'
		    WHEN NOT f.active THEN 'token_disabled'
		    WHEN f.status <> 0 THEN NULL
		    WHEN f.final_status = 403 THEN 'forbidden'
		    WHEN f.final_status = 404 THEN 'not_found' END,
	       f.final_message
	  FROM f ORDER BY f.i;

	IF budget_ms IS NOT NULL AND clock_timestamp()
			> statement_timestamp() + make_interval(secs => budget_ms / 1000.0) THEN
		RAISE EXCEPTION 'ingest batch past its deadline (% ms)', budget_ms
			USING ERRCODE = 'query_canceled';
	END IF;
END;
$$;

-- ---- token cache invalidation --------------------------------------------------------------

-- Payload "<id>:<hex token_hash>": workers drop the entry of that id and any entry (negative
-- ones included) of that hash. A delete clears the hash, so the old one is sent; a changed
-- hash sends both. Counter updates by ingest_batch do not fire it (see the WHEN clauses).
CREATE FUNCTION hookgate.webhook_tokens_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP <> 'INSERT' THEN
		PERFORM pg_notify('hookgate_tokens',
				  OLD.id || ':' || coalesce(encode(OLD.token_hash, 'hex'), ''));
	END IF;
	IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.token_hash IS NOT NULL
				AND NEW.token_hash IS DISTINCT FROM OLD.token_hash) THEN
		PERFORM pg_notify('hookgate_tokens',
				  NEW.id || ':' || coalesce(encode(NEW.token_hash, 'hex'), ''));
	END IF;
	RETURN NULL;
END;
$$;

CREATE TRIGGER webhook_tokens_notify_insert_delete
	AFTER INSERT OR DELETE ON hookgate.webhook_tokens
	FOR EACH ROW EXECUTE FUNCTION hookgate.webhook_tokens_notify();

CREATE TRIGGER webhook_tokens_notify_update
	AFTER UPDATE ON hookgate.webhook_tokens
	FOR EACH ROW
	WHEN (OLD.status IS DISTINCT FROM NEW.status
	      OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at
	      OR OLD.token_hash IS DISTINCT FROM NEW.token_hash
	      OR OLD.user_id IS DISTINCT FROM NEW.user_id)
	EXECUTE FUNCTION hookgate.webhook_tokens_notify();

-- ---- idempotency key retention -------------------------------------------------------------

-- Called periodically by the workers; returns the number of keys removed.
CREATE FUNCTION hookgate.prune_idempotency_keys() RETURNS bigint
LANGUAGE sql AS $$
	WITH gone AS (
		DELETE FROM hookgate.idempotency_keys
		 WHERE created_at <= now() - interval '24 hours'
		RETURNING 1)
	SELECT count(*) FROM gone;
$$;

-- ---- the hot path's foreign keys -------------------------------------------------------------

-- Each message row's two foreign keys cost a KEY SHARE look-up of users and webhook_tokens per
-- row (about 40% of ingest_batch, measured), and the token row is already locked FOR UPDATE
-- by the batch that inserts the message. Neither parent is ever deleted while messages point
-- to it: tokens are only soft-deleted, and users have RESTRICT from webhook_tokens. So the
-- batch function, not a per-row check, guarantees these ids.
ALTER TABLE hookgate.messages
	DROP CONSTRAINT IF EXISTS messages_user_id_fkey,
	DROP CONSTRAINT IF EXISTS messages_token_id_fkey;

-- Every batch updates its tokens' counters. With room left on each page the new row version
-- stays on the page (a HOT update: no index entry written); the table is small, so half-empty
-- pages cost nothing worth counting.
ALTER TABLE hookgate.webhook_tokens SET (fillfactor = 50);
