-- SPDX-License-Identifier: Apache-2.0
-- 003_admin.sql: what the admin API (docs/api-admin.md) needs beyond the data model of
-- 001_schema.sql: login lockout, the TOTP no-replay rule, enrollment, recovery codes, sessions,
-- and keyset pagination of the usage history.
--
-- The admin worker talks to PostgreSQL asynchronously, one autocommit statement per round
-- trip, so every rule that needs several steps to be atomic is one function here, called with
-- one parameterized "SELECT hookgate.f($1, ...)". All of them are written for READ COMMITTED
-- (the default): an UPDATE that waits for a competitor's row lock re-checks its WHERE clause
-- on the row the competitor committed, which is what makes "exactly one wins" hold.
-- Every object is schema-qualified so the file does not depend on search_path.

-- ---- login failures and lockout ------------------------------------------------------------

-- Counts one failed password or code for the user and locks the account for p_lockout once
-- p_max_failures failures are reached. Returns locked_until when the account is (now) locked,
-- NULL otherwise (also for an unknown user id).
-- * While a lock is running, failures are not counted: the caller should have answered 423
--   before checking anything, and a lock must not be extendable by an attacker.
-- * A lock that has run out starts a fresh count, so the first failure after it does not lock
--   again at once. hookgatectl user unlock clears both columns.
-- * Only a completed second factor resets the count (totp_accept_step, recovery_use,
--   enroll_confirm), never a correct password alone: otherwise knowing the password would
--   allow unlimited code guesses, max-1 at a time.
CREATE FUNCTION hookgate.login_failure(p_user_id bigint, p_max_failures integer,
                                       p_lockout interval)
RETURNS timestamptz LANGUAGE plpgsql AS $$
DECLARE
	failures integer;
	lock_end timestamptz;
BEGIN
	SELECT failed_logins, locked_until INTO failures, lock_end
	  FROM hookgate.users WHERE id = p_user_id FOR UPDATE;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	IF lock_end > now() THEN
		RETURN lock_end;
	END IF;
	IF lock_end IS NOT NULL THEN
		failures := 0;
	END IF;
	failures := failures + 1;
	lock_end := CASE WHEN failures >= p_max_failures THEN now() + p_lockout END;
	UPDATE hookgate.users SET failed_logins = failures, locked_until = lock_end
	 WHERE id = p_user_id;
	RETURN lock_end;
END;
$$;

-- ---- the second factor -------------------------------------------------------------------------

-- Records the time step of a TOTP code the caller has verified (totp_verify). This is the
-- no-replay rule: the step is only accepted if it is later than every step accepted before,
-- and the check and the write are one UPDATE, so of two requests racing with the same code
-- (or with codes of two steps) exactly one succeeds. Success also ends any failure count.
-- Returns 'ok', 'reused' (a step this late was already accepted), 'locked' (the account is
-- locked: nothing recorded), 'not_enrolled' (no confirmed second factor: use enroll_confirm)
-- or 'unknown_user'.
CREATE FUNCTION hookgate.totp_accept_step(p_user_id bigint, p_step bigint)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	u record;
BEGIN
	UPDATE hookgate.users
	   SET totp_last_step = p_step, failed_logins = 0, locked_until = NULL
	 WHERE id = p_user_id AND totp_enabled AND totp_last_step < p_step
	   AND (locked_until IS NULL OR locked_until <= now());
	IF FOUND THEN
		RETURN 'ok';
	END IF;
	-- A new statement, so a new snapshot: it sees the competitor that won the race.
	SELECT totp_enabled, locked_until INTO u FROM hookgate.users WHERE id = p_user_id;
	IF NOT FOUND THEN
		RETURN 'unknown_user';
	ELSIF NOT u.totp_enabled THEN
		RETURN 'not_enrolled';
	ELSIF u.locked_until > now() THEN
		RETURN 'locked';
	END IF;
	RETURN 'reused';
END;
$$;

-- Starts (or restarts) enrollment: stores the new sealed secret unless the user already has a
-- confirmed second factor. Returns false for an enrolled or unknown user.
CREATE FUNCTION hookgate.enroll_begin(p_user_id bigint, p_secret_enc bytea)
RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	UPDATE hookgate.users SET totp_secret_enc = p_secret_enc, totp_last_step = 0
	 WHERE id = p_user_id AND NOT totp_enabled;
	RETURN FOUND;
END;
$$;

