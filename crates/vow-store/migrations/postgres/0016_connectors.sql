-- Issue 11: the organisation's own databases.
--
-- A connection says where an external database is. Its URL (with the credentials)
-- is sealed under the tenant's KEK of `kek_version` (re-sealed by a key rotation);
-- `redacted` is the same URL with the password replaced, safe to show.
CREATE TABLE connections (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    id TEXT NOT NULL,
    kind TEXT NOT NULL,
    redacted TEXT NOT NULL,
    kek_version BIGINT NOT NULL,
    url_sealed BYTEA NOT NULL,
    max_concurrency BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

-- A dataset (one fideslang `fides_key`) registered with a connection: the manifest
-- it came from, as checked against the live schema at registration. A manifest
-- describes tables and columns, never people.
CREATE TABLE datasets (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    fides_key TEXT NOT NULL,
    connection_id TEXT NOT NULL,
    manifest TEXT NOT NULL,
    manifest_sha256 TEXT NOT NULL,
    collections BIGINT NOT NULL,
    registered_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, fides_key),
    FOREIGN KEY (tenant_id, connection_id) REFERENCES connections(tenant_id, id)
);

-- A request's work on one dataset: find (access), mask (erasure) or correct. Claimed
-- with a lease so that several servers share the work and a dead server's jobs are
-- taken up again. `sealed` holds what the job found or will change, sealed under the
-- request's own key; `error` is a code and a message that never carry values.
CREATE TABLE connector_jobs (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    request_id TEXT NOT NULL,
    dataset TEXT NOT NULL,
    connection_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_until BIGINT,
    sealed BYTEA,
    error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    finished_at BIGINT,
    UNIQUE (tenant_id, request_id, dataset, kind)
);
CREATE INDEX connector_jobs_due ON connector_jobs(state, lease_until);
CREATE INDEX connector_jobs_request ON connector_jobs(tenant_id, request_id);

-- Progress of a job, per collection: written after that collection's changes were
-- committed in the external database, so a resumed job skips what is done and
-- re-applies (idempotently) only the collection it was in.
CREATE TABLE connector_steps (
    job_id TEXT NOT NULL REFERENCES connector_jobs(id),
    collection TEXT NOT NULL,
    rows BIGINT NOT NULL,
    done_at BIGINT NOT NULL,
    PRIMARY KEY (job_id, collection)
);
