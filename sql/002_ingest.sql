-- SPDX-License-Identifier: Apache-2.0
-- 002_ingest.sql: the database side of webhook ingest (docs/api-webhooks.md): the
-- group-commit functions the webhook workers call once per batch, the NOTIFY that invalidates
-- their token caches, the purge of expired idempotency keys and the fold of the token
-- counters. Applied by "hookgatectl migrate" like 001.
--
-- The entry points:
-- * ingest_batch(integer[], bigint[], ...): what the workers call. A batch travels as one
--   array per field, in binary: measured in the webhook workers' benchmark
--   (bench/bench-ingest), a JSON document cost PostgreSQL about a tenth of its CPU (parsing
--   it, then converting every field from text) and cost the worker a tree of allocations per
--   call to build it; a binary bigint[] is copied, not parsed.
-- * ingest_keyed_batch(jsonb): a batch in which some call carries an Idempotency-Key, handed
--   over by ingest_batch() as JSON. Replays, and a key used twice in one batch, need a window
--   and self-joins; such batches are rare, so that logic exists once, here.
-- * ingest_batch(jsonb): the JSON form, for SQL callers and tests; a wrapper of the arrays.
-- Every other batch (no call with a key, the common case) is decided by one lean statement in
-- which every call is "plain": each 204 gets a new message id (in the order of i) and no key
-- is read or written. Measured with one PostgreSQL backend running batches of 64 calls, that
-- statement, the notify trigger's column list (below) and messages' single index (001) cost
-- 29-37 microseconds of CPU per call, against 46 with the keyed statement for every batch, a
-- notify trigger without its column list and a second index on messages.

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

-- The contract of every entry point:
--
-- One transaction per batch (the worker calls it alone, in autocommit): either every call of
-- the batch is stored with its usage row and its token's count (a row of
-- token_counts_pending, see "token counters" in 001_schema.sql), or nothing is.
--
-- Step 1 locks the batch's token rows in id order (FOR SHARE; FOR UPDATE in
-- ingest_keyed_batch), so that two workers never deadlock and a disable or delete either
-- commits before (and is seen below) or waits until this batch has committed: no call is
-- accepted with a token whose disable committed first.
-- Step 2 is a single set-based statement. It runs with a snapshot taken after the locks were
-- granted (PL/pgSQL takes one per statement in READ COMMITTED), so it sees the tokens' final
-- state and the idempotency keys committed by the batches it waited for: keys belong to a
-- token, so two batches using the same key are serialized by that token's FOR UPDATE lock.
--
-- Outcome of a call (the returned code is NULL where the worker keeps its own, and for 204):
-- * token deleted or unknown: 401 token_invalid, no usage row, not counted;
-- * token disabled: 401 token_disabled, usage row, not counted;
-- * status decided by the worker: that status, usage row, counted unless it is a 401;
-- * otherwise the target and permission (ingest_target below): 404 not_found, 403 forbidden or
--   204 with a stored message; usage row; counted.
-- Idempotency keys apply to the last kind only (a 429 or 400 is not remembered, so a retry can
-- still succeed): a key seen within 24 h replays its stored answer and stores no message; the
-- same key twice in one batch: the lowest i decides, the others replay its answer.
--
-- budget_ms (optional): the batch fails (SQLSTATE 57014) when its work ends later than that
-- after PostgreSQL received the statement. The worker gives up waiting a little later and
-- answers 503; without this a batch that was stalled (server stopped, lock wait) would still
-- commit after its callers were told that nothing was stored.

-- Where a call goes and whether the token's owner may post there (docs/api-webhooks.md), for
-- every statement below that decides calls. module_final is the module stored (an extension
-- call becomes extension_sandbox or extension_marketplace by the app id that matched); allowed
-- is NULL when there is no such target, or when owner is NULL (unknown token: nothing is looked
-- up). Each environment's appkey opens only its own app id.
-- LANGUAGE sql, STABLE and not STRICT so that the planner inlines it: the look-ups stay index
-- scans inside the batch's plan.
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

