-- SPDX-License-Identifier: Apache-2.0
-- 004_delivery.sql: the database side of delivery (docs/schema.md, "Delivery"): the feed that
-- hands stored messages out in commit order, the destinations messages are posted to, the
-- queue of deliveries still to try, the history of every attempt, and the functions the
-- delivery workers and hookgatectl call. Applied by "hookgatectl migrate" like 001.
--
-- Nothing here is on the ingest path but one column default: ingest_batch() (002) inserts
-- messages as before, and messages.xid is filled by its default. A batch never touches
-- another delivery table, so a delivery backlog costs ingest nothing.
-- Every object is schema-qualified so the file does not depend on search_path.

-- ---- the feed: messages in commit order ----------------------------------------------------

-- The id of the transaction that stored the message. Ids are handed out when a batch runs and
-- batches commit in another order, so "every id above the last one read" would skip a message
-- whose batch commits after a later id's batch. The feed instead cuts the messages into
-- windows between two snapshots (below), which follow commit order. Messages stored before
-- this migration keep xid NULL and are never in the feed.
ALTER TABLE hookgate.messages ADD COLUMN xid xid8;
ALTER TABLE hookgate.messages ALTER COLUMN xid SET DEFAULT pg_current_xact_id();
-- The feed's only index: a window is a range of xids plus the few listed in a snapshot.
CREATE INDEX messages_feed ON hookgate.messages (xid);

-- A tick is a snapshot of which transactions had ended. Window W(t), the messages of tick t,
-- are those whose transaction is visible in tick t's snapshot and not in the snapshot of the
-- tick before: each committed message is in exactly one window, the first taken after its
-- commit, however late that commit comes (the PgQ design).
CREATE TABLE hookgate.feed_ticks (
	tick bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at   timestamptz NOT NULL DEFAULT now(),
	snap pg_snapshot NOT NULL
);

-- A consumer's position: windows up to and including tick are consumed, and in the window
-- after it the messages up to message last_id, in the window's order (feed_window_after).
CREATE TABLE hookgate.feed_consumers (
	name       text PRIMARY KEY CHECK (name ~ '^[a-z0-9_.:-]{1,64}$'),
	tick       bigint NOT NULL,
	last_id    bigint NOT NULL DEFAULT 0,
	created_at timestamptz NOT NULL DEFAULT now(),
	acked_at   timestamptz
);

-- The messages of the window between snapshots prev and snap. Two index ranges, both on
-- messages_feed: the xids that started after prev was taken, and the few that were running
-- when it was (its xip list). A scan from prev's xmin would be the same set, but an old
-- transaction left open (pg_dump) would make every read walk all messages since it began.
-- Only committed rows are read, so an aborted transaction's xid brings nothing.
CREATE FUNCTION hookgate.feed_window(prev pg_snapshot, snap pg_snapshot)
RETURNS SETOF hookgate.messages
LANGUAGE sql STABLE AS $$
	SELECT m.* FROM hookgate.messages m
	 WHERE m.xid >= pg_snapshot_xmax(prev) AND m.xid < pg_snapshot_xmax(snap)
	   AND pg_visible_in_snapshot(m.xid, snap)
	UNION ALL
	SELECT m.* FROM hookgate.messages m
	 WHERE m.xid IN (SELECT x FROM pg_snapshot_xip(prev) x)
	   AND pg_visible_in_snapshot(m.xid, snap);
$$;

-- Is message a after message b in a window's order: by transaction id (xid), then id? Id 0 is
-- a window's start, before every message. NULL when either message is gone: callers then
-- read again rather than skip.
CREATE FUNCTION hookgate.feed_later(a bigint, b bigint) RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN b = 0 THEN a <> 0 WHEN a = 0 THEN false
		    ELSE (SELECT (ma.xid, ma.id) > (mb.xid, mb.id)
			    FROM hookgate.messages ma, hookgate.messages mb
			   WHERE ma.id = a AND mb.id = b) END;
$$;

-- The xid of the max-th message of a window's range part [lo, hi) after message after_id
-- (whose xid is ax), in messages_feed's order. The planner, trusting statistics that lag
-- behind the newest xids, may estimate the range at a few rows and fetch and sort all of it;
-- the settings keep it walking the index in order, stopping after max rows.
CREATE FUNCTION hookgate.feed_range_end(lo xid8, hi xid8, snap pg_snapshot, ax xid8,
					after_id bigint, max integer) RETURNS xid8
LANGUAGE sql STABLE
SET enable_seqscan = off SET enable_bitmapscan = off SET enable_sort = off AS $$
	SELECT max(s.xid) FROM (
		SELECT m.xid FROM hookgate.messages m
		 WHERE m.xid >= lo AND m.xid < hi AND pg_visible_in_snapshot(m.xid, snap)
		   AND (ax IS NULL OR (m.xid, m.id) > (ax, after_id))
		 ORDER BY m.xid LIMIT max) s;
$$;

-- Up to max messages of feed_window(prev, snap) after message after_id (0: from the start), in
-- the window's order: by xid, then id. That order, not id alone, lets a read start where the
-- last one stopped: messages_feed is ordered by xid, so a read of max messages from the
-- middle of a window of millions (a backlog stored while no delivery worker ran) touches
-- about max rows instead of sorting the whole window by id each time. The xip part comes
-- first: its xids are all below prev's xmax, where the range part starts. A message after_id
-- that is gone (retention) restarts the window: read twice, never skipped.
CREATE FUNCTION hookgate.feed_window_after(prev pg_snapshot, snap pg_snapshot,
					   after_id bigint, max integer)
