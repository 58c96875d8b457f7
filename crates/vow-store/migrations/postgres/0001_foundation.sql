-- Vow schema v1 (PostgreSQL). Every personal value is a ciphertext blob; identifiers
-- are reachable only through keyed blind indexes. Times are unix milliseconds.

CREATE TABLE meta (
    k TEXT PRIMARY KEY,
    v BYTEA NOT NULL
);

CREATE TABLE tenants (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    controller_name TEXT,
    controller_contact TEXT,
    created_at BIGINT NOT NULL,
    index_key BYTEA NOT NULL,
    kek_version BIGINT NOT NULL
);

CREATE TABLE tenant_keks (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    version BIGINT NOT NULL,
    wrapped BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    retired_at BIGINT,
    PRIMARY KEY (tenant_id, version)
);

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    tenant_id TEXT REFERENCES tenants(id),
    role TEXT NOT NULL,
    purposes TEXT,
    secret_hash BYTEA NOT NULL,
    label TEXT,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

CREATE TABLE policies (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    version BIGINT NOT NULL,
    effective_date TEXT NOT NULL,
    source TEXT NOT NULL,
    compiled TEXT NOT NULL,
    published_at BIGINT NOT NULL,
    published_by TEXT NOT NULL,
    PRIMARY KEY (tenant_id, version)
);

CREATE TABLE subjects (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    created_at BIGINT NOT NULL,
    birth_date BYTEA,
    status TEXT NOT NULL
);
CREATE INDEX subjects_tenant ON subjects(tenant_id);

CREATE TABLE subject_keys (
    subject_id TEXT PRIMARY KEY REFERENCES subjects(id),
    tenant_id TEXT NOT NULL,
    kek_version BIGINT NOT NULL,
    wrapped BYTEA NOT NULL
);
CREATE INDEX subject_keys_kek ON subject_keys(tenant_id, kek_version);

CREATE TABLE identifiers (
    tenant_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    bidx BYTEA NOT NULL,
    subject_id TEXT NOT NULL REFERENCES subjects(id),
    value BYTEA NOT NULL,
    PRIMARY KEY (tenant_id, kind, bidx)
);
-- Subject first, with both equality columns, so the planner never prefers walking the
-- primary key of a whole tenant for a per-person query.
CREATE INDEX identifiers_subject ON identifiers(subject_id, tenant_id, kind);

CREATE TABLE fields (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    subject_id TEXT NOT NULL REFERENCES subjects(id),
    category TEXT NOT NULL,
    purposes TEXT NOT NULL,
    source TEXT NOT NULL,
    store TEXT NOT NULL,
    collected_at BIGINT NOT NULL,
    value BYTEA NOT NULL,
    version BIGINT NOT NULL,
    supersedes TEXT,
    superseded_at BIGINT
);
CREATE INDEX fields_subject ON fields(subject_id, category);

CREATE TABLE consents (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    subject_id TEXT NOT NULL REFERENCES subjects(id),
    seq BIGINT NOT NULL,
    purpose TEXT NOT NULL,
    action TEXT NOT NULL,
    kind TEXT NOT NULL,
    at BIGINT NOT NULL,
    expires_at BIGINT,
    policy_version BIGINT NOT NULL,
    parent_subject_id TEXT,
    evidence BYTEA,
    recorded_at BIGINT NOT NULL,
    recorded_by TEXT NOT NULL,
    UNIQUE (subject_id, seq)
);

CREATE TABLE audit (
    seq BIGINT PRIMARY KEY,
    at BIGINT NOT NULL,
    tenant_id TEXT,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject_id TEXT,
    purpose TEXT,
    detail TEXT NOT NULL,
    hash BYTEA NOT NULL
);

CREATE TABLE audit_head (
    id BIGINT PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash BYTEA NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, decode(repeat('00', 32), 'hex'));
