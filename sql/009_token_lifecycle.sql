-- SPDX-License-Identifier: Apache-2.0
-- 009_token_lifecycle.sql: rotation with a grace period, expiry, and source and target limits
-- per webhook token (docs/api-admin.md, "Token lifecycle"; docs/schema.md; the design and its
-- bounds in docs/decisions/0017-token-limits.md). Applied by "hookgatectl migrate" like 001.
--
-- In this file, top to bottom: the new columns; the rules that keep them consistent; the
-- functions the admin API and hookgatectl share to rotate a token and to set its expiry and
-- limits (each audited in the same transaction); the notify trigger, which now also tells the
-- webhook workers about those columns; and ingest_batch() again, which re-checks them for
-- every call in the batch's own statement, as it re-checks a disable.

-- ---- columns -------------------------------------------------------------------------------

-- generation: 1 for a token's first secret, +1 per rotation. previous_hash: the look-up hash of
-- the secret before the last rotation, accepted until previous_until (both NULL when none).
-- Its own unique index, so that finding a token by the hash of either secret stays one index
-- probe per secret (token_hash's index, then this one). expires_at: NULL = never. networks and
-- targets: NULL = no limit; else a call must come from one of the networks and go to one of the
-- targets ("channel:NAME", "bot:NAME" for both bot endpoints, "extension:APP_ID").
-- All added without a volatile default, so PostgreSQL only records them (no table rewrite).
ALTER TABLE hookgate.webhook_tokens
	ADD COLUMN generation integer NOT NULL DEFAULT 1 CHECK (generation >= 1),
	ADD COLUMN previous_hash bytea UNIQUE CHECK (octet_length(previous_hash) = 32),
	ADD COLUMN previous_until timestamptz,
	ADD COLUMN expires_at timestamptz,
	ADD COLUMN networks cidr[] CHECK (cardinality(networks) BETWEEN 1 AND 16),
	ADD COLUMN targets text[] CHECK (cardinality(targets) BETWEEN 1 AND 16),
	ADD CONSTRAINT webhook_tokens_previous_pair
		CHECK ((previous_hash IS NULL) = (previous_until IS NULL)),
	ADD CONSTRAINT webhook_tokens_previous_only_live
		CHECK (deleted_at IS NULL OR previous_hash IS NULL);

-- Which of its token's secrets a call used: the token's generation at that time (NULL for rows
-- stored before this migration). smallint: a token rotated 32,767 times is not expected.
ALTER TABLE hookgate.token_usage ADD COLUMN generation smallint;

-- The worker sends each call's generation with it (the type of 002_ingest.sql's batches).
ALTER TYPE hookgate.ingest_call ADD ATTRIBUTE generation smallint;

-- ---- consistency ---------------------------------------------------------------------------

-- A delete clears the secret forms (001_schema.sql); the previous secret goes with them, here,
-- so that every delete (admin API, hookgatectl, SQL by hand) does it.
CREATE FUNCTION hookgate.webhook_tokens_forget_previous() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	NEW.previous_hash := NULL;
	NEW.previous_until := NULL;
	RETURN NEW;
END;
$$;

CREATE TRIGGER webhook_tokens_forget_previous
	BEFORE UPDATE OF deleted_at ON hookgate.webhook_tokens
	FOR EACH ROW WHEN (NEW.deleted_at IS NOT NULL)
	EXECUTE FUNCTION hookgate.webhook_tokens_forget_previous();

-- ---- rotation, expiry, limits ----------------------------------------------------------------

-- Rotates a live token: the new secret's hash and sealed copy replace the current ones, the
-- current hash becomes previous_hash until now() + grace (0 to 7 days; 0 = the old secret stops
-- at once: no previous hash is kept). The row stays (id, name, status, counters, history), so
-- the five-token trigger, which watches user_id and deleted_at only, does not run.
-- owner: the user the token must belong to (NULL: any, for hookgatectl). Returns the token's
-- public id, owner, new generation and previous_until; no row when there is no such token.
CREATE FUNCTION hookgate.rotate_token(p_public_id text, owner bigint, new_hash bytea,
	new_sealed bytea, grace interval, actor text, addr inet)
