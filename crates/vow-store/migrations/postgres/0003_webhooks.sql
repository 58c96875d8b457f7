-- Webhook delivery (issue 4, R12): recipients' endpoints, the delivery state of each
-- outbox event and the history of its attempts.

-- A recipient's endpoint is operational configuration, not policy. The signing secret
-- is sealed under the tenant's KEK of `kek_version` (re-sealed by a key rotation).
CREATE TABLE webhook_endpoints (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    recipient TEXT NOT NULL,
    url TEXT NOT NULL,
    kek_version BIGINT NOT NULL,
    secret_sealed BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, recipient)
);

-- Delivery state, on the outbox row itself: `pending`, `delivered` or `dead`, with a
-- reason (`no_endpoint`, `subject_erased`, `expired`). `next_attempt_at` 0 means due at
-- once; `lease_until` is the claim of a worker; `expires_at` (NULL: three days after
-- `created_at`) is when retrying stops.
ALTER TABLE outbox ADD COLUMN state TEXT NOT NULL DEFAULT 'pending';
ALTER TABLE outbox ADD COLUMN reason TEXT;
ALTER TABLE outbox ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN next_attempt_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN lease_until BIGINT;
ALTER TABLE outbox ADD COLUMN expires_at BIGINT;
ALTER TABLE outbox ADD COLUMN last_error TEXT;
CREATE INDEX outbox_due ON outbox(state, next_attempt_at);
CREATE INDEX outbox_tenant_state ON outbox(tenant_id, state);

-- One row per attempt: when, how long, and the HTTP status or an error class. Never a
-- body, a header value or anything personal.
CREATE TABLE delivery_attempts (
    event_id TEXT NOT NULL REFERENCES outbox(id),
    attempt BIGINT NOT NULL,
    at BIGINT NOT NULL,
    status BIGINT,
    error TEXT,
    duration_ms BIGINT NOT NULL,
    PRIMARY KEY (event_id, attempt)
);
