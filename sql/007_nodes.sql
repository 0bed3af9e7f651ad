-- SPDX-License-Identifier: Apache-2.0
-- 007_nodes.sql: several hookgated nodes on one database (docs/operations.md, "Several nodes";
-- docs/schema.md). Each usage row names the node that took the call (its node.name). Applied
-- by "hookgatectl migrate" like 001.

-- NULL for the rows stored before this migration, and for rows written by hand. Added without a
-- default first, so that PostgreSQL only records the column and rewrites no partition.
ALTER TABLE hookgate.token_usage ADD COLUMN node text;

-- The node reaches the rows through a setting local to the batch's transaction, set by the
-- ingest_batch() below: the inserts of 002_ingest.sql (both paths, with and without
-- Idempotency-Key) then fill the column without being copied here to name it. '' is what
-- the setting reads once a transaction that set it has ended.
ALTER TABLE hookgate.token_usage
	ALTER COLUMN node SET DEFAULT nullif(current_setting('hookgate.node', true), '');

-- What the webhook workers call: ingest_batch() of 002_ingest.sql, with the node's name as one
-- more argument (once per batch, not per call). node NULL stores NULL.
CREATE FUNCTION hookgate.ingest_batch(
	a_i integer[], a_token_id bigint[], a_user_id bigint[], a_status integer[],
	a_module text[], a_target text[], a_appkey_hash text[], a_content_type text[],
	a_body text[], a_idem_key text[], a_client_addr inet[], a_user_agent text[],
	a_request_bytes integer[], a_latency_us integer[], a_at timestamptz[],
	budget_ms integer, node text)
RETURNS TABLE (i integer, http_status integer, code text, message_id bigint)
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM set_config('hookgate.node', coalesce(node, ''), true);
	RETURN QUERY SELECT * FROM hookgate.ingest_batch(a_i, a_token_id, a_user_id, a_status,
		a_module, a_target, a_appkey_hash, a_content_type, a_body, a_idem_key,
		a_client_addr, a_user_agent, a_request_bytes, a_latency_us, a_at, budget_ms);
END;
$$;