RETURNS TABLE (public_id text, user_id bigint, generation integer, previous_until timestamptz)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
	IF grace IS NULL OR grace < interval '0' OR grace > interval '7 days' THEN
		RAISE EXCEPTION 'grace must be between 0 and 7 days' USING ERRCODE = '22023';
	END IF;
	RETURN QUERY
	WITH t AS (
		UPDATE hookgate.webhook_tokens w
		   SET previous_hash = CASE WHEN grace > interval '0' THEN w.token_hash END,
		       previous_until = CASE WHEN grace > interval '0' THEN now() + grace END,
		       token_hash = new_hash, secret_enc = new_sealed,
		       generation = w.generation + 1
		 WHERE w.public_id = p_public_id AND w.deleted_at IS NULL
		   AND (owner IS NULL OR w.user_id = owner)
		RETURNING w.public_id, w.user_id, w.generation, w.previous_until),
	a AS (
		INSERT INTO hookgate.audit_log (user_id, actor, action, client_addr, details)
		SELECT t.user_id, actor, 'token.rotate', addr,
		       jsonb_build_object('token', t.public_id, 'generation', t.generation,
					  'grace_seconds', extract(epoch FROM grace)::bigint)
		  FROM t)
	SELECT * FROM t;
END;
$$;

-- The expiry a token gets: wanted (NULL = none) within max_lifetime (NULL = unlimited,
-- security.max_token_lifetime): with a maximum, no expiry means now() + max_lifetime. An
-- expiry in the past or beyond the maximum raises 22023, which the callers answer as a refusal.
CREATE FUNCTION hookgate.token_expiry(wanted timestamptz, max_lifetime interval)
RETURNS timestamptz
LANGUAGE plpgsql AS $$
BEGIN
	IF wanted IS NOT NULL AND wanted <= now() THEN
		RAISE EXCEPTION 'expires_at is in the past' USING ERRCODE = '22023';
	END IF;
	IF max_lifetime IS NULL THEN
		RETURN wanted;
	END IF;
	IF wanted > now() + max_lifetime THEN
		RAISE EXCEPTION 'expires_at is beyond security.max_token_lifetime'
			USING ERRCODE = '22023';
	END IF;
	RETURN coalesce(wanted, now() + max_lifetime);
END;
$$;

-- Sets what is given of a live token's expiry and limits; each argument's "set" flag says
-- whether to change it (to NULL, i.e. no expiry or no limit, when the value is NULL; an expiry
-- goes through token_expiry() with max_lifetime). One audit row per column that changed, with
-- the old and new value. Returns the token's public id, owner and these columns as JSON (as the
-- admin API shows them); no row when there is no such token.
CREATE FUNCTION hookgate.set_token_limits(p_public_id text, owner bigint,
	set_expires boolean, new_expires timestamptz,
	set_networks boolean, new_networks cidr[],
	set_targets boolean, new_targets text[], actor text, addr inet,
	max_lifetime interval DEFAULT NULL)