-- Confirms enrollment with the first valid code, in one transaction: enables the factor,
-- records the code's step (so it cannot be replayed as a login), ends any failure count and
-- replaces the recovery codes with p_recovery_hashes (crypto_lookup_hash "recovery").
-- p_secret_enc must be the sealed secret the code was verified against: if a second login
-- restarted enrollment meanwhile, the stored secret differs and nothing is enabled (the user
-- would otherwise be left with an authenticator that does not match). Returns false when the
-- user is unknown, already enrolled, locked, the secret changed or the step is not later
-- than the last one; raises 22023 for an empty array or one holding NULL.
CREATE FUNCTION hookgate.enroll_confirm(p_user_id bigint, p_secret_enc bytea, p_step bigint,
                                        p_recovery_hashes bytea[])
RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	IF coalesce(cardinality(p_recovery_hashes), 0) = 0
	   OR array_position(p_recovery_hashes, NULL) IS NOT NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = 'enroll_confirm needs a non-empty array of recovery code hashes';
	END IF;
	UPDATE hookgate.users
	   SET totp_enabled = true, totp_last_step = p_step, failed_logins = 0, locked_until = NULL
	 WHERE id = p_user_id AND NOT totp_enabled AND totp_secret_enc = p_secret_enc
	   AND totp_last_step < p_step AND (locked_until IS NULL OR locked_until <= now());
	IF NOT FOUND THEN
		RETURN false;
	END IF;
	DELETE FROM hookgate.recovery_codes WHERE user_id = p_user_id;
	INSERT INTO hookgate.recovery_codes (user_id, code_hash)
	SELECT p_user_id, h FROM unnest(p_recovery_hashes) AS h;
	RETURN true;
END;
$$;

-- Spends one recovery code (the alternative second step). Single use even under races: the
-- UPDATE only takes a code whose used_at is still NULL, re-checked after any competitor's
-- commit. Success ends any failure count. Returns 'ok', 'reused' (the code was spent before),
-- 'invalid' (no such code for this user, or unknown user) or 'locked' (nothing spent).
CREATE FUNCTION hookgate.recovery_use(p_user_id bigint, p_code_hash bytea)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	lock_end timestamptz;
BEGIN
	SELECT locked_until INTO lock_end FROM hookgate.users WHERE id = p_user_id;
	IF NOT FOUND THEN
		RETURN 'invalid';
	ELSIF lock_end > now() THEN
		RETURN 'locked';
	END IF;
	UPDATE hookgate.recovery_codes SET used_at = now()
	 WHERE user_id = p_user_id AND code_hash = p_code_hash AND used_at IS NULL;
	IF FOUND THEN
		UPDATE hookgate.users SET failed_logins = 0, locked_until = NULL WHERE id = p_user_id;
		RETURN 'ok';
	END IF;
	PERFORM 1 FROM hookgate.recovery_codes WHERE user_id = p_user_id AND code_hash = p_code_hash;
	RETURN CASE WHEN FOUND THEN 'reused' ELSE 'invalid' END;
END;
$$;

-- ---- sessions ------------------------------------------------------------------------------------

-- A new session (id_hash = SHA-256 of the cookie's 32 random bytes; csrf_hash likewise, or NULL
-- for a pre-2FA session). p_stage is 'password' (pre-2FA, p_ttl 5 minutes) or 'full'.
-- Returns expires_at, fixed here once and for all: nothing extends it.
CREATE FUNCTION hookgate.session_create(p_id_hash bytea, p_user_id bigint, p_stage text,
                                        p_csrf_hash bytea, p_ttl interval, p_client_addr inet)
RETURNS timestamptz LANGUAGE sql AS $$
	INSERT INTO hookgate.admin_sessions (id_hash, user_id, stage, csrf_hash, expires_at,
	                                     client_addr)
	VALUES (p_id_hash, p_user_id, p_stage, p_csrf_hash, now() + p_ttl, p_client_addr)
	RETURNING expires_at;
$$;

-- Turns a live pre-2FA session into a full one under a new id (a fresh id after the privilege
-- change, so a pre-2FA id that leaked is worth nothing) with the CSRF token's hash, expiring
-- p_ttl (twofa_session_ttl) from now. Call it after totp_accept_step, recovery_use or
-- enroll_confirm succeeded. The old row is deleted in the same statement, so two promotions
-- of one pre-2FA session cannot both succeed. Returns the new expires_at, or NULL when the
-- old session is unknown, expired or not a pre-2FA session.
CREATE FUNCTION hookgate.session_promote(p_old_hash bytea, p_new_hash bytea, p_csrf_hash bytea,
                                         p_ttl interval)