RETURNS SETOF hookgate.messages
LANGUAGE plpgsql STABLE
-- A scan of every message is never the plan here, whatever the statistics say.
SET enable_seqscan = off AS $$
DECLARE
	ax xid8;
	last_x xid8;
	n integer := 0;
BEGIN
	IF after_id <> 0 THEN
		SELECT m.xid INTO ax FROM hookgate.messages m WHERE m.id = after_id;
	END IF;
	IF ax IS NULL OR ax < pg_snapshot_xmax(prev) THEN
		RETURN QUERY
		SELECT m.* FROM hookgate.messages m
		 WHERE m.xid = ANY (ARRAY(SELECT pg_snapshot_xip(prev)))
		   AND pg_visible_in_snapshot(m.xid, snap)
		   AND (ax IS NULL OR (m.xid, m.id) > (ax, after_id))
		 ORDER BY m.xid, m.id LIMIT max;
		GET DIAGNOSTICS n = ROW_COUNT;
		IF n = max THEN
			RETURN;
		END IF;
	END IF;
	-- The range part in two steps, so that no step sorts more than max rows and one batch:
	-- the xid of the last message wanted, then the messages up to that xid, sorted.
	last_x := hookgate.feed_range_end(greatest(pg_snapshot_xmax(prev), ax),
					  pg_snapshot_xmax(snap), snap, ax, after_id, max - n);
	RETURN QUERY
	SELECT m.* FROM hookgate.messages m
	 WHERE m.xid >= greatest(pg_snapshot_xmax(prev), ax) AND m.xid <= last_x
	   AND pg_visible_in_snapshot(m.xid, snap)
	   AND (ax IS NULL OR (m.xid, m.id) > (ax, after_id))
	 ORDER BY m.xid, m.id LIMIT max - n;
END;
$$;

-- Takes a tick when some committed message is outside the newest one (or no tick exists);
-- returns the newest tick. Advisory lock (1751869300, 3) ("hkgt", see fold_token_counts in
-- 002): ticks are taken one at a time, each snapshot in its own statement after the lock, so
-- that a later tick always has a later snapshot. In REPEATABLE READ the snapshot would be the
-- transaction's, possibly older than the last tick's: refused.
CREATE FUNCTION hookgate.feed_tick() RETURNS bigint
LANGUAGE plpgsql
-- As in feed_window_after: with statistics behind the newest xids, "is any message past the
-- last tick" could become a scan of every message.
SET enable_seqscan = off AS $$
DECLARE
	last hookgate.feed_ticks;
	made bigint;
BEGIN
	IF current_setting('transaction_isolation') <> 'read committed' THEN
		RAISE EXCEPTION 'the feed needs READ COMMITTED, not %',
			current_setting('transaction_isolation');
	END IF;
	PERFORM pg_advisory_xact_lock(1751869300, 3);
	SELECT * INTO last FROM hookgate.feed_ticks ORDER BY tick DESC LIMIT 1;
	IF FOUND AND NOT EXISTS (
		SELECT 1 FROM hookgate.messages m WHERE m.xid >= pg_snapshot_xmax(last.snap))
	   AND NOT EXISTS (
		SELECT 1 FROM hookgate.messages m
		 WHERE m.xid IN (SELECT x FROM pg_snapshot_xip(last.snap) x)) THEN
		RETURN last.tick;
	END IF;
	INSERT INTO hookgate.feed_ticks (snap) VALUES (pg_current_snapshot())
	RETURNING tick INTO made;
	RETURN made;
END;
$$;

