-- SPDX-License-Identifier: Apache-2.0
-- 005_admin_delivery.sql: delivery as its owners see and steer it (docs/api-admin.md,
-- "Delivery"; docs/schema.md). The changes to a destination that hookgatectl and the admin API
-- both make (set, disable, enable, rotate the secret), the destination object of the admin API,
-- and the admin API's statements: each checks that the bot or extension is the user's and
-- writes its audit row in the same transaction. Applied by "hookgatectl migrate" like 001.
--
-- Errors the admin API maps by SQLSTATE, never by text:
--   HG010  no such bot or extension of this user (404)
--   HG011  no destination there (404)
--   HG012  a request the rules refuse, e.g. a replay range (400)

-- ---- changes shared by hookgatectl and the admin API -----------------------------------------

-- A new row takes the secret; an existing one changes only its URL. dest_id is NULL when the
-- row was deleted between the two statements.
CREATE FUNCTION hookgate.destination_set(p_module text, p_target text, p_url text,
					 p_secret_enc bytea, OUT dest_id bigint,
					 OUT created boolean)
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO hookgate.destinations (module, target, url, secret_enc)
	VALUES (p_module, p_target, p_url, p_secret_enc)
	ON CONFLICT (module, target) DO NOTHING RETURNING id INTO dest_id;
	created := dest_id IS NOT NULL;
	IF NOT created THEN
		UPDATE hookgate.destinations SET url = p_url, updated_at = now()
		 WHERE module = p_module AND target = p_target RETURNING id INTO dest_id;
	END IF;
END;
$$;

-- Returns the reason ('manual'), NULL when there is no such row.
CREATE FUNCTION hookgate.destination_disable(p_id bigint) RETURNS text
LANGUAGE sql AS $$
	UPDATE hookgate.destinations SET enabled = false, disabled_reason = 'manual',
	       disabled_at = now(), updated_at = now()
	 WHERE id = p_id RETURNING disabled_reason;
$$;

