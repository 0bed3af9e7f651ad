-- SPDX-License-Identifier: Apache-2.0
-- 001_schema.sql: the whole hookgate data model (docs/schema.md), schema
-- "hookgate", PostgreSQL 13+: every table in its final shape with its indexes, the token
-- counters, the usage history's partitions and their helpers, and the five-token trigger. The
-- ingest functions are in 002_ingest.sql, the admin API's in 003_admin.sql.
-- Applied by "hookgatectl migrate" inside one transaction together with its row in
-- hookgate.schema_migrations (which hookgatectl creates and fills, not this file).
-- Every object is schema-qualified so the file does not depend on search_path.

CREATE SCHEMA IF NOT EXISTS hookgate;

-- ---- users and their second factor -------------------------------------------------------

CREATE TABLE hookgate.users (
	id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	login             text NOT NULL UNIQUE CHECK (login ~ '^[a-z0-9_.-]{1,64}$'),
	display_name      text NOT NULL CHECK (char_length(display_name) <= 200),
	password_hash     text NOT NULL,
	-- TOTP secret sealed with the key file (AES-256-GCM); NULL until enrollment starts.
	totp_secret_enc   bytea,
	totp_enabled      boolean NOT NULL DEFAULT false,
	-- Last accepted TOTP time step: a code of this step or an earlier one is refused (replay).
	totp_last_step    bigint NOT NULL DEFAULT 0,
	failed_logins     integer NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
	locked_until      timestamptz,
	-- Touched by the five-token trigger; its real purpose is the row lock (see below).
	tokens_changed_at timestamptz NOT NULL DEFAULT now(),
	created_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE hookgate.recovery_codes (
	user_id   bigint NOT NULL REFERENCES hookgate.users (id) ON DELETE CASCADE,
	code_hash bytea NOT NULL,
	used_at   timestamptz,
	PRIMARY KEY (user_id, code_hash)
);

-- ---- webhook tokens ----------------------------------------------------------------------

-- fillfactor 50: fold_token_counts() (002_ingest.sql) updates the counters of the tokens in
-- use about twice a second. With room left on each page the new row version stays on the page
-- (a HOT update: no index entry written); the table is small, so half-empty pages cost nothing
-- worth counting.
CREATE TABLE hookgate.webhook_tokens (
	id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	public_id       text NOT NULL UNIQUE CHECK (public_id ~ '^tk_[0-9A-Za-z]{16}$'),
	user_id         bigint NOT NULL REFERENCES hookgate.users (id) ON DELETE RESTRICT,
	-- 1-64 characters, no control characters (Unicode Cc: C0, DEL and C1): the rule
	-- hookgatectl and the admin API check first (src/lib/text.h).
	name            text NOT NULL
		CHECK (char_length(name) BETWEEN 1 AND 64 AND name !~ '[\x01-\x1f\x7f-\x9f]'),
	status          text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
	-- HMAC-SHA-256 look-up hash of the token and its AES-256-GCM sealed copy; the database
	-- never holds the token in clear. Both are cleared when the token is deleted.
	token_hash      bytea UNIQUE CHECK (octet_length(token_hash) = 32),
	secret_enc      bytea,
	invocations     bigint NOT NULL DEFAULT 0 CHECK (invocations >= 0),
	last_invoked_at timestamptz,
	created_at      timestamptz NOT NULL DEFAULT now(),
	deleted_at      timestamptz,
	CONSTRAINT webhook_tokens_secret_iff_live CHECK (
		(deleted_at IS NULL AND token_hash IS NOT NULL AND secret_enc IS NOT NULL)
		OR (deleted_at IS NOT NULL AND token_hash IS NULL AND secret_enc IS NULL))
) WITH (fillfactor = 50);

CREATE INDEX webhook_tokens_live_by_user ON hookgate.webhook_tokens (user_id)
	WHERE deleted_at IS NULL;

-- The five-token limit (docs/schema.md), enforced here so that it holds
-- for the admin API, for hookgatectl and for SQL typed by hand, however many creations race.
--
-- Why a real UPDATE of the owner's users row, not just a count or SELECT ... FOR UPDATE:
-- * READ COMMITTED: the UPDATE takes the row lock, so concurrent creators for one user queue
--   behind each other. When the first commits, the next one's UPDATE proceeds and the count
--   that follows runs with a fresh snapshot (each statement of a volatile function takes one),
--   so it sees the token committed meanwhile.
-- * REPEATABLE READ / SERIALIZABLE: the count runs on the transaction's snapshot, which may
--   predate a competitor's commit. A row merely locked (FOR UPDATE) by a transaction that has
--   committed since is not a conflict, so the loser would get the lock, count on its stale
--   snapshot and insert a sixth token. Updating a row that a concurrent transaction updated is
--   a conflict: the loser fails with a serialization failure (SQLSTATE 40001) and must retry,
--   and its retry sees the competitor's token.
-- Deleting a token or disabling it never needs the lock: it can only lower the count.
CREATE FUNCTION hookgate.webhook_tokens_enforce_limit() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	owner_login text;
	live_tokens bigint;
BEGIN
	IF NEW.deleted_at IS NOT NULL THEN
		RETURN NEW;
	END IF;
	IF TG_OP = 'UPDATE' AND NEW.user_id = OLD.user_id AND OLD.deleted_at IS NULL THEN
		RETURN NEW;
	END IF;

	UPDATE hookgate.users SET tokens_changed_at = now()
	 WHERE id = NEW.user_id
	RETURNING login INTO owner_login;
	IF NOT FOUND THEN
		-- Let the foreign key report the unknown user.
		RETURN NEW;
	END IF;

	SELECT count(*) INTO live_tokens
	  FROM hookgate.webhook_tokens
	 WHERE user_id = NEW.user_id AND deleted_at IS NULL AND id <> NEW.id;
	IF live_tokens >= 5 THEN
		RAISE EXCEPTION USING
			ERRCODE = 'HG001',
			MESSAGE = format('user %s already has 5 webhook tokens', owner_login),
			HINT = 'Delete one of the user''s tokens first.';
	END IF;
	RETURN NEW;
END;
$$;

CREATE TRIGGER webhook_tokens_limit
	BEFORE INSERT OR UPDATE OF user_id, deleted_at ON hookgate.webhook_tokens
	FOR EACH ROW EXECUTE FUNCTION hookgate.webhook_tokens_enforce_limit();

-- ---- token counters ----------------------------------------------------------------------

-- The token counters are kept so that a long transaction cannot slow ingest down. A batch
-- never updates webhook_tokens: it inserts each of its tokens' "+n and latest time" into
-- token_counts_pending, an insert-only table, and takes its token rows FOR SHARE.
-- fold_token_counts() (002_ingest.sql) moves the pending rows into webhook_tokens.invocations
-- and last_invoked_at, at most a second behind; token_counts adds the two, so it is exact at
-- every moment (docs/schema.md).
--
-- Why: were every batch to rewrite its tokens' rows, each batch would leave a dead version of
-- each row, which PostgreSQL cannot remove while any snapshot older than it is open (pg_dump,
-- a DBA's report). Look-ups and updates then walk the versions: measured with that design, a
-- REPEATABLE READ snapshot held 25 s cut ingest from 18.5k to 3.9k calls/s, and two workers'
-- batches waited for each other's commit on the shared rows. Inserts leave no version behind
-- to walk, and FOR SHARE locks do not conflict with each other; a disable or delete of a
-- token (an UPDATE) still waits for every batch holding its row, and a batch that starts
-- after it commits sees it.

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

-- ---- modules: channels, bots, extensions -------------------------------------------------

CREATE TABLE hookgate.channels (
	id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name       text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9_]{1,64}$'),
	title      text NOT NULL DEFAULT '',
	created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE hookgate.channel_members (
	channel_id bigint NOT NULL REFERENCES hookgate.channels (id) ON DELETE CASCADE,
	user_id    bigint NOT NULL REFERENCES hookgate.users (id) ON DELETE CASCADE,
	PRIMARY KEY (channel_id, user_id)
);
CREATE INDEX channel_members_by_user ON hookgate.channel_members (user_id);

CREATE TABLE hookgate.bots (
	id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name       text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9_]{1,64}$'),
	owner_id   bigint NOT NULL REFERENCES hookgate.users (id) ON DELETE RESTRICT,
	created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX bots_by_owner ON hookgate.bots (owner_id);

CREATE TABLE hookgate.bot_subscribers (
	bot_id  bigint NOT NULL REFERENCES hookgate.bots (id) ON DELETE CASCADE,
	user_id bigint NOT NULL REFERENCES hookgate.users (id) ON DELETE CASCADE,
	PRIMARY KEY (bot_id, user_id)
);
CREATE INDEX bot_subscribers_by_user ON hookgate.bot_subscribers (user_id);

-- Each extension has a sandbox and a marketplace app id, each with its own appkey. An appkey
-- is stored twice: an HMAC look-up hash (purpose "appkey") to check calls without decrypting,
-- and sealed (aad "appkey:<app_id>") because "Get Webhook URL" must print it again.
CREATE TABLE hookgate.extensions (
	id                      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name                    text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9_]{1,64}$'),
	owner_id                bigint NOT NULL REFERENCES hookgate.users (id) ON DELETE RESTRICT,
	sandbox_app_id          text NOT NULL UNIQUE CHECK (sandbox_app_id ~ '^app_[0-9A-Za-z]{16}$'),
	sandbox_appkey_hash     bytea NOT NULL CHECK (octet_length(sandbox_appkey_hash) = 32),
	sandbox_appkey_enc      bytea NOT NULL,
	marketplace_app_id      text NOT NULL UNIQUE
		CHECK (marketplace_app_id ~ '^app_[0-9A-Za-z]{16}$'),
	marketplace_appkey_hash bytea NOT NULL CHECK (octet_length(marketplace_appkey_hash) = 32),
	marketplace_appkey_enc  bytea NOT NULL,
	created_at              timestamptz NOT NULL DEFAULT now(),
	CHECK (sandbox_app_id <> marketplace_app_id)
);
CREATE INDEX extensions_by_owner ON hookgate.extensions (owner_id);

-- ---- delivered messages --------------------------------------------------------------------

-- user_id and token_id have no foreign keys. Each would cost a KEY SHARE look-up of users and
-- webhook_tokens per row (about 40% of an ingest batch, measured), and the token row is
-- already locked (FOR SHARE or FOR UPDATE) by the batch that inserts the message. Neither
-- parent is ever deleted while messages point to it: tokens are only soft-deleted, and users
-- have RESTRICT from webhook_tokens. So the ingest functions (002_ingest.sql), not a per-row
-- check, guarantee these ids.
--
-- The only index is by target. Nothing reads messages by token (the usage history has its own
-- index), and each index is one more insert per message.
CREATE TABLE hookgate.messages (
	id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at              timestamptz NOT NULL DEFAULT now(),
	module          text NOT NULL CHECK (module IN ('channel', 'bot_incoming', 'bot_message',
	                                                'extension_sandbox', 'extension_marketplace')),
	target          text NOT NULL,
	user_id         bigint NOT NULL,
	token_id        bigint NOT NULL,
	content_type    text NOT NULL,
	body            text NOT NULL,
	idempotency_key text
);
CREATE INDEX messages_by_target ON hookgate.messages (module, target, at);

-- ---- usage history -------------------------------------------------------------------------

-- One row per call presenting a known token. No foreign key to webhook_tokens: the history is
-- kept after a token is deleted, and the partitions are dropped by age, not by token.
--
-- Keyset pagination of a token's history (usage_page in 003_admin.sql) needs a unique order,
-- and "at" alone is not unique (a batch of calls commits with one now()). seq is a
-- tie-breaker from a sequence.
CREATE SEQUENCE hookgate.token_usage_seq AS bigint;
CREATE TABLE hookgate.token_usage (
	token_id      bigint NOT NULL,
	user_id       bigint NOT NULL,
	at            timestamptz NOT NULL DEFAULT now(),
	module        text CHECK (module IN ('channel', 'bot_incoming', 'bot_message',
	                                     'extension_sandbox', 'extension_marketplace')),
	target        text,
	http_status   smallint NOT NULL,
	client_addr   inet,
	user_agent    text,
	request_bytes integer,
	latency_us    integer,
	message_id    bigint,
	seq           bigint NOT NULL DEFAULT nextval('hookgate.token_usage_seq')
) PARTITION BY RANGE (at);
ALTER SEQUENCE hookgate.token_usage_seq OWNED BY hookgate.token_usage.seq;

-- The page index serves a token's whole history too: a (token_id, at DESC) index, its
-- prefix, would only be one index more for every insert.
CREATE INDEX token_usage_page ON hookgate.token_usage (token_id, at DESC, seq DESC);

-- Catches rows outside every monthly partition so that an insert never fails for want of one.
CREATE TABLE hookgate.token_usage_default PARTITION OF hookgate.token_usage DEFAULT;

-- Creates the monthly partitions token_usage_yYYYYmMM (UTC months) from the current month to
-- months_ahead months ahead; existing ones are left alone, so it can run any number of times.
-- Partitions are meant to be created ahead of time (the migration asks for 3 months, the
-- daemon or cron calls it again), because PostgreSQL refuses to create a partition while the
-- DEFAULT partition holds rows of its range. Should that still happen (the function was not
-- run for months), the rows are moved out of the DEFAULT partition into the new partition in
-- the same transaction before it is attached, which locks the DEFAULT partition meanwhile.
CREATE FUNCTION hookgate.ensure_usage_partitions(months_ahead integer) RETURNS integer
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
		part := 'token_usage_' || to_char(lo AT TIME ZONE 'UTC', '"y"YYYY"m"MM');
		CONTINUE WHEN to_regclass(format('hookgate.%I', part)) IS NOT NULL;
		PERFORM hookgate.create_usage_partition(part, lo, hi);
		created := created + 1;
	END LOOP;
	RETURN created;
END;
$$;

-- Helper of ensure_usage_partitions: one partition [lo, hi), moving any rows of that range
-- out of the DEFAULT partition first (see above).
CREATE FUNCTION hookgate.create_usage_partition(part text, lo timestamptz, hi timestamptz)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM hookgate.token_usage_default WHERE at >= lo AND at < hi) THEN
		EXECUTE format('CREATE TABLE hookgate.%I PARTITION OF hookgate.token_usage'
			       ' FOR VALUES FROM (%L) TO (%L)', part, lo, hi);
		RETURN;
	END IF;
	EXECUTE format('CREATE TABLE hookgate.%I (LIKE hookgate.token_usage INCLUDING DEFAULTS'
		       ' INCLUDING CONSTRAINTS)', part);
	EXECUTE format('WITH moved AS (DELETE FROM hookgate.token_usage_default'
		       ' WHERE at >= $1 AND at < $2 RETURNING *)'
		       ' INSERT INTO hookgate.%I SELECT * FROM moved', part) USING lo, hi;
	EXECUTE format('ALTER TABLE hookgate.token_usage ATTACH PARTITION hookgate.%I'
		       ' FOR VALUES FROM (%L) TO (%L)', part, lo, hi);