RETURNS TABLE (public_id text, user_id bigint, limits jsonb)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
	-- The form of a target is checked here rather than by a CHECK (which cannot look inside
	-- an array): the callers check it first and answer the error; this stops SQL by hand.
	IF set_targets AND EXISTS (SELECT 1 FROM unnest(new_targets) g WHERE g IS NULL
		OR g !~ '^((channel|bot):[a-z0-9_]{1,64}|extension:app_[0-9A-Za-z]{16})$') THEN
		RAISE EXCEPTION 'a target is channel:NAME, bot:NAME or extension:APP_ID'
			USING ERRCODE = '22023';
	END IF;
	RETURN QUERY
	WITH o AS (
		SELECT w.id, w.expires_at, w.networks, w.targets FROM hookgate.webhook_tokens w
		 WHERE w.public_id = p_public_id AND w.deleted_at IS NULL
		   AND (owner IS NULL OR w.user_id = owner)
		   FOR UPDATE),
	t AS (
		UPDATE hookgate.webhook_tokens w
		   SET expires_at = CASE WHEN set_expires
				 THEN hookgate.token_expiry(new_expires, max_lifetime)
				 ELSE w.expires_at END,
		       networks = CASE WHEN set_networks THEN new_networks ELSE w.networks END,
		       targets = CASE WHEN set_targets THEN new_targets ELSE w.targets END
		  FROM o WHERE w.id = o.id
		RETURNING w.public_id, w.user_id, w.expires_at, w.networks, w.targets,
			  o.expires_at AS old_expires, o.networks AS old_networks,
			  o.targets AS old_targets),
	a AS (
		INSERT INTO hookgate.audit_log (user_id, actor, action, client_addr, details)
		SELECT t.user_id, actor, x.action, addr,
		       jsonb_build_object('token', t.public_id, 'old', x.old, 'new', x.new)
		  FROM t, LATERAL (VALUES
			('token.expiry', to_jsonb(t.old_expires), to_jsonb(t.expires_at)),
			('token.networks', to_jsonb(t.old_networks::text[]), to_jsonb(t.networks::text[])),
			('token.targets', to_jsonb(t.old_targets), to_jsonb(t.targets))
		  ) AS x (action, old, new)
		 WHERE x.old IS DISTINCT FROM x.new)
	SELECT t.public_id, t.user_id,
	       jsonb_build_object('id', t.public_id,
		'expires_at', to_char(t.expires_at AT TIME ZONE 'UTC',
				      'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
		'networks', t.networks::text[], 'targets', t.targets)
	  FROM t;
END;
$$;

-- ---- token cache invalidation ----------------------------------------------------------------

-- As in 002_ingest.sql, payload "<id>:<hex hash>"; a rotation also sends the hash that stops
-- being the previous one, so that a worker drops the cache entries of every secret involved. The
-- update trigger now also watches what a worker checks from its cache: expiry, limits and the
-- previous secret's end.
CREATE OR REPLACE FUNCTION hookgate.webhook_tokens_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP <> 'INSERT' THEN
		PERFORM pg_notify('hookgate_tokens',
				  OLD.id || ':' || coalesce(encode(OLD.token_hash, 'hex'), ''));
		IF OLD.previous_hash IS NOT NULL
		   AND OLD.previous_hash IS DISTINCT FROM OLD.token_hash THEN
			PERFORM pg_notify('hookgate_tokens',
					  OLD.id || ':' || encode(OLD.previous_hash, 'hex'));
		END IF;
	END IF;
	IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.token_hash IS NOT NULL
				AND NEW.token_hash IS DISTINCT FROM OLD.token_hash) THEN
		PERFORM pg_notify('hookgate_tokens',
				  NEW.id || ':' || coalesce(encode(NEW.token_hash, 'hex'), ''));
	END IF;
	RETURN NULL;
END;
$$;

DROP TRIGGER webhook_tokens_notify_update ON hookgate.webhook_tokens;
CREATE TRIGGER webhook_tokens_notify_update
	AFTER UPDATE OF status, deleted_at, token_hash, user_id, owner_disabled, previous_hash,
		previous_until,
		expires_at, networks, targets ON hookgate.webhook_tokens
	FOR EACH ROW
	WHEN (OLD.status IS DISTINCT FROM NEW.status
	      OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at
	      OR OLD.token_hash IS DISTINCT FROM NEW.token_hash
	      OR OLD.user_id IS DISTINCT FROM NEW.user_id
	      OR OLD.owner_disabled IS DISTINCT FROM NEW.owner_disabled
	      OR OLD.previous_hash IS DISTINCT FROM NEW.previous_hash
	      OR OLD.previous_until IS DISTINCT FROM NEW.previous_until
	      OR OLD.expires_at IS DISTINCT FROM NEW.expires_at
	      OR OLD.networks IS DISTINCT FROM NEW.networks
	      OR OLD.targets IS DISTINCT FROM NEW.targets)
	EXECUTE FUNCTION hookgate.webhook_tokens_notify();

