-- SPDX-License-Identifier: Apache-2.0
-- 008_org.sql: owners and the organisation (docs/schema.md, "Owners and administrators"):
-- a user can be disabled (their tokens refused at once, their sessions ended, their sign-in
-- refused), enabled again, or deleted (tokens deleted, history kept); an administrator
-- (users.is_admin) oversees every user's tokens through the admin API; the audit log is paged
-- newest first. Applied by "hookgatectl migrate" like 001.

-- ---- users: state and role ------------------------------------------------------------------

-- account_disabled_at: set by "hookgatectl user disable" (and by "user delete"), NULL when the user may
-- act. account_deleted_at: set by "user delete"; the row stays, because the usage history, the audit
-- log, bots and extensions still name it, and its login stays taken. is_admin: the
-- organisation role of the admin API. Constant defaults: PostgreSQL only records the columns.
ALTER TABLE hookgate.users
	ADD COLUMN is_admin boolean NOT NULL DEFAULT false,
	ADD COLUMN account_disabled_at timestamptz,
	ADD COLUMN account_deleted_at timestamptz,
	ADD CONSTRAINT users_deleted_is_disabled
		CHECK (account_deleted_at IS NULL OR account_disabled_at IS NOT NULL);

-- ---- the owner's state on each token --------------------------------------------------------

-- owner_disabled is a copy of "users.account_disabled_at IS NOT NULL" on each of the owner's tokens,
-- kept by the two triggers below. Why a copy and not a join of users in the ingest batch:
-- * no window: a user's disable updates their token rows, and such an UPDATE waits for every
--   batch holding those rows FOR SHARE, while a batch that locks them afterwards sees it (the
--   rule that makes a token's own disable take effect at once, 002_ingest.sql);
-- * the token caches of the webhook workers hear of it through the NOTIFY trigger of
--   002_ingest.sql, as for a token's disable (its column list gains owner_disabled below);
-- * the batch statement reads one more column of a row it reads anyway, instead of one more
--   look-up per call.
-- A token's own status is left alone, so enabling the user gives back each token as it was.
ALTER TABLE hookgate.webhook_tokens
	ADD COLUMN owner_disabled boolean NOT NULL DEFAULT false;

-- After a change of users.account_disabled_at (hookgatectl, or SQL typed by hand): copies it to the
-- user's live tokens and, on disable, ends the user's admin sessions. The token rows are
-- locked in id order first, as batches and the counter fold lock them, so none of them
-- deadlocks with this.
CREATE FUNCTION hookgate.users_owner_state() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM 1 FROM hookgate.webhook_tokens t
	  WHERE t.user_id = NEW.id AND t.deleted_at IS NULL
	  ORDER BY t.id FOR NO KEY UPDATE;
	UPDATE hookgate.webhook_tokens t SET owner_disabled = (NEW.account_disabled_at IS NOT NULL)
	 WHERE t.user_id = NEW.id AND t.deleted_at IS NULL
	   AND t.owner_disabled IS DISTINCT FROM (NEW.account_disabled_at IS NOT NULL);
	IF NEW.account_disabled_at IS NOT NULL THEN
		DELETE FROM hookgate.admin_sessions WHERE user_id = NEW.id;
	END IF;
	RETURN NULL;
END;
$$;

CREATE TRIGGER users_owner_state
	AFTER UPDATE OF account_disabled_at ON hookgate.users
	FOR EACH ROW
	WHEN (OLD.account_disabled_at IS DISTINCT FROM NEW.account_disabled_at)
	EXECUTE FUNCTION hookgate.users_owner_state();

-- A token created for a disabled user (hookgatectl token create) starts with owner_disabled.
-- It runs after webhook_tokens_limit (triggers fire in name order), whose UPDATE of the
-- owner's users row waits for a disable in progress; this statement then sees it committed.
CREATE FUNCTION hookgate.webhook_tokens_owner_state() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	NEW.owner_disabled := EXISTS (SELECT 1 FROM hookgate.users u
				       WHERE u.id = NEW.user_id AND u.account_disabled_at IS NOT NULL);
	RETURN NEW;
END;
$$;

CREATE TRIGGER webhook_tokens_owner_state
	BEFORE INSERT ON hookgate.webhook_tokens
	FOR EACH ROW EXECUTE FUNCTION hookgate.webhook_tokens_owner_state();

-- The NOTIFY of token changes (002_ingest.sql) also for owner_disabled.
DROP TRIGGER webhook_tokens_notify_update ON hookgate.webhook_tokens;
CREATE TRIGGER webhook_tokens_notify_update
	AFTER UPDATE OF status, deleted_at, token_hash, user_id, owner_disabled
	ON hookgate.webhook_tokens
	FOR EACH ROW
	WHEN (OLD.status IS DISTINCT FROM NEW.status
	      OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at
	      OR OLD.token_hash IS DISTINCT FROM NEW.token_hash
	      OR OLD.user_id IS DISTINCT FROM NEW.user_id
	      OR OLD.owner_disabled IS DISTINCT FROM NEW.owner_disabled)
	EXECUTE FUNCTION hookgate.webhook_tokens_notify();

-- ---- audit log paging ------------------------------------------------------------------------

-- GET /admin/api/audit of an administrator pages the whole log newest first by (at, id);
-- a user's own page uses audit_log_by_user (001_schema.sql).
CREATE INDEX audit_log_page ON hookgate.audit_log (at, id);

-- ---- ingest: the owner's state ---------------------------------------------------------------

-- The two batch statements of 002_ingest.sql, changed in two places only: a call is "active"
-- when its token is active and its owner is not disabled (owner_off), and a call refused for
-- its owner answers the code 'owner_disabled', which the workers send as 401 token_disabled
-- with a message naming the owner. Everything else is as 002_ingest.sql explains.
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
		SELECT x.*, t.id IS NOT NULL AS known,
		       coalesce(t.status = 'active' AND NOT t.owner_disabled, false) AS active,
		       t.user_id AS owner, coalesce(t.owner_disabled, false) AS owner_off
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
		    WHEN NOT f.active AND f.owner_off THEN 'owner_disabled'
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

CREATE OR REPLACE FUNCTION hookgate.ingest_batch(
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
		       coalesce(t.status = 'active' AND NOT t.owner_disabled, false) AS active,
		       t.user_id AS owner, coalesce(t.owner_disabled, false) AS owner_off
		  FROM unnest(a_i, a_token_id, a_status, a_module, a_target, a_appkey_hash, a_at)
		       WITH ORDINALITY x (i, token_id, status, module, target, appkey_hash, at, k)
		  LEFT JOIN hookgate.webhook_tokens t
		    ON t.id = x.token_id AND t.deleted_at IS NULL
	),
	r AS MATERIALIZED (
		SELECT c.k, c.i, c.token_id, c.status, c.target, c.at, c.known, c.active, c.owner,
		       c.owner_off,
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
		    WHEN NOT f.active AND f.owner_off THEN 'owner_disabled'
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
