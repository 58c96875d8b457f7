-- Data-subject requests (issue 3). Personal details of a request (identifiers given,
-- the requester's evidence, contact address, corrections asked) are sealed under a
-- per-request key wrapped by the tenant KEK, so the record outlives an erasure of the
-- subject and is itself unreadable without the tenant's keys.

CREATE TABLE requests (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    kind TEXT NOT NULL,
    channel TEXT NOT NULL,
    state TEXT NOT NULL,
    subject_id TEXT,
    requester TEXT NOT NULL,
    residence TEXT,
    rules TEXT NOT NULL,
    binding TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    ack_due BIGINT,
    response_due BIGINT NOT NULL,
    extended_max BIGINT,
    extended_due BIGINT,
    verification TEXT NOT NULL,
    matched_points BIGINT NOT NULL,
    kek_version BIGINT NOT NULL,
    key_wrapped BYTEA NOT NULL,
    details BYTEA NOT NULL,
    outcome TEXT,
    closed_at BIGINT,
    updated_at BIGINT NOT NULL
);
CREATE INDEX requests_due ON requests(tenant_id, closed_at, response_due);

CREATE TABLE request_events (
    request_id TEXT NOT NULL REFERENCES requests(id),
    seq BIGINT NOT NULL,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    event TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT,
    note TEXT NOT NULL,
    PRIMARY KEY (request_id, seq)
);

CREATE TABLE notices (
    id TEXT PRIMARY KEY,
    request_id TEXT NOT NULL REFERENCES requests(id),
    kind TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    sealed BYTEA NOT NULL,
    sent_at BIGINT,
    message_id TEXT
);
CREATE INDEX notices_request ON notices(request_id);

CREATE TABLE exports (
    request_id TEXT PRIMARY KEY REFERENCES requests(id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    sealed BYTEA NOT NULL,
    -- SHA-256 of the time-limited download token in the person's completion notice.
    token_hash BYTEA NOT NULL
);
CREATE UNIQUE INDEX exports_token ON exports(token_hash);

-- A keyed hash of an erased person's identifiers: stops an import from silently
-- re-creating them. Nothing else about the person is kept.
CREATE TABLE suppressions (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    kind TEXT NOT NULL,
    bidx BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    request_id TEXT,
    PRIMARY KEY (tenant_id, kind, bidx)
);

-- Events for recipients and clients, written in the same transaction as the change.
CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    event TEXT NOT NULL,
    recipient TEXT,
    payload TEXT NOT NULL,
    -- Personal values the recipient is entitled to (e.g. corrected fields), sealed
    -- under the subject's key: erasing the person makes them unreadable here too.
    sealed BYTEA,
    subject_id TEXT,
    created_at BIGINT NOT NULL,
    delivered_at BIGINT
);
CREATE INDEX outbox_pending ON outbox(delivered_at, created_at);

-- Legal holds (S7): named fields a law obliges us to keep, for a named reason and
-- until a date, even after a deletion request.
CREATE TABLE holds (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    subject_id TEXT NOT NULL REFERENCES subjects(id),
    categories TEXT NOT NULL,
    reason TEXT NOT NULL,
    until BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL
);
CREATE INDEX holds_subject ON holds(subject_id);

-- One-time codes mailed to the e-mail on file to verify a request: only a hash is
-- kept, it expires, and wrong attempts are counted.
CREATE TABLE request_codes (
    request_id TEXT PRIMARY KEY REFERENCES requests(id),
    code_hash BYTEA NOT NULL,
    expires_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL
);

-- The disclosure log (R5): what went to which recipient, for which purpose, when.
CREATE TABLE disclosures (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    recipient TEXT NOT NULL,
    purpose TEXT NOT NULL,
    categories TEXT NOT NULL,
    subjects BIGINT NOT NULL,
    refused BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    actor TEXT NOT NULL
);
CREATE TABLE disclosed (
    disclosure_id TEXT NOT NULL REFERENCES disclosures(id),
    tenant_id TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    recipient TEXT NOT NULL,
    categories TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (disclosure_id, subject_id)
);
CREATE INDEX disclosed_subject ON disclosed(tenant_id, subject_id);

-- How a processor tenant answers requests about its client's data: `redirect` (tell the
-- person to contact the client, tell the client) or `forward_assist` (forward to the
-- client and carry the request through on the client's instructions).
ALTER TABLE tenants ADD COLUMN request_handling TEXT NOT NULL DEFAULT 'redirect';