-- The batches in which some call carries an Idempotency-Key, as JSON (an array of
-- hookgate.ingest_call objects); ingest_batch() hands them over. Its statement has the window
-- and self-joins the keys need; it serves a batch without keys too (every call "plain"), but
-- ingest_batch() keeps those for its own, leaner statement.
CREATE FUNCTION hookgate.ingest_keyed_batch(calls jsonb, budget_ms integer DEFAULT NULL)
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
BEGIN
	-- One statement reads and checks the batch: each statement has a fixed cost.
	SELECT array_agg(x),
	       bool_or(x.i IS NULL OR x.token_id IS NULL OR x.status IS NULL
		       OR x.module IS NULL OR x.target IS NULL OR x.at IS NULL),
	       count(DISTINCT x.i) <> count(*)
	  INTO cs, incomplete, repeated
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

	RETURN QUERY
	WITH c AS MATERIALIZED (
		SELECT x.*, t.id IS NOT NULL AS known,
		       coalesce(t.status = 'active', false) AS active, t.user_id AS owner
		  FROM unnest(cs) x
		  LEFT JOIN hookgate.webhook_tokens t ON t.id = x.token_id AND t.deleted_at IS NULL
	),
	-- Target look-ups, for known tokens only. allowed NULL = no such target.
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

	IF budget_ms IS NOT NULL AND clock_timestamp()
			> statement_timestamp() + make_interval(secs => budget_ms / 1000.0) THEN
		RAISE EXCEPTION 'ingest batch past its deadline (% ms)', budget_ms
			USING ERRCODE = 'query_canceled';
	END IF;
END;
$$;

-- What the workers call: element k of every array a_FIELD is one call's FIELD of
-- hookgate.ingest_call ("i" included), all arrays are equally long, and the result has one row
-- per call. A batch without keys takes the statement below; any other batch goes to
-- ingest_keyed_batch() above.
CREATE FUNCTION hookgate.ingest_batch(
	a_i integer[], a_token_id bigint[], a_user_id bigint[], a_status integer[],
	a_module text[], a_target text[], a_appkey_hash text[], a_content_type text[],
	a_body text[], a_idem_key text[], a_client_addr inet[], a_user_agent text[],
	a_request_bytes integer[], a_latency_us integer[], a_at timestamptz[],
	budget_ms integer DEFAULT NULL)
RETURNS TABLE (i integer, http_status integer, code text, message_id bigint)
LANGUAGE plpgsql
-- As in ingest_keyed_batch(): the statement depends on the batch only through the arrays.
SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
DECLARE
	ncalls integer := coalesce(cardinality(a_i), 0);
	cs hookgate.ingest_call[];
	incomplete boolean;
	repeated boolean;
	keyed boolean;
