-- 004_ingest_lean.sql: a cheaper ingest_batch() for the common batch, in which no call carries an
-- Idempotency-Key, and two fewer costs on every batch. Measured with one PostgreSQL backend
-- running batches of 64 calls: 46 -> 29-37 microseconds of CPU per call. Outcomes are those of
-- 002 (see the comment there); only the work done to reach them changed. The target and
-- permission rules, which 002 wrote inside its statement, are now one function both
-- statements call.

-- Where a call goes and whether the token's owner may post there (SPEC §3), for both statements
-- of ingest_batch() below. module_final is the module stored (an extension call becomes
-- extension_sandbox or extension_marketplace by the app id that matched); allowed is NULL when
-- there is no such target, or when owner is NULL (unknown token: nothing is looked up). Each
-- environment's appkey opens only its own app id. LANGUAGE sql, STABLE and not STRICT so that
-- the planner inlines it: the look-ups stay index scans inside the batch's plan.
CREATE FUNCTION hookgate.ingest_target(module text, target text, appkey_hash text, owner bigint)
RETURNS TABLE (module_final text, allowed boolean)
LANGUAGE sql STABLE AS $$
	SELECT coalesce(e.module, CASE WHEN ingest_target.module = 'extension'
			THEN 'extension_sandbox' ELSE ingest_target.module END),
	       coalesce(ch.allowed, b.allowed, e.allowed)
	  FROM (VALUES (1)) one (x)
	  LEFT JOIN LATERAL (
		SELECT EXISTS (
			SELECT 1 FROM hookgate.channel_members m
			 WHERE m.channel_id = h.id AND m.user_id = ingest_target.owner) AS allowed
		  FROM hookgate.channels h
		 WHERE ingest_target.owner IS NOT NULL AND ingest_target.module = 'channel'
		   AND h.name = ingest_target.target) ch ON true
	  LEFT JOIN LATERAL (
		SELECT bo.owner_id = ingest_target.owner OR EXISTS (
			SELECT 1 FROM hookgate.bot_subscribers s
			 WHERE s.bot_id = bo.id AND s.user_id = ingest_target.owner) AS allowed
		  FROM hookgate.bots bo
		 WHERE ingest_target.owner IS NOT NULL
		   AND ingest_target.module IN ('bot_incoming', 'bot_message')
		   AND bo.name = ingest_target.target) b ON true
	  LEFT JOIN LATERAL (
		SELECT CASE WHEN x.sandbox_app_id = ingest_target.target THEN 'extension_sandbox'
			    ELSE 'extension_marketplace' END AS module,
		       coalesce(CASE WHEN x.sandbox_app_id = ingest_target.target
				     THEN x.sandbox_appkey_hash
				     ELSE x.marketplace_appkey_hash END
				= decode(ingest_target.appkey_hash, 'hex'), false) AS allowed
		  FROM hookgate.extensions x
		 WHERE ingest_target.owner IS NOT NULL AND ingest_target.module = 'extension'
		   AND (x.sandbox_app_id = ingest_target.target
			OR x.marketplace_app_id = ingest_target.target)) e ON true;
$$;

-- Same contract as in 002. A batch in which some call carries an Idempotency-Key takes the
-- statement of 002, unchanged (replays, and a key used twice in one batch, need its window
-- and self-joins). Any other batch takes the second statement: every call is "plain", so each
-- 204 gets a new message id (in the order of i) and no key is read or written.
CREATE OR REPLACE FUNCTION hookgate.ingest_batch(calls jsonb, budget_ms integer DEFAULT NULL)
RETURNS TABLE (i integer, http_status integer, code text, message_id bigint)
LANGUAGE plpgsql
-- The statements depend on the batch only through cs: a custom plan per call would re-plan
-- the big statement every time (about 1 ms, more than a whole small batch takes).
SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
DECLARE
	cs hookgate.ingest_call[];
	incomplete boolean;
	repeated boolean;
	keyed boolean;
