/* SPDX-License-Identifier: Apache-2.0 */
/* schema: the migration level these binaries need, the number of the last sql/NNN_*.sql file
 * (001_schema, 002_ingest, 003_admin, 004_delivery,
 * 005_admin_delivery, 006_rate_shares, 007_nodes, 008_org, 009_token_lifecycle,
 * 010_token_revoke, 011_exposed_tokens). hookgated refuses to start against a database whose
 * hookgate.schema_migrations does not reach it; raise it with each new sql/NNN_*.sql file. */
#ifndef HG_SCHEMA_H
#define HG_SCHEMA_H

#define HG_SCHEMA_VERSION 11

/* SQLSTATE raised by the five-token trigger (sql/001_schema.sql); callers map it, never the
 * text. */
#define HG_SQLSTATE_TOKEN_LIMIT "HG001"
#define HG_TOKEN_LIMIT 5

/* SQLSTATE raised when a token reported exposed is enabled before its secret is rotated
 * (sql/011_exposed_tokens.sql). */
#define HG_SQLSTATE_TOKEN_EXPOSED "HG002"

#endif
