-- Issue 11: the signed HTTP callback connector. A connection of kind `http` has a
-- signing secret (Standard Webhooks, `whsec_…`), sealed under the tenant's KEK of
-- the connection's `kek_version` like its URL; NULL for database connections.
ALTER TABLE connections ADD COLUMN secret_sealed BYTEA;

-- A job sent to an http connection is `waiting` for the system's signed answer until
-- `respond_by` (Unix ms); past it the runner fails the job.
ALTER TABLE connector_jobs ADD COLUMN respond_by BIGINT;
