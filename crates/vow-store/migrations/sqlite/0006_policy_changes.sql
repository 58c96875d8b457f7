-- Policy changes (S5): what each published version changed from the one before, and
-- the notices that told the tenant's administrators. Names, counts and the
-- organisation's own contact addresses only; nothing about a person.

CREATE TABLE policy_changes (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    version INTEGER NOT NULL,
    previous_version INTEGER,
    -- JSON: the diff, its summary lines and the purposes that need fresh consent.
    changes TEXT NOT NULL,
    -- People holding data in a purpose that needs fresh consent, when published.
    affected_subjects INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, version)
);

CREATE TABLE policy_notices (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    version INTEGER NOT NULL,
    address TEXT NOT NULL,
    subject TEXT NOT NULL,
    text TEXT NOT NULL,
    html TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    sent_at INTEGER,
    message_id TEXT
);
CREATE INDEX policy_notices_version ON policy_notices(tenant_id, version);
