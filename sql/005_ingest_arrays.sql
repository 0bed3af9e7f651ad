-- 005_ingest_arrays.sql: the worker sends its batch as one array per field, in binary, instead
-- of one JSON document. Measured in the webhook workers' benchmark (scripts/bench-ingest), the
-- JSON cost PostgreSQL about a tenth of its CPU (parsing it, then converting every field from
-- text), and cost the worker a tree of allocations per call to build it. A binary bigint[] is
-- copied, not parsed. The JSON entry point stays, for SQL callers and tests, as a wrapper.

-- The function of 004, unchanged, now reached only for batches in which some call carries an
-- Idempotency-Key (its statement for them needs 002's window and self-joins). The entry points
-- below hand such batches over as JSON: they are rare, and this keeps one copy of that logic.
ALTER FUNCTION hookgate.ingest_batch(jsonb, integer) RENAME TO ingest_keyed_batch;

-- Same contract as ingest_batch() in 002: element k of every array a_FIELD is one call's FIELD
-- of hookgate.ingest_call ("i" included), all arrays are equally long, and the result has one row
-- per call. A batch without keys takes the statement below; any other batch, the function of
-- 004 above.
CREATE FUNCTION hookgate.ingest_batch(
	a_i integer[], a_token_id bigint[], a_user_id bigint[], a_status integer[],
	a_module text[], a_target text[], a_appkey_hash text[], a_content_type text[],
	a_body text[], a_idem_key text[], a_client_addr inet[], a_user_agent text[],
	a_request_bytes integer[], a_latency_us integer[], a_at timestamptz[],
	budget_ms integer DEFAULT NULL)
RETURNS TABLE (i integer, http_status integer, code text, message_id bigint)
LANGUAGE plpgsql
-- As in 004: the statement depends on the batch only through cs.
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
	-- unnest() pads the shorter arrays with NULLs: a missing optional field would pass.
	IF ncalls <> ANY (ARRAY[coalesce(cardinality(a_token_id), 0),
		coalesce(cardinality(a_user_id), 0), coalesce(cardinality(a_status), 0),
		coalesce(cardinality(a_module), 0), coalesce(cardinality(a_target), 0),
		coalesce(cardinality(a_appkey_hash), 0), coalesce(cardinality(a_content_type), 0),
		coalesce(cardinality(a_body), 0), coalesce(cardinality(a_idem_key), 0),
		coalesce(cardinality(a_client_addr), 0), coalesce(cardinality(a_user_agent), 0),
		coalesce(cardinality(a_request_bytes), 0), coalesce(cardinality(a_latency_us), 0),
		coalesce(cardinality(a_at), 0)]) THEN
		RAISE EXCEPTION 'ingest_batch: every array needs one element per call';
	END IF;
	IF ncalls = 0 THEN
		RETURN;
	END IF;
	SELECT array_agg(ROW(x.*)::hookgate.ingest_call),
	       bool_or(x.i IS NULL OR x.token_id IS NULL OR x.status IS NULL
		       OR x.module IS NULL OR x.target IS NULL OR x.at IS NULL),
	       count(DISTINCT x.i) <> count(*),
	       bool_or(x.status = 0 AND x.idem_key IS NOT NULL)
	  INTO cs, incomplete, repeated, keyed
	  FROM unnest(a_i, a_token_id, a_user_id, a_status, a_module, a_target, a_appkey_hash,
		      a_content_type, a_body, a_idem_key, a_client_addr, a_user_agent,
		      a_request_bytes, a_latency_us, a_at)
	       x (i, token_id, user_id, status, module, target, appkey_hash, content_type, body,
		  idem_key, client_addr, user_agent, request_bytes, latency_us, at);
	IF incomplete OR repeated THEN
		RAISE EXCEPTION 'ingest_batch: every call needs a distinct i and i, token_id,'
			' status, module, target and at';
	END IF;

	IF keyed THEN
		RETURN QUERY SELECT * FROM hookgate.ingest_keyed_batch(to_jsonb(cs), budget_ms);
		RETURN;
	END IF;

	-- As in 002: the token rows are locked in id order (two workers never deadlock) before
	-- the statement that reads them, which then runs with a snapshot taken after the locks
	-- were granted. (Locking them inside that statement instead saves a statement, but its
	-- snapshot then predates the wait: measured, the re-checks of rows another batch updated
	-- meanwhile cost PostgreSQL more CPU per call than the statement saved.)
	PERFORM 1 FROM hookgate.webhook_tokens t
	  WHERE t.id IN (SELECT DISTINCT x.token_id FROM unnest(cs) x)
	  ORDER BY t.id FOR SHARE;

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

	IF budget_ms IS NOT NULL AND clock_timestamp()
			> statement_timestamp() + make_interval(secs => budget_ms / 1000.0) THEN
		RAISE EXCEPTION 'ingest batch past its deadline (% ms)', budget_ms
			USING ERRCODE = 'query_canceled';
	END IF;
END;
$$;

-- The JSON form of 002, for SQL callers: the same batch as arrays.
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
