-- Per-tenant audit chains (issue 12). Each tenant's entries chain on their own under
-- their own head row, so tenants append without waiting on one another (on
-- PostgreSQL, several `vow serve` processes write in parallel). Entries with no
-- tenant, every entry written before this migration, the record of each chain's
-- start and the heads records of checkpoints form the store's chain, named ''.
-- `seq` stays the row's id; `pos` is the entry's place in its chain, and is what the
-- entry's hash covers (for the entries moved here, pos = seq: their hashes hold).
ALTER TABLE audit ADD COLUMN chain TEXT NOT NULL DEFAULT '';
ALTER TABLE audit ADD COLUMN pos INTEGER NOT NULL DEFAULT 0;
UPDATE audit SET pos = seq;
CREATE UNIQUE INDEX audit_chain_pos ON audit (chain, pos);

CREATE TABLE audit_heads (
    chain TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    hash BLOB NOT NULL,
    at INTEGER NOT NULL,
    sig BLOB
);
INSERT INTO audit_heads (chain, seq, hash, at, sig)
    SELECT '', seq, hash, at, sig FROM audit_head WHERE id = 1;
DROP TABLE audit_head;

-- A checkpoint signs the store's chain at an `audit.heads` record that names every
-- chain's head; `entries` counts the entries of all chains then (for "due").
ALTER TABLE audit_checkpoints ADD COLUMN entries INTEGER;
UPDATE audit_checkpoints SET entries = seq;