-- ---- the batch, re-checking the new columns ------------------------------------------------

-- 002_ingest.sql's batch functions again, with two changes, so that a change committed before
-- a batch takes its token locks holds for every call of that batch (as a disable does), whatever
-- the worker's cache said:
-- * each call carries the generation of the secret it used (its usage row records it); a call
--   is "known" only if that is the token's generation, or the one before while previous_until
--   is ahead of the call: else 401 token_invalid, no usage row, as for an unknown token;
-- * after the token's status: expires_at reached at the call's arrival -> 401 token_expired
--   (usage row, not counted); the call's address outside networks -> 403 forbidden_source, its
--   target outside targets -> 403 forbidden (usage row, counted, never stored as a message).
--   These apply to calls the worker decided too (rate limit, bad body): source and scope come
--   before the request's own checks. A worker's own refusal from its cache (a limit since
--   lifted) keeps its status, as its token_disabled does: a lifted limit takes effect once the
--   NOTIFY above has reached the worker.
-- A NULL generation (SQL callers of the JSON form) counts as the current one.


CREATE OR REPLACE FUNCTION hookgate.ingest_keyed_batch(calls jsonb, budget_ms integer DEFAULT NULL)
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
		SELECT x.*, t.id IS NOT NULL AND (coalesce(x.generation, t.generation) = t.generation
			OR (x.generation = t.generation - 1 AND t.previous_until > x.at)) AS known,
		       coalesce(t.status = 'active' AND NOT t.owner_disabled, false) AS active,
		       t.user_id AS owner, coalesce(t.owner_disabled, false) AS owner_off,
		       coalesce(t.expires_at <= x.at, false) AS expired,
		       coalesce(NOT (x.client_addr <<= ANY (t.networks)), t.networks IS NOT NULL)
			   AS off_source,
		       coalesce(NOT (CASE WHEN x.module IN ('bot_incoming', 'bot_message') THEN 'bot'
					   ELSE x.module::text END || ':' || x.target = ANY (t.targets)),
				t.targets IS NOT NULL) AS off_target
		  FROM unnest(cs) x
		  LEFT JOIN hookgate.webhook_tokens t ON t.id = x.token_id AND t.deleted_at IS NULL
	),
	-- Target look-ups, for known tokens only. allowed NULL = no such target.
	r AS MATERIALIZED (
		SELECT c.*, c.expired OR c.off_source OR c.off_target AS limited,
		       tg.module_final, tg.allowed
		  FROM c
		  CROSS JOIN LATERAL hookgate.ingest_target(c.module, c.target, c.appkey_hash,
			CASE WHEN c.known THEN c.owner END) tg
	),
	d AS MATERIALIZED (
		SELECT r.*,
		       CASE WHEN NOT r.known OR NOT r.active OR r.expired THEN 401
			    WHEN r.off_source OR r.off_target THEN 403
			    WHEN r.status <> 0 THEN r.status
			    WHEN r.allowed IS NULL THEN 404
			    WHEN NOT r.allowed THEN 403
			    ELSE 204 END AS st,
		       r.active AND NOT r.limited AND r.status = 0 AND r.idem_key IS NOT NULL AS keyed,
		       k.http_status AS prior_status, k.message_id AS prior_message,
		       min(r.i) FILTER (WHERE r.active AND NOT r.limited AND r.status = 0)
			   OVER (PARTITION BY r.token_id, r.idem_key) AS leader_i
		  FROM r
		  -- OFFSET 0 keeps this a look-up by primary key per call: as a plain join the
		  -- planner may prefer scanning every key of the last 24 h.
		  LEFT JOIN LATERAL (
			SELECT k.http_status, k.message_id FROM hookgate.idempotency_keys k
			 WHERE r.active AND NOT r.limited AND r.status = 0 AND k.token_id = r.token_id
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
			http_status, client_addr, user_agent, request_bytes, latency_us, message_id,
			generation)
		SELECT f.token_id, f.owner, f.at, f.module_final, f.target, f.final_status,
		       f.client_addr, f.user_agent, f.request_bytes, f.latency_us, f.final_message,
		       f.generation
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
		    WHEN NOT f.active AND f.owner_off THEN 'owner_disabled'
		    WHEN NOT f.active THEN 'token_disabled'
		    WHEN f.expired THEN 'token_expired'
		    WHEN f.off_source THEN 'forbidden_source'
		    WHEN f.off_target THEN 'forbidden'
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

-- What the workers call (as 002_ingest.sql's, with a_generation after a_at).
CREATE FUNCTION hookgate.ingest_batch(
	a_i integer[], a_token_id bigint[], a_user_id bigint[], a_status integer[],
	a_module text[], a_target text[], a_appkey_hash text[], a_content_type text[],
	a_body text[], a_idem_key text[], a_client_addr inet[], a_user_agent text[],
	a_request_bytes integer[], a_latency_us integer[], a_at timestamptz[],
	a_generation smallint[], budget_ms integer DEFAULT NULL)
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
		array_dims(a_at), array_dims(a_generation)]) d
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
			      a_user_agent, a_request_bytes, a_latency_us, a_at, a_generation) x;
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
		       t.id IS NOT NULL AND (coalesce(x.generation, t.generation) = t.generation
			OR (x.generation = t.generation - 1 AND t.previous_until > x.at)) AS known,
		       coalesce(t.status = 'active' AND NOT t.owner_disabled, false) AS active,
		       t.user_id AS owner, coalesce(t.owner_disabled, false) AS owner_off,
		       coalesce(t.expires_at <= x.at, false) AS expired,
		       coalesce(NOT (x.client_addr <<= ANY (t.networks)), t.networks IS NOT NULL)
			   AS off_source,
		       coalesce(NOT (CASE WHEN x.module IN ('bot_incoming', 'bot_message') THEN 'bot'
					   ELSE x.module::text END || ':' || x.target = ANY (t.targets)),
				t.targets IS NOT NULL) AS off_target
		  FROM unnest(a_i, a_token_id, a_status, a_module, a_target, a_appkey_hash, a_at,
			      a_client_addr, a_generation)
		       WITH ORDINALITY x (i, token_id, status, module, target, appkey_hash, at,
					  client_addr, generation, k)
		  LEFT JOIN hookgate.webhook_tokens t
		    ON t.id = x.token_id AND t.deleted_at IS NULL
	),
	r AS MATERIALIZED (
		SELECT c.k, c.i, c.token_id, c.status, c.target, c.at, c.known, c.active, c.owner,
		       c.owner_off,
		       c.expired, c.off_source, c.off_target, tg.module_final,
		       CASE WHEN NOT c.known OR NOT c.active OR c.expired THEN 401
			    WHEN c.off_source OR c.off_target THEN 403
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
			message_id, generation)
		SELECT f.token_id, f.owner, f.at, f.module_final, f.target, f.st,
		       a_client_addr[f.k], a_user_agent[f.k], a_request_bytes[f.k],
		       a_latency_us[f.k], f.mid, a_generation[f.k]
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
		    WHEN NOT f.active AND f.owner_off THEN 'owner_disabled'
		    WHEN NOT f.active THEN 'token_disabled'
		    WHEN f.expired THEN 'token_expired'
		    WHEN f.off_source THEN 'forbidden_source'
		    WHEN f.off_target THEN 'forbidden'
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