BEGIN
	-- unnest() pads the shorter arrays with NULLs: a missing optional field would pass. And
	-- the statement below reads fields by their position in the arrays, counted from 1.
	IF EXISTS (SELECT 1 FROM unnest(ARRAY[array_dims(a_i), array_dims(a_token_id),
		array_dims(a_user_id), array_dims(a_status), array_dims(a_module),
		array_dims(a_target), array_dims(a_appkey_hash), array_dims(a_content_type),
		array_dims(a_body), array_dims(a_idem_key), array_dims(a_client_addr),
		array_dims(a_user_agent), array_dims(a_request_bytes), array_dims(a_latency_us),
		array_dims(a_at)]) d
		WHERE d IS DISTINCT FROM CASE WHEN ncalls > 0 THEN '[1:' || ncalls || ']' END) THEN
		RAISE EXCEPTION 'ingest_batch: every array needs one element per call, from 1';
	END IF;
	IF ncalls = 0 THEN
		RETURN;
	END IF;
	SELECT bool_or(x.i IS NULL OR x.token_id IS NULL OR x.status IS NULL
		       OR x.module IS NULL OR x.target IS NULL OR x.at IS NULL),
	       count(DISTINCT x.i) <> count(*),
	       bool_or(x.status = 0 AND x.idem_key IS NOT NULL)
	  INTO incomplete, repeated, keyed
	  FROM unnest(a_i, a_token_id, a_status, a_module, a_target, a_idem_key, a_at)
	       x (i, token_id, status, module, target, idem_key, at);
	IF incomplete OR repeated THEN
		RAISE EXCEPTION 'ingest_batch: every call needs a distinct i and i, token_id,'
			' status, module, target and at';
	END IF;

	IF keyed THEN
		SELECT array_agg(ROW(x.*)::hookgate.ingest_call) INTO cs
		  FROM unnest(a_i, a_token_id, a_user_id, a_status, a_module, a_target,
			      a_appkey_hash, a_content_type, a_body, a_idem_key, a_client_addr,
			      a_user_agent, a_request_bytes, a_latency_us, a_at) x;
		RETURN QUERY SELECT * FROM hookgate.ingest_keyed_batch(to_jsonb(cs), budget_ms);
		RETURN;
	END IF;

	-- As in ingest_keyed_batch(): the token rows are locked in id order (two workers never
	-- deadlock) before the statement that reads them, which then runs with a snapshot taken
	-- after the locks were granted. (Locking them inside that statement instead saves a
	-- statement, but its snapshot then predates the wait: measured, the re-checks of rows
	-- another batch updated meanwhile cost PostgreSQL more CPU per call than the statement
	-- saved.)
	PERFORM 1 FROM hookgate.webhook_tokens t
	  WHERE t.id = ANY (a_token_id)
	  ORDER BY t.id FOR SHARE;

	-- The CTEs carry only what decides a call's outcome, and k, its position in the arrays:
	-- the inserts take the other fields from the arrays by k (PL/pgSQL keeps array arguments
	-- expanded, so a subscript costs no scan). Each CTE stores every row it passes, so the
	-- bodies and headers are copied once, by the inserts.
	RETURN QUERY
	WITH c AS MATERIALIZED (
		SELECT x.k, x.i, x.token_id, x.status, x.module, x.target, x.appkey_hash, x.at,
		       t.id IS NOT NULL AS known,
		       coalesce(t.status = 'active', false) AS active, t.user_id AS owner
		  FROM unnest(a_i, a_token_id, a_status, a_module, a_target, a_appkey_hash, a_at)
		       WITH ORDINALITY x (i, token_id, status, module, target, appkey_hash, at, k)
		  LEFT JOIN hookgate.webhook_tokens t
		    ON t.id = x.token_id AND t.deleted_at IS NULL
	),
	r AS MATERIALIZED (
		SELECT c.k, c.i, c.token_id, c.status, c.target, c.at, c.known, c.active, c.owner,
		       tg.module_final,
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
		       a_content_type[f.k], a_body[f.k]
		  FROM f WHERE f.mid IS NOT NULL
	),
	usage_rows AS (
		INSERT INTO hookgate.token_usage (token_id, user_id, at, module, target,
			http_status, client_addr, user_agent, request_bytes, latency_us,
			message_id)
		SELECT f.token_id, f.owner, f.at, f.module_final, f.target, f.st,
		       a_client_addr[f.k], a_user_agent[f.k], a_request_bytes[f.k],
		       a_latency_us[f.k], f.mid
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

	IF budget_ms IS NOT NULL AND clock_timestamp()
			> statement_timestamp() + make_interval(secs => budget_ms / 1000.0) THEN
		RAISE EXCEPTION 'ingest batch past its deadline (% ms)', budget_ms
			USING ERRCODE = 'query_canceled';
	END IF;
END;
$$;

-- The JSON form, for SQL callers and tests: the same batch as arrays.
CREATE FUNCTION hookgate.ingest_batch(calls jsonb, budget_ms integer DEFAULT NULL)
RETURNS TABLE (i integer, http_status integer, code text, message_id bigint)
LANGUAGE sql AS $$
	SELECT r.*
	  FROM (SELECT array_agg(x.i) AS i, array_agg(x.token_id) AS token_id,
		       array_agg(x.user_id) AS user_id, array_agg(x.status) AS status,
		       array_agg(x.module::text) AS module, array_agg(x.target) AS target,
		       array_agg(x.appkey_hash) AS appkey_hash,
		       array_agg(x.content_type) AS content_type, array_agg(x.body) AS body,
		       array_agg(x.idem_key) AS idem_key, array_agg(x.client_addr) AS client_addr,
		       array_agg(x.user_agent) AS user_agent,
		       array_agg(x.request_bytes) AS request_bytes,
		       array_agg(x.latency_us) AS latency_us, array_agg(x.at) AS at
		  FROM jsonb_populate_recordset(NULL::hookgate.ingest_call, calls) x) a
	 CROSS JOIN LATERAL hookgate.ingest_batch(a.i, a.token_id, a.user_id, a.status, a.module,
		a.target, a.appkey_hash, a.content_type, a.body, a.idem_key, a.client_addr,
		a.user_agent, a.request_bytes, a.latency_us, a.at, budget_ms) r;
$$;

-- ---- token counters ------------------------------------------------------------------------

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
	-- advisory locks (docs/schema.md); 1 is the fold.
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

-- ---- token cache invalidation --------------------------------------------------------------

-- Payload "<id>:<hex token_hash>": workers drop the entry of that id and any entry (negative
-- ones included) of that hash. A delete clears the hash, so the old one is sent; a changed
-- hash sends both.
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

-- The update trigger lists the columns it watches. The counter updates of fold_token_counts()
-- name none of them, so the trigger is not even considered for them: a WHEN clause alone is
-- compiled again by every statement that updates the table, i.e. once per fold. The WHEN
-- clause then skips updates that leave those columns as they were.
CREATE TRIGGER webhook_tokens_notify_update
	AFTER UPDATE OF status, deleted_at, token_hash, user_id ON hookgate.webhook_tokens
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
