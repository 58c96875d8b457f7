-- Breaches (R16). A subject's coarse residence (an ISO 3166 region code such as
-- US-CA or DE: non-identifying metadata, kept in the clear so that affected people can
-- be counted per jurisdiction without opening anyone's data).
ALTER TABLE subjects ADD COLUMN residence TEXT;

-- Breach impact is one set-based query over this covering index: the fields of a
-- store and category, in subject order (so de-duplicating people works on sorted
-- input), with the times that place them in a window.
CREATE INDEX fields_breach ON fields(tenant_id, store, category, subject_id, collected_at, superseded_at);

-- The breach register. Kept at least 24 months (PIPEDA s.10.3): nothing in Vow deletes
-- it; keep_until records the earliest date it may go. No personal data: the scope,
-- counts and risk only; the description is about systems, not people.
CREATE TABLE incidents (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    discovered_at INTEGER NOT NULL,
    window_from INTEGER NOT NULL,
    window_to INTEGER NOT NULL,
    description TEXT NOT NULL,
    scope TEXT NOT NULL,
    impact TEXT NOT NULL,
    risk TEXT NOT NULL,
    affected INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    keep_until INTEGER NOT NULL
);
CREATE INDEX incidents_tenant ON incidents(tenant_id, discovered_at);

-- The (tenant, store, category) triples an incident covers, categories expanded to the
-- policy's descendants: the impact query joins fields to these rows.
CREATE TABLE incident_scope (
    incident_id TEXT NOT NULL REFERENCES incidents(id),
    tenant_id TEXT NOT NULL,
    store TEXT NOT NULL,
    category TEXT NOT NULL,
    PRIMARY KEY (incident_id, tenant_id, store, category)
);

-- Who was affected, by pseudonymous subject id (no identifier, no value), frozen at
-- assessment so that later erasures do not change the record.
CREATE TABLE incident_subjects (
    incident_id TEXT NOT NULL REFERENCES incidents(id),
    tenant_id TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    residence TEXT,
    PRIMARY KEY (incident_id, subject_id)
);

-- Who was told, when, by whom: tracked against each deadline.
CREATE TABLE incident_notifications (
    id TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL REFERENCES incidents(id),
    tenant_id TEXT NOT NULL,
    audience TEXT NOT NULL,
    at INTEGER NOT NULL,
    recorded_at INTEGER NOT NULL,
    recorded_by TEXT NOT NULL,
    queued INTEGER NOT NULL,
    note TEXT NOT NULL
);
CREATE INDEX incident_notifications_incident ON incident_notifications(incident_id, at);