-- 007_nodes.sql's entry point again, with a_generation: the node's name reaches the usage rows
-- through a setting local to the batch's transaction.
CREATE FUNCTION hookgate.ingest_batch(
	a_i integer[], a_token_id bigint[], a_user_id bigint[], a_status integer[],
	a_module text[], a_target text[], a_appkey_hash text[], a_content_type text[],
	a_body text[], a_idem_key text[], a_client_addr inet[], a_user_agent text[],
	a_request_bytes integer[], a_latency_us integer[], a_at timestamptz[],
	a_generation smallint[], budget_ms integer, node text)
RETURNS TABLE (i integer, http_status integer, code text, message_id bigint)
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM set_config('hookgate.node', coalesce(node, ''), true);
	RETURN QUERY SELECT * FROM hookgate.ingest_batch(a_i, a_token_id, a_user_id, a_status,
		a_module, a_target, a_appkey_hash, a_content_type, a_body, a_idem_key,
		a_client_addr, a_user_agent, a_request_bytes, a_latency_us, a_at, a_generation,
		budget_ms);
END;
$$;

-- The entry points of 002_ingest.sql and 007_nodes.sql stay, for hookgated binaries of before
-- this migration (several nodes upgraded one at a time): their calls count as made with the
-- token's current secret.
CREATE OR REPLACE FUNCTION hookgate.ingest_batch(
	a_i integer[], a_token_id bigint[], a_user_id bigint[], a_status integer[],
	a_module text[], a_target text[], a_appkey_hash text[], a_content_type text[],
	a_body text[], a_idem_key text[], a_client_addr inet[], a_user_agent text[],
	a_request_bytes integer[], a_latency_us integer[], a_at timestamptz[],
	budget_ms integer DEFAULT NULL)
