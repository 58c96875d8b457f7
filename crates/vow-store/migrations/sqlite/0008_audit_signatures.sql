-- The audit chain's head is signed (Ed25519, under a key derived from the root key):
-- the time of its last entry and the signature over (seq, hash, at). A head rewritten
-- without the root key no longer verifies. NULL until the engine first signs it.
ALTER TABLE audit_head ADD COLUMN at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE audit_head ADD COLUMN sig BLOB;

-- Signed checkpoints of the chain, as published to the witnesses outside the store
-- (the newest is shown in the self-assessment; the interval is counted from it).
CREATE TABLE audit_checkpoints (
    seq INTEGER PRIMARY KEY,
    hash BLOB NOT NULL,
    at INTEGER NOT NULL,
    sig BLOB NOT NULL
);
