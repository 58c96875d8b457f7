-- Per-tenant audit chains (issue 12). Each tenant's entries chain on their own under
-- their own head row, so tenants append without waiting on one another (several
-- `vow serve` processes write in parallel). Entries with no tenant, every entry
-- written before this migration, the record of each chain's start and the heads
-- records of checkpoints form the store's chain, named ''.
-- `seq` stays the row's id (now from a sequence); `pos` is the entry's place in its
-- chain, and is what the entry's hash covers (for the entries moved here, pos = seq).
ALTER TABLE audit ADD COLUMN chain TEXT NOT NULL DEFAULT '';
ALTER TABLE audit ADD COLUMN pos BIGINT NOT NULL DEFAULT 0;
UPDATE audit SET pos = seq;
CREATE UNIQUE INDEX audit_chain_pos ON audit (chain, pos);
CREATE SEQUENCE audit_seq OWNED BY audit.seq;
SELECT setval('audit_seq', COALESCE((SELECT MAX(seq) FROM audit), 0) + 1, false);
ALTER TABLE audit ALTER COLUMN seq SET DEFAULT nextval('audit_seq');

CREATE TABLE audit_heads (
    chain TEXT PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash BYTEA NOT NULL,
    at BIGINT NOT NULL,
    sig BYTEA
);
INSERT INTO audit_heads (chain, seq, hash, at, sig)
    SELECT '', seq, hash, at, sig FROM audit_head WHERE id = 1;
DROP TABLE audit_head;

-- A checkpoint signs the store's chain at an `audit.heads` record that names every
-- chain's head; `entries` counts the entries of all chains then (for "due").
ALTER TABLE audit_checkpoints ADD COLUMN entries BIGINT;
UPDATE audit_checkpoints SET entries = seq;
