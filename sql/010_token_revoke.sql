-- SPDX-License-Identifier: Apache-2.0
-- 010_token_revoke.sql: leaked-token revocation (docs/api-webhooks.md, "Reporting leaked
-- tokens"; docs/schema.md). A secret scanner posts the strings it found; every live token
-- among them is disabled, not deleted, with the reason 'exposed', and its owner sees why and
-- when. Applied by "hookgatectl migrate" like 001.

-- Why and when a token was last disabled. NULL on active tokens, and on tokens disabled before
-- this migration. Nullable and without a default: PostgreSQL only records the columns.
ALTER TABLE hookgate.webhook_tokens
	ADD COLUMN disabled_at timestamptz,
	ADD COLUMN disabled_reason text CHECK (disabled_reason IN ('owner', 'exposed'));

-- The columns follow the status, whoever changes it (admin API, hookgatectl, SQL by hand):
-- enabling clears both; disabling stamps the time and, unless the statement names another
-- reason, 'owner'. A disable of a token already disabled keeps what it had, unless the
-- statement sets the reason itself (revoke_exposed below does).
CREATE FUNCTION hookgate.webhook_tokens_disabled_stamp() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.status = 'active' THEN
		NEW.disabled_at := NULL;
		NEW.disabled_reason := NULL;
	ELSIF OLD.status = 'active' THEN
		NEW.disabled_at := coalesce(NEW.disabled_at, now());
		NEW.disabled_reason := coalesce(NEW.disabled_reason, 'owner');
	END IF;
	RETURN NEW;
END;
$$;

-- Only statements that name status fire it: the fold's counter updates do not.
CREATE TRIGGER webhook_tokens_disabled_stamp
	BEFORE UPDATE OF status ON hookgate.webhook_tokens
	FOR EACH ROW EXECUTE FUNCTION hookgate.webhook_tokens_disabled_stamp();

-- What POST /api/v2/tokens/revoke runs, once per report, with the keyed look-up hashes of the
-- report's well-formed candidates (the worker drops the others before this) and the reporter's
-- address. Each live token among them that is not already disabled as exposed becomes
-- disabled with reason 'exposed' and one audit row (actor 'revocation-api', the token's owner,
-- the reporter's address); the status change fires the NOTIFY trigger of 002_ingest.sql, so
-- every webhook worker refuses the token at once. Returns how many were disabled, which the
-- worker never tells the reporter.
CREATE FUNCTION hookgate.revoke_exposed(hashes bytea[], reporter inet)
RETURNS integer
LANGUAGE sql AS $$
	WITH t AS (
		UPDATE hookgate.webhook_tokens
		   SET status = 'disabled', disabled_reason = 'exposed', disabled_at = now()
		 WHERE token_hash = ANY (hashes) AND deleted_at IS NULL
		   AND disabled_reason IS DISTINCT FROM 'exposed'
		RETURNING user_id, public_id, name),
	a AS (
		INSERT INTO hookgate.audit_log (user_id, actor, action, client_addr, details)
		SELECT user_id, 'revocation-api', 'token.exposed', reporter,
		       jsonb_build_object('token', public_id, 'name', name,
					  'status', 'disabled', 'reason', 'exposed')
		  FROM t
		RETURNING 1)
	SELECT count(*)::integer FROM a;
$$;