END;
$$;

-- Retention: drops the monthly partitions whose whole month ended more than older_than ago
-- and deletes rows that old from the DEFAULT partition. Returns the number of partitions dropped.
CREATE FUNCTION hookgate.drop_usage_partitions(older_than interval) RETURNS integer
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
		       regexp_match(c.relname, '^token_usage_y(\d{4})m(\d{2})$') AS m
		 WHERE i.inhparent = 'hookgate.token_usage'::regclass AND m IS NOT NULL
		 ORDER BY c.relname
	LOOP
		CONTINUE WHEN rec.month_end > cutoff;
		EXECUTE format('DROP TABLE hookgate.%I', rec.relname);
		dropped := dropped + 1;
	END LOOP;
	DELETE FROM hookgate.token_usage_default WHERE at < cutoff;
	RETURN dropped;
END;
$$;

SELECT hookgate.ensure_usage_partitions(3);

-- ---- idempotency keys (24 h replay window, purged by created_at) ---------------------------

CREATE TABLE hookgate.idempotency_keys (
	token_id    bigint NOT NULL,
	key         text NOT NULL CHECK (char_length(key) BETWEEN 1 AND 128),
	created_at  timestamptz NOT NULL DEFAULT now(),
	http_status smallint NOT NULL,
	message_id  bigint,
	PRIMARY KEY (token_id, key)
);
CREATE INDEX idempotency_keys_by_age ON hookgate.idempotency_keys (created_at);

-- ---- admin sessions --------------------------------------------------------------------------

-- Only hashes of the session id and CSRF token are stored, so a database copy opens no session.
CREATE TABLE hookgate.admin_sessions (
	id_hash     bytea PRIMARY KEY,
	user_id     bigint NOT NULL REFERENCES hookgate.users (id) ON DELETE CASCADE,
	stage       text NOT NULL CHECK (stage IN ('password', 'full')),
	csrf_hash   bytea,
	created_at  timestamptz NOT NULL DEFAULT now(),
	expires_at  timestamptz NOT NULL,
	client_addr inet
);
CREATE INDEX admin_sessions_by_expiry ON hookgate.admin_sessions (expires_at);
CREATE INDEX admin_sessions_by_user ON hookgate.admin_sessions (user_id);

-- ---- audit log -------------------------------------------------------------------------------

CREATE TABLE hookgate.audit_log (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at          timestamptz NOT NULL DEFAULT now(),
	user_id     bigint REFERENCES hookgate.users (id) ON DELETE SET NULL,
	actor       text NOT NULL,
	action      text NOT NULL,
	client_addr inet,
	details     jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_log_by_user ON hookgate.audit_log (user_id, at);