-- Up to max messages after consumer's position, window by window, in each window's order
-- (feed_window_after).
-- position is '<window tick>:<id>', what feed_ack takes. The position does not move: a
-- consumer acks what it has handled, and reads the rest again after a crash. An unknown
-- consumer is registered at the newest tick: it gets the messages committed after that.
-- after, a position this consumer was handed before, reads on from there instead (when it is
-- past the acknowledged one): a consumer that acks seldom still reads each message once.
CREATE FUNCTION hookgate.feed_read(consumer text, max integer, after text DEFAULT NULL)
RETURNS TABLE ("position" text, id bigint, at timestamptz, module text, target text,
	       user_id bigint, token_id bigint, content_type text, body text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	newest bigint := hookgate.feed_tick();
	c hookgate.feed_consumers;
	prev pg_snapshot;
	w hookgate.feed_ticks;
	after_id bigint;
	parts text[];
	before_w bigint;
	left_n integer := max;
	n integer;
BEGIN
	IF max IS NULL OR max < 1 THEN
		RAISE EXCEPTION 'feed_read: max must be 1 or more';
	END IF;
	INSERT INTO hookgate.feed_consumers (name, tick) VALUES (consumer, newest)
	ON CONFLICT (name) DO NOTHING;
	SELECT * INTO STRICT c FROM hookgate.feed_consumers f WHERE f.name = consumer;
	IF after IS NOT NULL THEN
		parts := regexp_match(after, '^([0-9]{1,18}):([0-9]{1,18})$');
		IF parts IS NULL THEN
			RAISE EXCEPTION 'feed_read: malformed position "%"', after;
		END IF;
		-- The position '<W>:<id>' is the acknowledged state (tick before W, id).
		SELECT t.tick INTO before_w FROM hookgate.feed_ticks t
		 WHERE t.tick < parts[1]::bigint ORDER BY t.tick DESC LIMIT 1;
		IF before_w > c.tick OR (before_w = c.tick
					 AND hookgate.feed_later(parts[2]::bigint, c.last_id)) THEN
			c.tick := before_w;
			c.last_id := parts[2]::bigint;
		END IF;
	END IF;
	SELECT t.snap INTO STRICT prev FROM hookgate.feed_ticks t WHERE t.tick = c.tick;
	after_id := c.last_id;
	FOR w IN SELECT * FROM hookgate.feed_ticks t WHERE t.tick > c.tick ORDER BY t.tick LOOP
		RETURN QUERY
		SELECT w.tick || ':' || m.id, m.id, m.at, m.module, m.target, m.user_id,
		       m.token_id, m.content_type, m.body
		  FROM hookgate.feed_window_after(prev, w.snap, after_id, left_n) m;
		GET DIAGNOSTICS n = ROW_COUNT;
		left_n := left_n - n;
		EXIT WHEN left_n = 0;
		prev := w.snap;
		after_id := 0;
	END LOOP;
END;
$$;

-- Moves consumer's position forward to position (from feed_read). An older position is
-- ignored, so acks may arrive in any order; a malformed one, a tick that does not exist, or
-- an unknown consumer raises. A window acked to its last message is recorded as consumed
-- whole, which lets feed_prune drop its tick.
CREATE FUNCTION hookgate.feed_ack(consumer text, "position" text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	parts text[] := regexp_match("position", '^([0-9]{1,18}):([0-9]{1,18})$');
	c hookgate.feed_consumers;
	w bigint;
	acked_id bigint;
	before_w bigint;
	snap_w pg_snapshot;
	snap_before pg_snapshot;
BEGIN
	IF parts IS NULL THEN
		RAISE EXCEPTION 'feed_ack: malformed position "%"', "position";
	END IF;
	w := parts[1]::bigint;
	acked_id := parts[2]::bigint;
	-- FOR UPDATE: two acks of one consumer take turns, the second sees the first's move.
	SELECT * INTO c FROM hookgate.feed_consumers f WHERE f.name = consumer FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'feed_ack: unknown consumer "%"', consumer;
	END IF;
	IF w <= c.tick THEN
		RETURN;
	END IF;
	SELECT t.snap INTO snap_w FROM hookgate.feed_ticks t WHERE t.tick = w;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'feed_ack: position "%" names no tick', "position";
	END IF;
	SELECT t.tick, t.snap INTO before_w, snap_before
	  FROM hookgate.feed_ticks t WHERE t.tick < w ORDER BY t.tick DESC LIMIT 1;
	IF before_w = c.tick AND NOT coalesce(hookgate.feed_later(acked_id, c.last_id), false) THEN
		RETURN;
	END IF;
	IF EXISTS (SELECT 1 FROM hookgate.feed_window_after(snap_before, snap_w, acked_id, 1)) THEN
		UPDATE hookgate.feed_consumers f
		   SET tick = before_w, last_id = acked_id, acked_at = now()
		 WHERE f.name = consumer;
	ELSE
		UPDATE hookgate.feed_consumers f SET tick = w, last_id = 0, acked_at = now()
		 WHERE f.name = consumer;
	END IF;
END;
$$;

-- Forgets a consumer (true if it existed); its position no longer holds ticks back.
CREATE FUNCTION hookgate.feed_unsubscribe(consumer text) RETURNS boolean
LANGUAGE sql AS $$
	WITH gone AS (DELETE FROM hookgate.feed_consumers WHERE name = consumer RETURNING 1)
	SELECT EXISTS (SELECT 1 FROM gone);
$$;

-- Deletes the ticks no consumer needs any more: older than every consumer's tick (a
-- consumer's own tick is the start of its next window). The newest tick is always kept (the
-- next tick's window starts there), and so are ticks younger than a minute, so that a
-- consumer registering meanwhile finds its tick. Returns how many it deleted.
CREATE FUNCTION hookgate.feed_prune() RETURNS bigint
LANGUAGE sql AS $$
	WITH gone AS (
		DELETE FROM hookgate.feed_ticks t
		 WHERE t.at < now() - interval '1 minute'
		   AND t.tick < (SELECT max(tick) FROM hookgate.feed_ticks)
		   AND t.tick < coalesce((SELECT min(c.tick) FROM hookgate.feed_consumers c),
					 (SELECT max(tick) FROM hookgate.feed_ticks))
		RETURNING 1)
	SELECT count(*) FROM gone;
$$;

-- The delivery workers' consumer exists from this migration on, at a tick taken now: every
-- message stored after it is delivered, even one stored while no delivery worker runs
-- (delivery.workers = 0, or hookgated stopped). Messages stored before this migration have
-- no xid and are not in the feed.
INSERT INTO hookgate.feed_consumers (name, tick) VALUES ('delivery', hookgate.feed_tick());

-- ---- destinations ----------------------------------------------------------------------------

-- Where the messages of a module's target are posted. target is the channel, bot or extension
-- name, or '*' for the one destination of every channel without its own. Written by
-- hookgatectl (audited there); the delivery workers update the health columns and disable a
-- destination that answers 410 or fails for delivery.disable_after. The signing secrets are
-- sealed with the key file (aad "whsec:<module>:<target>"); the previous one keeps signing
-- until previous_until after a rotation.
CREATE TABLE hookgate.destinations (
	id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	module              text NOT NULL CHECK (module IN ('channel', 'bot_incoming', 'bot_message',
	                                                   'extension_sandbox',
	                                                   'extension_marketplace')),
	target              text NOT NULL
		CHECK (target ~ '^[a-z0-9_]{1,64}$' OR (module = 'channel' AND target = '*')),
	url                 text NOT NULL CHECK (url ~ '^https?://'),
	enabled             boolean NOT NULL DEFAULT true,
	disabled_reason     text CHECK (disabled_reason IN ('gone', 'failing', 'manual')),
	disabled_at         timestamptz,
	secret_enc          bytea NOT NULL,
	previous_secret_enc bytea,
	previous_until      timestamptz,
	-- The first failure of the current failing streak; NULL while healthy.
	failing_since       timestamptz,
	created_at          timestamptz NOT NULL DEFAULT now(),
	updated_at          timestamptz NOT NULL DEFAULT now(),
	UNIQUE (module, target)
);

-- The delivery workers cache the destinations and reload the row named by the payload.
CREATE FUNCTION hookgate.destinations_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('hookgate_destinations',
			  CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END::text);
	RETURN NULL;
END;
$$;

CREATE TRIGGER destinations_notify
	AFTER INSERT OR UPDATE OR DELETE ON hookgate.destinations
	FOR EACH ROW EXECUTE FUNCTION hookgate.destinations_notify();

-- The destination of a message, or NULL (stored only): the exact (module, target) row; a bot
-- message without its own goes to the bot's incoming destination; a channel without its own to
-- the all-channels one ('*'). An extension message's target is the app id: its destination is
-- the extension's name. One row, always. A set-returning SQL function, so that the planner
-- inlines it into a query (LEFT JOIN LATERAL ... ON true) as three index look-ups: a scalar
-- SQL function with sub-selects is never inlined, and its call costs tens of microseconds.
CREATE FUNCTION hookgate.delivery_routes(module text, target text)
RETURNS TABLE (destination_id bigint)
LANGUAGE sql STABLE AS $$
	SELECT coalesce(
		(SELECT d.id FROM hookgate.destinations d
		  WHERE d.module = delivery_routes.module
		    AND d.target = CASE WHEN delivery_routes.module LIKE 'extension\_%'
			THEN (SELECT x.name FROM hookgate.extensions x
			       WHERE x.sandbox_app_id = delivery_routes.target
				  OR x.marketplace_app_id = delivery_routes.target)
			ELSE delivery_routes.target END),
		(SELECT d.id FROM hookgate.destinations d
		  WHERE delivery_routes.module = 'bot_message'
		    AND d.module = 'bot_incoming' AND d.target = delivery_routes.target),
		(SELECT d.id FROM hookgate.destinations d
		  WHERE delivery_routes.module = 'channel'
		    AND d.module = 'channel' AND d.target = '*'));
$$;

-- delivery_routes as a value, for a single message.
CREATE FUNCTION hookgate.delivery_route(module text, target text) RETURNS bigint
LANGUAGE sql STABLE AS $$
	SELECT r.destination_id FROM hookgate.delivery_routes(module, target) r;
$$;

-- The body posted to the all-channels destination: {"channel":"<name>","message":<body>},
-- where <body> is the stored JSON as it is when the content type is JSON, and a JSON string
-- of the body otherwise. Ingest only stores valid JSON under a JSON content type; a row
-- written by hand that is not goes as a string rather than stopping the feed.
CREATE FUNCTION hookgate.delivery_channel_body(channel text, content_type text, body text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	message text := to_json(body)::text;
BEGIN
	IF lower(content_type) LIKE 'application/json%' THEN
		BEGIN
			message := body::json::text;
		EXCEPTION WHEN invalid_text_representation THEN
			NULL;
		END;
	END IF;
	RETURN '{"channel":' || to_json(channel)::text || ',"message":' || message || '}';
END;
$$;

-- What to post for a message whose destination's target is dest_target: the stored content
-- type and body, or the wrapped form for the all-channels destination ('*').
CREATE FUNCTION hookgate.delivery_payload(dest_target text, channel text, stored_type text,
					  stored_body text, OUT content_type text, OUT body text)
LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN $1 = '*' THEN 'application/json' ELSE $3 END,
	       CASE WHEN $1 = '*' THEN hookgate.delivery_channel_body($2, $3, $4) ELSE $4 END;
$$;

-- ---- the queue: deliveries that are not first attempts from the feed ---------------------------

-- First attempts come from the feed and never touch this table while they succeed. A row is
-- written for a retry, a delivery the worker parks (destination disabled or paused, its
-- in-memory queue full) and a replay; it is deleted when the delivery ends. Workers lease
-- rows (lease_owner, lease_until) for the time of an attempt and hold no transaction meanwhile.
CREATE TABLE hookgate.delivery_queue (
	message_id     bigint NOT NULL,
	destination_id bigint NOT NULL REFERENCES hookgate.destinations ON DELETE CASCADE,
	-- Attempts made so far (0: never tried: parked or replayed).
	attempts       integer NOT NULL,
	-- When the message first became due; the retry schedule ends relative to it.
	first_at       timestamptz NOT NULL,
	due_at         timestamptz NOT NULL,
	lease_owner    text,
	lease_until    timestamptz,
	PRIMARY KEY (message_id, destination_id)
);
CREATE INDEX delivery_queue_due ON hookgate.delivery_queue (due_at);

-- ---- attempts: the history ---------------------------------------------------------------------

-- One row per attempt, insert-only, partitioned by month of "at" like token_usage and kept as
-- long (database.usage_retention). No foreign keys: the history outlives its destination and
-- its message, and partitions are dropped by age.
CREATE TABLE hookgate.delivery_attempts (
	at             timestamptz NOT NULL,
	message_id     bigint NOT NULL,
	destination_id bigint NOT NULL,
	-- 1 = the first attempt.
	attempt        integer NOT NULL,
	outcome        text NOT NULL CHECK (outcome IN ('delivered', 'retry', 'failed', 'gone',
	                                                'refused', 'disabled')),
	http_status    integer,
	-- 'timeout', 'connect', 'refused_address', 'tls', 'redirect', 'too_large', ... or curl's text.
	error          text,
	latency_us     integer,
	-- The first 1 KiB of the answer, valid UTF-8.
	response       text,
	-- For 'retry': when the next attempt is due.
	next_at        timestamptz
) PARTITION BY RANGE (at);
CREATE INDEX delivery_attempts_by_destination ON hookgate.delivery_attempts (destination_id, at DESC);
CREATE INDEX delivery_attempts_by_message ON hookgate.delivery_attempts (message_id, destination_id);
CREATE TABLE hookgate.delivery_attempts_default PARTITION OF hookgate.delivery_attempts DEFAULT;

-- ---- monthly partitions of any table partitioned like token_usage --------------------------------

-- The rules of ensure_usage_partitions, create_usage_partition and drop_usage_partitions (001),
-- for any parent table hookgate.<parent> with partitions <parent>_yYYYYmMM (UTC months) and a
-- DEFAULT partition <parent>_default. The usage functions keep their names and become
-- wrappers of these (below), so that one implementation serves both tables.
CREATE FUNCTION hookgate.ensure_monthly_partitions(parent text, months_ahead integer)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	first_month timestamptz := date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
	lo timestamptz;
	hi timestamptz;
	part text;
	created integer := 0;
BEGIN
	IF months_ahead IS NULL OR months_ahead < 0 THEN
		RAISE EXCEPTION 'months_ahead must be 0 or more';
	END IF;
	FOR i IN 0 .. months_ahead LOOP
		lo := ((first_month AT TIME ZONE 'UTC') + make_interval(months => i)) AT TIME ZONE 'UTC';
		hi := ((lo AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC';
		part := parent || '_' || to_char(lo AT TIME ZONE 'UTC', '"y"YYYY"m"MM');
		CONTINUE WHEN to_regclass(format('hookgate.%I', part)) IS NOT NULL;
		PERFORM hookgate.create_monthly_partition(parent, part, lo, hi);
		created := created + 1;
	END LOOP;
	RETURN created;
END;
$$;

-- One partition [lo, hi): rows of that range already in the DEFAULT partition are moved into
-- it first, in the same transaction (PostgreSQL refuses the partition otherwise).
CREATE FUNCTION hookgate.create_monthly_partition(parent text, part text, lo timestamptz,
						  hi timestamptz)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	dflt text := parent || '_default';
	stray boolean;
BEGIN
	EXECUTE format('SELECT EXISTS (SELECT 1 FROM hookgate.%I WHERE at >= $1 AND at < $2)',
		       dflt) INTO stray USING lo, hi;
	IF NOT stray THEN
		EXECUTE format('CREATE TABLE hookgate.%I PARTITION OF hookgate.%I'
			       ' FOR VALUES FROM (%L) TO (%L)', part, parent, lo, hi);
		RETURN;
	END IF;
	EXECUTE format('CREATE TABLE hookgate.%I (LIKE hookgate.%I INCLUDING DEFAULTS'
		       ' INCLUDING CONSTRAINTS)', part, parent);
	EXECUTE format('WITH moved AS (DELETE FROM hookgate.%I'
		       ' WHERE at >= $1 AND at < $2 RETURNING *)'
		       ' INSERT INTO hookgate.%I SELECT * FROM moved', dflt, part) USING lo, hi;
	EXECUTE format('ALTER TABLE hookgate.%I ATTACH PARTITION hookgate.%I'
		       ' FOR VALUES FROM (%L) TO (%L)', parent, part, lo, hi);
END;
$$;

-- Drops the monthly partitions whose whole month ended more than older_than ago and deletes
-- rows that old from the DEFAULT partition; returns how many partitions it dropped.
CREATE FUNCTION hookgate.drop_monthly_partitions(parent text, older_than interval)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	cutoff timestamptz := now() - older_than;
	rec record;
	dropped integer := 0;
BEGIN
	IF older_than IS NULL OR older_than < interval '0' THEN
		RAISE EXCEPTION 'older_than must be a positive interval';
	END IF;
	FOR rec IN
		SELECT c.relname,
		       (make_timestamp(m[1]::int, m[2]::int, 1, 0, 0, 0) + interval '1 month')
		           AT TIME ZONE 'UTC' AS month_end
		  FROM pg_catalog.pg_inherits i
		  JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid,
		       regexp_match(c.relname, '^' || parent || '_y(\d{4})m(\d{2})$') AS m
		 WHERE i.inhparent = format('hookgate.%I', parent)::regclass AND m IS NOT NULL
		 ORDER BY c.relname
	LOOP
		CONTINUE WHEN rec.month_end > cutoff;
		EXECUTE format('DROP TABLE hookgate.%I', rec.relname);
		dropped := dropped + 1;
	END LOOP;
	EXECUTE format('DELETE FROM hookgate.%I WHERE at < $1', parent || '_default')
		USING cutoff;
	RETURN dropped;
END;
$$;

CREATE OR REPLACE FUNCTION hookgate.ensure_usage_partitions(months_ahead integer)
RETURNS integer
LANGUAGE sql AS $$
	SELECT hookgate.ensure_monthly_partitions('token_usage', months_ahead);
$$;

CREATE OR REPLACE FUNCTION hookgate.create_usage_partition(part text, lo timestamptz,
							   hi timestamptz)
RETURNS void
LANGUAGE sql AS $$
	SELECT hookgate.create_monthly_partition('token_usage', part, lo, hi);
$$;

CREATE OR REPLACE FUNCTION hookgate.drop_usage_partitions(older_than interval) RETURNS integer
LANGUAGE sql AS $$
	SELECT hookgate.drop_monthly_partitions('token_usage', older_than);
$$;

-- What the housekeeping leader calls for the attempts, beside the usage ones.
CREATE FUNCTION hookgate.ensure_delivery_partitions(months_ahead integer) RETURNS integer
LANGUAGE sql AS $$
	SELECT hookgate.ensure_monthly_partitions('delivery_attempts', months_ahead);
$$;

CREATE FUNCTION hookgate.drop_delivery_partitions(older_than interval) RETURNS integer
LANGUAGE sql AS $$
	SELECT hookgate.drop_monthly_partitions('delivery_attempts', older_than);
$$;

SELECT hookgate.ensure_delivery_partitions(3);

-- ---- what the delivery workers call ----------------------------------------------------------------

-- The next first attempts: feed_read('delivery', max, after) with each message's destination, token
-- public id and the body to post. A message without a destination comes back with
-- destination_id NULL and no body, so that the worker can ack past it. The caller holds the
-- feed lease (the advisory lock (1751869300, 4) on its session); owner only names it.
-- The take's one write is the tick, committed without waiting for the WAL flush: a tick lost
-- in a crash loses nothing (the next one covers its messages, delivered again at worst), and
-- any later synchronous commit, such as the outcomes', flushes it first.
CREATE FUNCTION hookgate.delivery_take(owner text, max integer, after text DEFAULT NULL)
RETURNS TABLE ("position" text, message_id bigint, destination_id bigint, module text,
	       target text, token_public_id text, content_type text, body text,
	       at timestamptz)
-- plpgsql, not sql: its query's plan is kept for the session instead of made at every take.
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
	PERFORM set_config('synchronous_commit', 'off', true);
	RETURN QUERY
	SELECT f.position, f.id, d.id, f.module, f.target, t.public_id, p.content_type, p.body,
	       f.at
	  FROM hookgate.feed_read('delivery', max, after) WITH ORDINALITY f
	  LEFT JOIN LATERAL hookgate.delivery_routes(f.module, f.target) r ON true
	  LEFT JOIN hookgate.destinations d ON d.id = r.destination_id
	  LEFT JOIN hookgate.webhook_tokens t ON t.id = f.token_id AND d.id IS NOT NULL
	  LEFT JOIN LATERAL hookgate.delivery_payload(d.target, f.target, f.content_type, f.body) p
	    ON d.id IS NOT NULL
	 ORDER BY f.ordinality;
END;
$$;

-- Leases up to max due queue rows of enabled destinations, oldest due first, for lease_ms,
-- and returns what to post. FOR UPDATE SKIP LOCKED: workers claiming at once get different
-- rows instead of waiting for each other; a row whose claim committed meanwhile is re-checked
-- and skipped, as its lease is then running. One statement: no transaction outlives it.
CREATE FUNCTION hookgate.delivery_claim(owner text, max integer, lease_ms integer)
RETURNS TABLE (message_id bigint, destination_id bigint, attempts integer,
	       first_at timestamptz, module text, target text, token_public_id text,
	       content_type text, body text)
LANGUAGE sql AS $$
	WITH due AS (
		SELECT q.message_id, q.destination_id
		  FROM hookgate.delivery_queue q
		  JOIN hookgate.destinations d ON d.id = q.destination_id AND d.enabled
		 WHERE q.due_at <= now() AND (q.lease_until IS NULL OR q.lease_until < now())
		 ORDER BY q.due_at
		 LIMIT max
		   FOR UPDATE OF q SKIP LOCKED
	), leased AS (
		UPDATE hookgate.delivery_queue q
		   SET lease_owner = owner,
		       lease_until = now() + make_interval(secs => lease_ms / 1000.0)
		  FROM due
		 WHERE q.message_id = due.message_id AND q.destination_id = due.destination_id
		RETURNING q.*
	)
	SELECT l.message_id, l.destination_id, l.attempts, l.first_at, m.module, m.target,
	       t.public_id, p.content_type, p.body
	  FROM leased l
	  JOIN hookgate.messages m ON m.id = l.message_id
	  JOIN hookgate.destinations d ON d.id = l.destination_id
	  LEFT JOIN hookgate.webhook_tokens t ON t.id = m.token_id
	  CROSS JOIN LATERAL hookgate.delivery_payload(d.target, m.target, m.content_type, m.body) p
	 ORDER BY l.due_at;
$$;

-- One outcome of delivery_record's batch, as the worker sends it.
CREATE TYPE hookgate.delivery_result AS (
	message_id     bigint,
	destination_id bigint,
	attempt        integer,
	outcome        text,
	http_status    integer,
	error          text,
	latency_us     integer,
	response       text,
	next_at        timestamptz,
	first_at       timestamptz,
	at             timestamptz
);

-- Records a batch of outcomes, a JSON array of hookgate.delivery_result objects, one per
-- attempt made (at defaults to now, first_at to at). Every object becomes an attempt row. The
-- queue follows the latest attempt of each delivery in the batch (a batch re-sent after an
-- outage may hold several): 'delivered', 'failed', 'gone' and 'refused' end it (its row is
-- deleted); 'retry' keeps it due at next_at, lease cleared; 'disabled' (the destination was
-- disabled meanwhile) keeps it due now with its attempts unchanged. Then the destinations'
-- health (delivery_record_health). Returns how many attempts it recorded.
CREATE FUNCTION hookgate.delivery_record(results jsonb, disable_after interval)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	rs hookgate.delivery_result[];
	bad boolean;
BEGIN
	SELECT array_agg(ROW(r.message_id, r.destination_id, r.attempt, r.outcome, r.http_status,
			     r.error, r.latency_us, r.response, r.next_at,
			     coalesce(r.first_at, r.at, now()), coalesce(r.at, now())
			 )::hookgate.delivery_result),
	       bool_or(r.message_id IS NULL OR r.destination_id IS NULL OR r.attempt IS NULL
		       OR r.outcome IS NULL OR (r.outcome = 'retry' AND r.next_at IS NULL))
	  INTO rs, bad
	  FROM jsonb_populate_recordset(NULL::hookgate.delivery_result, results) r;
	IF rs IS NULL THEN
		RETURN 0;
	END IF;
	IF bad THEN
		RAISE EXCEPTION 'delivery_record: every result needs message_id, destination_id,'
			' attempt and outcome, and a retry its next_at';
	END IF;

	INSERT INTO hookgate.delivery_attempts (at, message_id, destination_id, attempt, outcome,
		http_status, error, latency_us, response, next_at)
	SELECT r.at, r.message_id, r.destination_id, r.attempt, r.outcome, r.http_status,
	       r.error, r.latency_us, r.response, r.next_at
	  FROM unnest(rs) r;

	PERFORM hookgate.delivery_record_queue(rs);
	PERFORM hookgate.delivery_record_health(rs, disable_after);
	RETURN cardinality(rs);
END;
$$;

-- delivery_record's queue step (see there). One statement per action, each on the latest
-- result of each delivery, so that no row is changed twice by one statement.
CREATE FUNCTION hookgate.delivery_record_queue(rs hookgate.delivery_result[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	latest hookgate.delivery_result[];
BEGIN
	SELECT array_agg(ROW(l.*)::hookgate.delivery_result) INTO latest
	  FROM (SELECT DISTINCT ON (r.message_id, r.destination_id) r.*
		  FROM unnest(rs) r
		 ORDER BY r.message_id, r.destination_id, r.attempt DESC, r.at DESC) l;

	DELETE FROM hookgate.delivery_queue q
	 USING unnest(latest) r
	 WHERE q.message_id = r.message_id AND q.destination_id = r.destination_id
	   AND r.outcome IN ('delivered', 'failed', 'gone', 'refused');

	INSERT INTO hookgate.delivery_queue AS q (message_id, destination_id, attempts, first_at,
						 due_at)
	SELECT r.message_id, r.destination_id, r.attempt, r.first_at, r.next_at
	  FROM unnest(latest) r
	 WHERE r.outcome = 'retry'
	ON CONFLICT (message_id, destination_id) DO UPDATE
	   SET attempts = EXCLUDED.attempts, due_at = EXCLUDED.due_at,
	       lease_owner = NULL, lease_until = NULL;

	-- A first attempt found its destination disabled: no attempt was made (0 so far).
	INSERT INTO hookgate.delivery_queue AS q (message_id, destination_id, attempts, first_at,
						 due_at)
	SELECT r.message_id, r.destination_id, greatest(r.attempt - 1, 0), r.first_at, now()
	  FROM unnest(latest) r
	 WHERE r.outcome = 'disabled'
	ON CONFLICT (message_id, destination_id) DO UPDATE
	   SET due_at = now(), lease_owner = NULL, lease_until = NULL;
END;
$$;

-- delivery_record's health step. A destination's latest outcome in the batch decides: a
-- delivery ends a failing streak, a failure starts one (failing_since, kept through the
-- streak). Each UPDATE names only the rows it changes, so a delivery to a healthy
-- destination writes nothing (and wakes no worker through the notify trigger). 'disabled'
-- says nothing about the destination's health. A 410 disables the destination ('gone'), so
-- does a streak older than disable_after ('failing'); both are audited.
CREATE FUNCTION hookgate.delivery_record_health(rs hookgate.delivery_result[],
						disable_after interval) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	-- Per destination, in two passes over the results (not a sub-select per result): its
	-- last outcome, and its first failure after its last delivery.
	WITH r AS (
		SELECT * FROM unnest(rs) x WHERE x.outcome <> 'disabled'
	), per AS (
		SELECT r.destination_id,
		       (array_agg(r.outcome ORDER BY r.at DESC, r.attempt DESC))[1] AS outcome,
		       coalesce(max(r.at) FILTER (WHERE r.outcome = 'delivered'), '-infinity')
			       AS last_ok
		  FROM r GROUP BY r.destination_id
	), last AS (
		SELECT per.destination_id, per.outcome,
		       min(r.at) FILTER (WHERE r.at > per.last_ok) AS first_failure
		  FROM per JOIN r ON r.destination_id = per.destination_id
		 GROUP BY per.destination_id, per.outcome
	)
	UPDATE hookgate.destinations d
	   SET failing_since = CASE WHEN last.outcome = 'delivered' THEN NULL
				    ELSE last.first_failure END
	  FROM last
	 WHERE d.id = last.destination_id
	   AND CASE WHEN last.outcome = 'delivered' THEN d.failing_since IS NOT NULL
		    ELSE d.failing_since IS NULL END;

	PERFORM hookgate.delivery_disable(d.id, 'gone')
	   FROM hookgate.destinations d
	  WHERE d.enabled AND d.id IN (SELECT r.destination_id FROM unnest(rs) r
				       WHERE r.outcome = 'gone');
	PERFORM hookgate.delivery_disable(d.id, 'failing')
	   FROM hookgate.destinations d
	  WHERE d.enabled AND d.failing_since < now() - disable_after
	    AND d.id IN (SELECT r.destination_id FROM unnest(rs) r);
END;
$$;

-- Disables a destination for reason ('gone' or 'failing') and writes the audit row, in the
-- caller's transaction. False if it was disabled already (two workers may both see a 410).
CREATE FUNCTION hookgate.delivery_disable(destination_id bigint, reason text) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
	d hookgate.destinations;
BEGIN
	UPDATE hookgate.destinations x
	   SET enabled = false, disabled_reason = reason, disabled_at = now(), updated_at = now()
	 WHERE x.id = delivery_disable.destination_id AND x.enabled
	RETURNING x.* INTO d;
	IF NOT FOUND THEN
		RETURN false;
	END IF;
	INSERT INTO hookgate.audit_log (actor, action, details)
	VALUES ('hookgated delivery', 'destination.disable',
		jsonb_build_object('destination_id', d.id, 'module', d.module, 'target', d.target,
				   'url', d.url, 'reason', reason,
				   'failing_since', d.failing_since));
	RETURN true;
END;
$$;

-- First attempts the worker will not try now (destination disabled or paused, its in-memory
-- queue full): queued with attempts 0, a JSON array of {"message_id","destination_id",
-- "due_at","first_at"} (both default to now). A delivery already queued is left as it is.
-- Returns how many rows it added.
CREATE FUNCTION hookgate.delivery_park(rows jsonb) RETURNS integer
LANGUAGE sql AS $$
	WITH added AS (
		INSERT INTO hookgate.delivery_queue (message_id, destination_id, attempts, first_at,
						     due_at)
		SELECT r.message_id, r.destination_id, 0, coalesce(r.first_at, now()),
		       coalesce(r.due_at, now())
		  FROM jsonb_to_recordset(rows) r (message_id bigint, destination_id bigint,
						   due_at timestamptz, first_at timestamptz)
		ON CONFLICT (message_id, destination_id) DO NOTHING
		RETURNING 1)
	SELECT count(*)::integer FROM added;
$$;

-- Gives back the leases of owner (a worker stopping with claimed rows it did not try; the
-- ones it tried were recorded first). Returns how many.
CREATE FUNCTION hookgate.delivery_release(owner text) RETURNS integer
LANGUAGE sql AS $$
	WITH freed AS (
		UPDATE hookgate.delivery_queue q SET lease_owner = NULL, lease_until = NULL
		 WHERE q.lease_owner = owner
		RETURNING 1)
	SELECT count(*)::integer FROM freed;
$$;

-- Queues again every message routed (now) to the destination and stored in [since, until),
-- due now: a delivery already queued keeps its attempts and becomes due now. Audited as
-- 'delivery.replay' by actor. Returns how many messages it queued.
CREATE FUNCTION hookgate.delivery_replay(destination_id bigint, since timestamptz,
					 until timestamptz, actor text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	d hookgate.destinations;
	queued bigint;
BEGIN
	SELECT * INTO d FROM hookgate.destinations x WHERE x.id = delivery_replay.destination_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'delivery_replay: no destination %', delivery_replay.destination_id;
	END IF;
	WITH picked AS (
		SELECT m.id FROM hookgate.messages m
		 WHERE m.at >= since AND m.at < until
		   AND (m.module = d.module
			OR (d.module = 'bot_incoming' AND m.module = 'bot_message'))
		   AND hookgate.delivery_route(m.module, m.target) = d.id
	), added AS (
		INSERT INTO hookgate.delivery_queue AS q (message_id, destination_id, attempts,
							 first_at, due_at)
		SELECT picked.id, d.id, 0, now(), now() FROM picked
		ON CONFLICT ON CONSTRAINT delivery_queue_pkey DO UPDATE SET due_at = now()
		RETURNING 1)
	SELECT count(*) INTO queued FROM added;
	INSERT INTO hookgate.audit_log (actor, action, details)
	VALUES (actor, 'delivery.replay',
		jsonb_build_object('destination_id', d.id, 'module', d.module, 'target', d.target,
				   'since', since, 'until', until, 'messages', queued));
	RETURN queued;
END;
$$;

-- Where a message stands with each destination it has (its route now, and any other it was
-- queued or attempted for, e.g. a replay after its route changed):
--   'delivered'      its latest attempt was delivered;
--   'retrying'       queued after attempts (next_at: when the next is due);
--   'pending'        queued and never tried (parked, replayed), or not taken from the feed yet;
--   'failed'         its latest attempt ended it: failed after the last retry, 410, refused;
--   'no_destination' no destination (one row, destination_id NULL): stored only.
-- No row for an unknown message.
CREATE FUNCTION hookgate.delivery_state(message_id bigint)
RETURNS TABLE (destination_id bigint, state text, attempts integer, at timestamptz,
	       next_at timestamptz)
LANGUAGE sql STABLE AS $$
	WITH m AS (
		SELECT x.id, hookgate.delivery_route(x.module, x.target) AS route
		  FROM hookgate.messages x WHERE x.id = delivery_state.message_id
	), dests AS (
		SELECT m.route AS id FROM m WHERE m.route IS NOT NULL
		UNION
		SELECT q.destination_id FROM hookgate.delivery_queue q, m WHERE q.message_id = m.id
		UNION
		SELECT a.destination_id FROM hookgate.delivery_attempts a, m
		 WHERE a.message_id = m.id
	)
	SELECT dests.id,
	       CASE WHEN q.attempts > 0 THEN 'retrying'
		    WHEN q.message_id IS NOT NULL THEN 'pending'
		    WHEN a.outcome = 'delivered' THEN 'delivered'
		    WHEN a.outcome IN ('failed', 'gone', 'refused') THEN 'failed'
		    ELSE 'pending' END,
	       coalesce(q.attempts, a.attempt, 0), a.at, q.due_at
	  FROM dests
	  LEFT JOIN hookgate.delivery_queue q
	    ON q.message_id = delivery_state.message_id AND q.destination_id = dests.id
	  LEFT JOIN LATERAL (
		SELECT x.outcome, x.attempt, x.at FROM hookgate.delivery_attempts x
		 WHERE x.message_id = delivery_state.message_id AND x.destination_id = dests.id
		 ORDER BY x.attempt DESC, x.at DESC LIMIT 1) a ON true
	UNION ALL
	SELECT NULL, 'no_destination', 0, NULL, NULL
	  FROM m WHERE NOT EXISTS (SELECT 1 FROM dests)
	ORDER BY 1;
$$;
