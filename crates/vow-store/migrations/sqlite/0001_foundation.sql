-- Vow schema v1 (SQLite). Every personal value is a ciphertext blob; identifiers
-- are reachable only through keyed blind indexes. Times are unix milliseconds.

CREATE TABLE meta (
    k TEXT PRIMARY KEY,
    v BLOB NOT NULL
);

CREATE TABLE tenants (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    controller_name TEXT,
    controller_contact TEXT,
    created_at INTEGER NOT NULL,
    index_key BLOB NOT NULL,
    kek_version INTEGER NOT NULL
);

CREATE TABLE tenant_keks (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    version INTEGER NOT NULL,
    wrapped BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    retired_at INTEGER,
    PRIMARY KEY (tenant_id, version)
);

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    tenant_id TEXT REFERENCES tenants(id),
    role TEXT NOT NULL,
    purposes TEXT,
    secret_hash BLOB NOT NULL,
    label TEXT,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);

CREATE TABLE policies (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    version INTEGER NOT NULL,
    effective_date TEXT NOT NULL,
    source TEXT NOT NULL,
    compiled TEXT NOT NULL,
    published_at INTEGER NOT NULL,
    published_by TEXT NOT NULL,
    PRIMARY KEY (tenant_id, version)
);

CREATE TABLE subjects (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    created_at INTEGER NOT NULL,
    birth_date BLOB,
    status TEXT NOT NULL
);
CREATE INDEX subjects_tenant ON subjects(tenant_id);

CREATE TABLE subject_keys (
    subject_id TEXT PRIMARY KEY REFERENCES subjects(id),
    tenant_id TEXT NOT NULL,
    kek_version INTEGER NOT NULL,
    wrapped BLOB NOT NULL
);
CREATE INDEX subject_keys_kek ON subject_keys(tenant_id, kek_version);

CREATE TABLE identifiers (
    tenant_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    bidx BLOB NOT NULL,
    subject_id TEXT NOT NULL REFERENCES subjects(id),
    value BLOB NOT NULL,
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
    collected_at INTEGER NOT NULL,
    value BLOB NOT NULL,
    version INTEGER NOT NULL,
    supersedes TEXT,
    superseded_at INTEGER
);
CREATE INDEX fields_subject ON fields(subject_id, category);

CREATE TABLE consents (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    subject_id TEXT NOT NULL REFERENCES subjects(id),
    seq INTEGER NOT NULL,
    purpose TEXT NOT NULL,
    action TEXT NOT NULL,
    kind TEXT NOT NULL,
    at INTEGER NOT NULL,
    expires_at INTEGER,
    policy_version INTEGER NOT NULL,
    parent_subject_id TEXT,
    evidence BLOB,
    recorded_at INTEGER NOT NULL,
    recorded_by TEXT NOT NULL,
    UNIQUE (subject_id, seq)
);

CREATE TABLE audit (
    seq INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    tenant_id TEXT,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject_id TEXT,
    purpose TEXT,
    detail TEXT NOT NULL,
    hash BLOB NOT NULL
);

CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY,
    seq INTEGER NOT NULL,
    hash BLOB NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, zeroblob(32));
