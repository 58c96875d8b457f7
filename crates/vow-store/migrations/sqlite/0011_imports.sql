-- Issue 9: imports commit in batches, so that no reader or writer waits behind a
-- whole import. An import's subjects are written with status 'importing' and its
-- id: no lookup, read, report or sweep sees them until the import commits, when
-- they all become active in one statement; if it fails, or its process dies, they
-- are removed. The heartbeat tells a live import from an abandoned one.
CREATE TABLE imports (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    actor TEXT NOT NULL,
    state TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL,
    finished_at INTEGER,
    imported INTEGER NOT NULL DEFAULT 0,
    bad_rows INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX imports_state ON imports(state, heartbeat_at);
CREATE INDEX imports_tenant ON imports(tenant_id, started_at);

ALTER TABLE subjects ADD COLUMN import_id TEXT;
-- Only the subjects of imports still running: small, and empty most of the time.
CREATE INDEX subjects_importing ON subjects(import_id, tenant_id, id) WHERE status = 'importing';
