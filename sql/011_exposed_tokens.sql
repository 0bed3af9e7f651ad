-- SPDX-License-Identifier: Apache-2.0
-- 011_exposed_tokens.sql: a token reported leaked stays out of service until its secret is
-- replaced (docs/api-admin.md, "Tokens reported exposed"; docs/schema.md). Applied by
-- "hookgatectl migrate" like 001.
--
-- 010 disables a token with the reason 'exposed' when a secret scanner reports it. Its secret
-- is then public: enabling the token again as it is would put a known secret back into
-- service. From this migration on, whoever changes the row (admin API, an administrator,
-- hookgatectl, SQL by hand):
--   * enabling a token disabled as 'exposed' is refused with SQLSTATE HG002; the callers answer
--     409 token_exposed (hookgatectl: the message and a non-zero exit);
--   * rotating such a token must drop the leaked secret at once: a rotation that keeps the
--     previous secret working (a grace period) is refused with SQLSTATE 22023;
--   * a rotation without grace clears the reason to 'owner': the token stays disabled, and
--     enabling it is a separate, audited step that then succeeds.
-- Deleting an exposed token is not affected.

-- The trigger function of 010, restated whole with the rules above added (PostgreSQL replaces a
-- function body; it cannot patch one).
CREATE OR REPLACE FUNCTION hookgate.webhook_tokens_disabled_stamp() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF OLD.disabled_reason = 'exposed' AND NEW.deleted_at IS NULL
	   AND NEW.token_hash IS DISTINCT FROM OLD.token_hash THEN
		-- A rotation of an exposed token.
		IF NEW.previous_hash IS NOT NULL THEN
			RAISE EXCEPTION USING
				ERRCODE = '22023',
				MESSAGE = 'this token was reported exposed: rotate it without a grace '
					  'period, or its leaked secret would keep working';
		END IF;
		IF NEW.status = 'disabled' THEN
			NEW.disabled_reason := 'owner';
			RETURN NEW;
		END IF;
	END IF;
	IF NEW.status = 'active' AND OLD.status <> 'active' THEN
		IF OLD.disabled_reason = 'exposed'
		   AND NEW.token_hash IS NOT DISTINCT FROM OLD.token_hash THEN
			RAISE EXCEPTION USING
				ERRCODE = 'HG002',
				MESSAGE = 'this token was reported exposed: rotate its secret '
					  '(without a grace period) before enabling it',
				HINT = 'POST /admin/api/tokens/{id}/rotate with {"grace":"0s"}, or '
				       'hookgatectl token rotate PUBLIC_ID.';
		END IF;
	END IF;
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

-- 010's trigger fired on status changes only; a rotation changes token_hash, so it fires on
-- that too now. The fold's counter updates still name neither column and do not fire it.
DROP TRIGGER webhook_tokens_disabled_stamp ON hookgate.webhook_tokens;
CREATE TRIGGER webhook_tokens_disabled_stamp
	BEFORE UPDATE OF status, token_hash ON hookgate.webhook_tokens
	FOR EACH ROW EXECUTE FUNCTION hookgate.webhook_tokens_disabled_stamp();
