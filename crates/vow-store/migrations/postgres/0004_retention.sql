-- Retention (R6): when a person's relationship with the organisation ended (a clock
-- of the policy's retention rules), and the record of each retention run: counts per
-- rule, never an identifier.

ALTER TABLE subjects ADD COLUMN relationship_ended_at BIGINT;

CREATE TABLE retention_runs (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    started_at BIGINT NOT NULL,
    -- NULL while the run is under way (or if it stopped part way: a rerun continues).
    finished_at BIGINT,
    dry_run BIGINT NOT NULL,
    actor TEXT NOT NULL,
    policy_version BIGINT NOT NULL,
    fields_destroyed BIGINT NOT NULL,
    subjects_shredded BIGINT NOT NULL,
    held BIGINT NOT NULL,
    -- JSON: per rule of the policy, its description and the three counts.
    rules TEXT NOT NULL
);
CREATE INDEX retention_runs_tenant ON retention_runs(tenant_id, started_at);

-- A sweep walks a tenant's active people in id order, a batch at a time.
CREATE INDEX subjects_tenant_status ON subjects(tenant_id, status, id);

-- The last purpose-bound read of a person starts the `last_activity` clock.
CREATE INDEX audit_reads ON audit(subject_id, at) WHERE action = 'read';