RETURNS timestamptz LANGUAGE sql AS $$
	WITH old AS (
		DELETE FROM hookgate.admin_sessions
		 WHERE id_hash = p_old_hash AND stage = 'password' AND expires_at > now()
		RETURNING user_id, client_addr)
	INSERT INTO hookgate.admin_sessions (id_hash, user_id, stage, csrf_hash, expires_at,
	                                     client_addr)
	SELECT p_new_hash, old.user_id, 'full', p_csrf_hash, now() + p_ttl, old.client_addr
	  FROM old
	RETURNING expires_at;
$$;

-- Looks a session up by the hash of its id. At most one row:
-- * a live session: expired = false, with its csrf_hash (NULL for a pre-2FA session);
-- * an expired one: expired = true and csrf_hash NULL; the row is deleted at the same time, so
--   the caller can answer 401 session_expired once and unauthenticated afterwards;
-- * no row for an unknown id.
CREATE FUNCTION hookgate.session_get(p_id_hash bytea)
RETURNS TABLE (user_id bigint, login text, display_name text, stage text, csrf_hash bytea,
               expires_at timestamptz, expired boolean)
LANGUAGE sql AS $$
	WITH gone AS (
		DELETE FROM hookgate.admin_sessions
		 WHERE id_hash = p_id_hash AND expires_at <= now()
		RETURNING user_id, stage, expires_at)
	SELECT g.user_id, u.login, u.display_name, g.stage, NULL::bytea, g.expires_at, true
	  FROM gone g JOIN hookgate.users u ON u.id = g.user_id
	UNION ALL
	SELECT s.user_id, u.login, u.display_name, s.stage, s.csrf_hash, s.expires_at, false
	  FROM hookgate.admin_sessions s JOIN hookgate.users u ON u.id = s.user_id
	 WHERE s.id_hash = p_id_hash AND s.expires_at > now();
$$;

-- Logout: true if the session existed.
CREATE FUNCTION hookgate.session_delete(p_id_hash bytea)
RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM hookgate.admin_sessions WHERE id_hash = p_id_hash;
	RETURN FOUND;
END;
$$;

-- Deletes every expired session (admin_sessions_by_expiry); returns how many. Run now and then
-- by the admin worker's timer: session_get already ignores expired rows.
CREATE FUNCTION hookgate.prune_sessions()
RETURNS integer LANGUAGE sql AS $$
	WITH gone AS (DELETE FROM hookgate.admin_sessions WHERE expires_at <= now() RETURNING 1)
	SELECT count(*)::integer FROM gone;
$$;

-- ---- usage history: keyset pagination -------------------------------------------------------

-- One page of a token's usage, newest first: the rows strictly before the cursor
-- (p_before_at, p_before_seq), or the newest rows when both are NULL; p_limit is clamped to
-- 1..200 (ask for one row more than you show to learn whether there is a next page). seq is
-- the tie-breaker of rows with the same "at" (token_usage in 001_schema.sql).
--
-- The cursor the API hands out ("next", and "before" coming back) is the unpadded base64url
-- of the text in the cursor column of the last row shown: "<at>|<seq>", at in UTC with
-- microseconds ("2026-11-27T03:12:45.123456Z"), so it reads back exactly as $2::timestamptz
-- and $3::bigint. The caller checks the token belongs to the user (404) before calling.
--
-- LANGUAGE sql and STABLE so that the planner inlines it: the page is then an index scan of
-- token_usage_page (001_schema.sql) per partition, stopping after p_limit rows (no sort, no
-- scan of the token's history); see tests/integration/t_admin_sql.sh.
CREATE FUNCTION hookgate.usage_page(p_token_id bigint, p_before_at timestamptz,
                                    p_before_seq bigint, p_limit integer)
RETURNS TABLE (at timestamptz, module text, target text, http_status smallint, client_addr inet,
               user_agent text, latency_us integer, seq bigint, cursor text)
LANGUAGE sql STABLE AS $$
	SELECT u.at, u.module, u.target, u.http_status, u.client_addr, u.user_agent, u.latency_us,
	       u.seq,
	       to_char(u.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || '|' || u.seq
	  FROM hookgate.token_usage u
	 WHERE u.token_id = p_token_id
	   AND (u.at, u.seq) < (coalesce(p_before_at, 'infinity'),
	                        coalesce(p_before_seq, 9223372036854775807))
	 ORDER BY u.at DESC, u.seq DESC
	 LIMIT greatest(1, least(coalesce(p_limit, 50), 200));
$$;