-- Enabling clears the failing streak, and what waited for the destination becomes due at once
-- (retries included: whoever enables it believes the handler works again). Returns how many
-- deliveries are queued, NULL when there is no such row.
CREATE FUNCTION hookgate.destination_enable(p_id bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
BEGIN
	UPDATE hookgate.destinations SET enabled = true, disabled_reason = NULL,
	       disabled_at = NULL, failing_since = NULL, updated_at = now()
	 WHERE id = p_id;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	UPDATE hookgate.delivery_queue SET due_at = now()
	 WHERE destination_id = p_id AND due_at > now()
	   AND (lease_until IS NULL OR lease_until <= now());
	RETURN (SELECT count(*) FROM hookgate.delivery_queue WHERE destination_id = p_id);
END;
$$;

-- The new secret signs from now on; the old one keeps signing beside it for 24 hours, so that
-- handlers can switch without losing a delivery. Returns until when, NULL when no such row.
CREATE FUNCTION hookgate.destination_rotate(p_id bigint, p_secret_enc bytea)
RETURNS timestamptz
LANGUAGE sql AS $$
	UPDATE hookgate.destinations SET previous_secret_enc = secret_enc,
	       previous_until = now() + interval '24 hours', secret_enc = p_secret_enc,
	       updated_at = now()
	 WHERE id = p_id RETURNING previous_until;
$$;

-- ---- what the admin API shows -----------------------------------------------------------------

CREATE FUNCTION hookgate.admin_time(p_at timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"');
$$;

-- How the admin API names the destination of (module, target):
-- {"kind":"bot","name","for":"incoming"|"message"}, {"kind":"extension","name","env"},
-- {"kind":"channel","name"}.
CREATE FUNCTION hookgate.admin_destination_ref(p_module text, p_target text) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE
		WHEN p_module LIKE 'bot\_%' THEN jsonb_build_object('kind', 'bot', 'name', p_target,
			'for', CASE p_module WHEN 'bot_incoming' THEN 'incoming' ELSE 'message' END)
		WHEN p_module LIKE 'extension\_%' THEN jsonb_build_object('kind', 'extension',
			'name', p_target, 'env', substr(p_module, 11))
		ELSE jsonb_build_object('kind', 'channel', 'name', p_target) END;
$$;

-- The destination object: its state, what waits for it and its newest attempt; status 'none'
-- (url null, the rest null or 0) when no URL is set.
CREATE FUNCTION hookgate.admin_destination_view(p_module text, p_target text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT coalesce((
		SELECT jsonb_build_object('url', d.url, 'enabled', d.enabled,
			'status', CASE WHEN NOT d.enabled THEN 'disabled'
				       WHEN d.failing_since IS NOT NULL THEN 'failing'
				       ELSE 'healthy' END,
			'failing_since', hookgate.admin_time(d.failing_since),
			'disabled_reason', d.disabled_reason,
			'disabled_at', hookgate.admin_time(d.disabled_at),
			'queued', (SELECT count(*) FROM hookgate.delivery_queue q
				    WHERE q.destination_id = d.id),
			'previous_secret_until', hookgate.admin_time(
				CASE WHEN d.previous_secret_enc IS NOT NULL AND d.previous_until > now()
				     THEN d.previous_until END),
			'last_attempt', (SELECT jsonb_build_object('at', hookgate.admin_time(a.at),
					'outcome', a.outcome, 'http_status', a.http_status,
					'error', a.error)
				FROM hookgate.delivery_attempts a WHERE a.destination_id = d.id
				ORDER BY a.at DESC LIMIT 1))
		  FROM hookgate.destinations d WHERE d.module = p_module AND d.target = p_target),
		jsonb_build_object('url', NULL, 'enabled', NULL, 'status', 'none',
			'failing_since', NULL, 'disabled_reason', NULL, 'disabled_at', NULL,
			'queued', 0, 'previous_secret_until', NULL, 'last_attempt', NULL));
$$;

-- Every slot of every bot and extension the user owns, set or not, and those that need
-- attention (failing or disabled).
CREATE FUNCTION hookgate.admin_endpoints(p_user_id bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	WITH slots AS (
		SELECT 1 AS k, b.name, s.o, s.module FROM hookgate.bots b,
		       (VALUES (1, 'bot_incoming'), (2, 'bot_message')) s(o, module)
		 WHERE b.owner_id = p_user_id
		UNION ALL
		SELECT 2, x.name, s.o, s.module FROM hookgate.extensions x,
		       (VALUES (1, 'extension_sandbox'), (2, 'extension_marketplace')) s(o, module)
		 WHERE x.owner_id = p_user_id
	), items AS (
		SELECT k, name, o, hookgate.admin_destination_ref(module, name)
			|| hookgate.admin_destination_view(module, name) AS item FROM slots
	)
	SELECT jsonb_build_object(
		'endpoints', coalesce(jsonb_agg(item ORDER BY k, name, o), '[]'::jsonb),
		'attention', coalesce(jsonb_agg(item ORDER BY k, name, o)
			FILTER (WHERE item->>'status' IN ('failing', 'disabled')), '[]'::jsonb))
	  FROM items;
$$;

-- ---- the admin API's changes ---------------------------------------------------------------

CREATE FUNCTION hookgate.admin_audit(p_user_id bigint, p_addr inet, p_action text,
				     p_module text, p_target text, p_details jsonb) RETURNS void
LANGUAGE sql AS $$
	INSERT INTO hookgate.audit_log (user_id, actor, action, client_addr, details)
	VALUES (p_user_id, 'admin-api', p_action, p_addr,
		jsonb_build_object('module', p_module, 'target', p_target) || p_details);
$$;

-- The destination row of a bot or extension the user owns, locked; raises HG010 when the user
-- owns no such bot or extension, HG011 when need_row and there is no destination.
CREATE FUNCTION hookgate.admin_destination_row(p_user_id bigint, p_module text, p_target text,
					       p_need_row boolean) RETURNS hookgate.destinations
LANGUAGE plpgsql AS $$
DECLARE
	d hookgate.destinations;
	owned boolean := CASE
		WHEN p_module IN ('bot_incoming', 'bot_message') THEN EXISTS (
			SELECT 1 FROM hookgate.bots WHERE name = p_target AND owner_id = p_user_id)
		WHEN p_module IN ('extension_sandbox', 'extension_marketplace') THEN EXISTS (
			SELECT 1 FROM hookgate.extensions WHERE name = p_target AND owner_id = p_user_id)
		ELSE false END;
BEGIN
	IF NOT owned THEN
		RAISE EXCEPTION 'no such bot or extension' USING ERRCODE = 'HG010';
	END IF;
	SELECT * INTO d FROM hookgate.destinations WHERE module = p_module AND target = p_target
	   FOR UPDATE;
	IF NOT FOUND AND p_need_row THEN
		RAISE EXCEPTION 'no destination' USING ERRCODE = 'HG011';
	END IF;
	RETURN d;
END;
$$;

-- PUT of one slot: p_url_given with p_url NULL deletes the destination, with a URL sets it
-- (p_secret_enc is used when that creates it); p_enabled (NULL: unchanged) enables or disables
-- it. Returns the destination object and whether it was created now.
CREATE FUNCTION hookgate.admin_destination_put(p_user_id bigint, p_addr inet, p_module text,
					       p_target text, p_url_given boolean, p_url text,
					       p_enabled boolean, p_secret_enc bytea,
					       OUT view jsonb, OUT created boolean)
LANGUAGE plpgsql AS $$
DECLARE
	d hookgate.destinations := hookgate.admin_destination_row(p_user_id, p_module, p_target,
			(p_url_given AND p_url IS NULL) OR (NOT p_url_given AND p_enabled IS NOT NULL));
	dest_id bigint := d.id;
BEGIN
	created := false;
	IF p_url_given AND p_url IS NULL THEN
		DELETE FROM hookgate.destinations WHERE id = d.id;
		PERFORM hookgate.admin_audit(p_user_id, p_addr, 'destination.set', p_module,
			p_target, jsonb_build_object('url', NULL, 'deleted', true));
	ELSIF p_url_given THEN
		SELECT s.dest_id, s.created INTO dest_id, created
		  FROM hookgate.destination_set(p_module, p_target, p_url, p_secret_enc) s;
		PERFORM hookgate.admin_audit(p_user_id, p_addr, 'destination.set', p_module,
			p_target, jsonb_build_object('url', p_url, 'created', created));
	END IF;
	IF p_enabled AND d.enabled IS NOT TRUE AND NOT created THEN
		PERFORM hookgate.destination_enable(dest_id);
		PERFORM hookgate.admin_audit(p_user_id, p_addr, 'destination.enable', p_module,
			p_target, '{}');
	ELSIF p_enabled = false AND (created OR d.enabled) THEN
		PERFORM hookgate.destination_disable(dest_id);
		PERFORM hookgate.admin_audit(p_user_id, p_addr, 'destination.disable', p_module,
			p_target, jsonb_build_object('reason', 'manual'));
	END IF;
	view := hookgate.admin_destination_view(p_module, p_target);
END;
$$;

CREATE FUNCTION hookgate.admin_destination_rotate(p_user_id bigint, p_addr inet,
						  p_module text, p_target text,
						  p_secret_enc bytea) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	d hookgate.destinations := hookgate.admin_destination_row(p_user_id, p_module, p_target,
								   true);
	until text := hookgate.admin_time(hookgate.destination_rotate(d.id, p_secret_enc));
BEGIN
	PERFORM hookgate.admin_audit(p_user_id, p_addr, 'destination.rotate_secret', p_module,
		p_target, jsonb_build_object('previous_secret_until', until));
	RETURN until;
END;
$$;

-- What a test ping needs (the URL and the secrets signing now, sealed), audited.
CREATE FUNCTION hookgate.admin_destination_test(p_user_id bigint, p_addr inet, p_module text,
						p_target text)
RETURNS TABLE (url text, secret_enc bytea, previous_secret_enc bytea)
LANGUAGE plpgsql AS $$
DECLARE
	d hookgate.destinations := hookgate.admin_destination_row(p_user_id, p_module, p_target,
								   true);
BEGIN
	PERFORM hookgate.admin_audit(p_user_id, p_addr, 'destination.test', p_module, p_target,
		jsonb_build_object('url', d.url));
	RETURN QUERY SELECT d.url, d.secret_enc,
		CASE WHEN d.previous_until > now() THEN d.previous_secret_enc END;
END;
$$;

-- Replays [since, until), at most 14 days, through delivery_replay, whose audit row then gets
-- the user and the client address like every other row of the admin API.
CREATE FUNCTION hookgate.admin_destination_replay(p_user_id bigint, p_addr inet,
						  p_module text, p_target text,
						  p_since timestamptz, p_until timestamptz)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	d hookgate.destinations := hookgate.admin_destination_row(p_user_id, p_module, p_target,
								   true);
	queued bigint;
BEGIN
	IF NOT (p_since < p_until AND p_until - p_since <= interval '14 days') THEN
		RAISE EXCEPTION 'since must be before until, at most 14 days apart'
		      USING ERRCODE = 'HG012';
	END IF;
	queued := hookgate.delivery_replay(d.id, p_since, p_until, 'admin-api');
	UPDATE hookgate.audit_log SET user_id = p_user_id, client_addr = p_addr
	 WHERE xmin = pg_current_xact_id()::xid AND actor = 'admin-api'
	   AND action = 'delivery.replay' AND user_id IS NULL;
	RETURN queued;
END;
$$;

-- ---- attempts -------------------------------------------------------------------------------

CREATE FUNCTION hookgate.admin_attempt_json(a hookgate.delivery_attempts) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('at', to_char(a.at AT TIME ZONE 'UTC',
					       'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
		'message_id', a.message_id::text, 'attempt', a.attempt, 'outcome', a.outcome,
		'http_status', a.http_status, 'error', a.error,
		'latency_ms', round(a.latency_us / 1000.0, 3), 'response', a.response);
$$;

-- One page of a destination's attempts, newest first: p_limit rows before the cursor
-- "<at with microseconds>|<message id>|<attempt>" (NULL: from the newest), and the cursor of
-- the next page in "next" (NULL on the last page). No destination: an empty page.
CREATE FUNCTION hookgate.admin_destination_attempts(p_user_id bigint, p_module text,
						    p_target text, p_limit integer,
						    p_before text) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	d hookgate.destinations := hookgate.admin_destination_row(p_user_id, p_module, p_target,
								   false);
	c text[] := string_to_array(p_before, '|');
	result jsonb;
BEGIN
	IF p_before IS NOT NULL AND (array_length(c, 1) <> 3 OR c[2] !~ '^[0-9]{1,18}$'
				     OR c[3] !~ '^[0-9]{1,9}$') THEN
		RAISE EXCEPTION 'before is not a cursor of this API' USING ERRCODE = 'HG012';
	END IF;
	WITH page AS (
		SELECT a AS r, row_number() OVER (ORDER BY a.at DESC, a.message_id DESC,
						  a.attempt DESC) AS k
		  FROM hookgate.delivery_attempts a WHERE a.destination_id = d.id
		   AND (p_before IS NULL OR (a.at, a.message_id, a.attempt)
			< (c[1]::timestamptz, c[2]::bigint, c[3]::integer))
		 ORDER BY a.at DESC, a.message_id DESC, a.attempt DESC
		 LIMIT p_limit + 1)
	SELECT jsonb_build_object(
		'attempts', coalesce(jsonb_agg(hookgate.admin_attempt_json(r) ORDER BY k)
				     FILTER (WHERE k <= p_limit), '[]'::jsonb),
		'next', CASE WHEN count(*) > p_limit THEN max(CASE WHEN k = p_limit THEN
			to_char((r).at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
			|| '|' || (r).message_id || '|' || (r).attempt END) END)
	  INTO result FROM page;
	RETURN result;
END;
$$;

-- A message's attempts with every destination (null for one deleted since), when the message
-- came with one of the user's tokens (else HG010).
CREATE FUNCTION hookgate.admin_message_attempts(p_user_id bigint, p_token text,
						p_message_id bigint) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM hookgate.messages m
			 JOIN hookgate.webhook_tokens t ON t.id = m.token_id
			WHERE m.id = p_message_id AND t.public_id = p_token
			  AND t.user_id = p_user_id AND t.deleted_at IS NULL) THEN
		RAISE EXCEPTION 'no such message' USING ERRCODE = 'HG010';
	END IF;
	RETURN jsonb_build_object('attempts', coalesce((
		SELECT jsonb_agg(hookgate.admin_attempt_json(a) || jsonb_build_object(
				'destination', CASE WHEN d.id IS NOT NULL THEN
					hookgate.admin_destination_ref(d.module, d.target) END)
			ORDER BY a.at DESC, a.attempt DESC)
		  FROM hookgate.delivery_attempts a
		  LEFT JOIN hookgate.destinations d ON d.id = a.destination_id
		 WHERE a.message_id = p_message_id), '[]'::jsonb));
END;
$$;

-- The delivery state a usage row shows for its message: the first of hookgate.delivery_state's
-- rows (a message has one destination but after its route changed).
CREATE FUNCTION hookgate.admin_message_delivery(p_message_id bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('state', s.state, 'at', hookgate.admin_time(s.at),
		'attempts', s.attempts, 'next_attempt_at',
		CASE WHEN s.state = 'retrying' THEN hookgate.admin_time(s.next_at) END)
	  FROM hookgate.delivery_state(p_message_id) s LIMIT 1;
$$;