BEGIN
	-- One statement reads and checks the batch: each statement has a fixed cost.
	SELECT array_agg(x),
	       bool_or(x.i IS NULL OR x.token_id IS NULL OR x.status IS NULL
		       OR x.module IS NULL OR x.target IS NULL OR x.at IS NULL),
	       count(DISTINCT x.i) <> count(*),
	       bool_or(x.status = 0 AND x.idem_key IS NOT NULL)
	  INTO cs, incomplete, repeated, keyed
	  FROM jsonb_populate_recordset(NULL::hookgate.ingest_call, calls) x;
	IF cs IS NULL THEN
		RETURN;
	END IF;
	IF incomplete OR repeated THEN
		RAISE EXCEPTION 'ingest_batch: every call needs a distinct i and i, token_id,'
			' status, module, target and at';
	END IF;

	-- FOR UPDATE, where a batch without keys takes FOR SHARE: two batches using one key of
	-- one token must not both miss the other's key and store two messages. The second waits
	-- for the first to end, then reads the key it committed (a fresh snapshot: the statement
	-- below starts after the lock is granted). Keyed batches are rare; this is their price.
	PERFORM 1 FROM hookgate.webhook_tokens t
	  WHERE t.id IN (SELECT DISTINCT x.token_id FROM unnest(cs) x)
	  ORDER BY t.id FOR UPDATE;

	IF keyed THEN
		RETURN QUERY
		WITH c AS MATERIALIZED (
			SELECT x.*, t.id IS NOT NULL AS known,
			       coalesce(t.status = 'active', false) AS active, t.user_id AS owner
			  FROM unnest(cs) x
			  LEFT JOIN hookgate.webhook_tokens t ON t.id = x.token_id AND t.deleted_at IS NULL
		),
		-- Target look-ups, for known tokens only. found NULL = no such target.
		r AS MATERIALIZED (
			SELECT c.*, tg.module_final, tg.allowed
			  FROM c
			  CROSS JOIN LATERAL hookgate.ingest_target(c.module, c.target, c.appkey_hash,
				CASE WHEN c.known THEN c.owner END) tg
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
			INSERT INTO hookgate.token_counts_pending (token_id, calls, last_at)
			SELECT f.token_id, count(*), max(f.at)
			  FROM f WHERE f.active AND f.final_status <> 401
			 GROUP BY f.token_id
		)
		SELECT f.i, f.final_status,
		       CASE WHEN NOT f.known THEN 'token_invalid'
			    WHEN NOT f.active THEN 'token_disabled'
			    WHEN f.status <> 0 THEN NULL
			    WHEN f.final_status = 403 THEN 'forbidden'
			    WHEN f.final_status = 404 THEN 'not_found' END,
		       f.final_message
		  FROM f ORDER BY f.i;
	ELSE
		RETURN QUERY
		WITH c AS MATERIALIZED (
			SELECT x.*, t.id IS NOT NULL AS known,
			       coalesce(t.status = 'active', false) AS active, t.user_id AS owner
			  FROM unnest(cs) x
			  LEFT JOIN hookgate.webhook_tokens t
			    ON t.id = x.token_id AND t.deleted_at IS NULL
		),
		r AS MATERIALIZED (
			SELECT c.*, tg.module_final,
			       CASE WHEN NOT c.known OR NOT c.active THEN 401
				    WHEN c.status <> 0 THEN c.status
				    WHEN tg.allowed IS NULL THEN 404
				    WHEN NOT tg.allowed THEN 403
				    ELSE 204 END AS st
			  FROM c
			  CROSS JOIN LATERAL hookgate.ingest_target(c.module, c.target, c.appkey_hash,
				CASE WHEN c.known THEN c.owner END) tg
		),
		-- Message ids in the order of i: nextval() is evaluated after the sort.
		f AS MATERIALIZED (
			SELECT r.*, CASE WHEN r.st = 204
					 THEN nextval('hookgate.messages_id_seq') END AS mid
			  FROM r ORDER BY r.i
		),
		msg AS (
			INSERT INTO hookgate.messages (id, at, module, target, user_id, token_id,
						       content_type, body)
			OVERRIDING SYSTEM VALUE
			SELECT f.mid, f.at, f.module_final, f.target, f.owner, f.token_id,
			       f.content_type, f.body
			  FROM f WHERE f.mid IS NOT NULL
		),
		usage_rows AS (
			INSERT INTO hookgate.token_usage (token_id, user_id, at, module, target,
				http_status, client_addr, user_agent, request_bytes, latency_us,
				message_id)
			SELECT f.token_id, f.owner, f.at, f.module_final, f.target, f.st,
			       f.client_addr, f.user_agent, f.request_bytes, f.latency_us, f.mid
			  FROM f WHERE f.known
		),
		counted AS (
			INSERT INTO hookgate.token_counts_pending (token_id, calls, last_at)
			SELECT f.token_id, count(*), max(f.at)
			  FROM f WHERE f.active AND f.st <> 401
			 GROUP BY f.token_id
		)
		SELECT f.i, f.st,
		       CASE WHEN NOT f.known THEN 'token_invalid'
			    WHEN NOT f.active THEN 'token_disabled'
			    WHEN f.status <> 0 THEN NULL
			    WHEN f.st = 403 THEN 'forbidden'
			    WHEN f.st = 404 THEN 'not_found' END,
		       f.mid
		  FROM f;
	END IF;

	IF budget_ms IS NOT NULL AND clock_timestamp()
			> statement_timestamp() + make_interval(secs => budget_ms / 1000.0) THEN
		RAISE EXCEPTION 'ingest batch past its deadline (% ms)', budget_ms
			USING ERRCODE = 'query_canceled';
	END IF;
END;
$$;

-- Counter updates name neither of these columns, so the trigger is not even considered for
-- them: a WHEN clause alone is compiled again by every statement that updates the table,
-- i.e. once per batch.
DROP TRIGGER webhook_tokens_notify_update ON hookgate.webhook_tokens;
CREATE TRIGGER webhook_tokens_notify_update
	AFTER UPDATE OF status, deleted_at, token_hash, user_id ON hookgate.webhook_tokens
	FOR EACH ROW
	WHEN (OLD.status IS DISTINCT FROM NEW.status
	      OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at
	      OR OLD.token_hash IS DISTINCT FROM NEW.token_hash
	      OR OLD.user_id IS DISTINCT FROM NEW.user_id)
	EXECUTE FUNCTION hookgate.webhook_tokens_notify();

-- Nothing reads messages by token (the usage history has its own index), and each index is
-- one more insert per message.
DROP INDEX hookgate.messages_by_token;