RETURNS TABLE (i integer, http_status integer, code text, message_id bigint)
LANGUAGE sql AS $$
	SELECT * FROM hookgate.ingest_batch(a_i, a_token_id, a_user_id, a_status, a_module,
		a_target, a_appkey_hash, a_content_type, a_body, a_idem_key, a_client_addr,
		a_user_agent, a_request_bytes, a_latency_us, a_at,
		array_fill(NULL::smallint, ARRAY[cardinality(a_i)]), budget_ms);
$$;

CREATE OR REPLACE FUNCTION hookgate.ingest_batch(
	a_i integer[], a_token_id bigint[], a_user_id bigint[], a_status integer[],
	a_module text[], a_target text[], a_appkey_hash text[], a_content_type text[],
	a_body text[], a_idem_key text[], a_client_addr inet[], a_user_agent text[],
	a_request_bytes integer[], a_latency_us integer[], a_at timestamptz[],
	budget_ms integer, node text)
RETURNS TABLE (i integer, http_status integer, code text, message_id bigint)
LANGUAGE sql AS $$
	SELECT * FROM hookgate.ingest_batch(a_i, a_token_id, a_user_id, a_status, a_module,
		a_target, a_appkey_hash, a_content_type, a_body, a_idem_key, a_client_addr,
		a_user_agent, a_request_bytes, a_latency_us, a_at,
		array_fill(NULL::smallint, ARRAY[cardinality(a_i)]), budget_ms, node);
$$;

-- The JSON form, for SQL callers and tests (a call's "generation" may be left out).
CREATE OR REPLACE FUNCTION hookgate.ingest_batch(calls jsonb, budget_ms integer DEFAULT NULL)
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
		       array_agg(x.latency_us) AS latency_us, array_agg(x.at) AS at,
		       array_agg(x.generation) AS generation
		  FROM jsonb_populate_recordset(NULL::hookgate.ingest_call, calls) x) a
	 CROSS JOIN LATERAL hookgate.ingest_batch(a.i, a.token_id, a.user_id, a.status, a.module,
		a.target, a.appkey_hash, a.content_type, a.body, a.idem_key, a.client_addr,
		a.user_agent, a.request_bytes, a.latency_us, a.at, a.generation, budget_ms) r;
$$;