-- Issue 10: an agent's or parent's document is not taken as authority until the
-- privacy team has looked at it. `review`: pending (awaiting review), accepted or
-- rejected; a request with a pending document cannot be fulfilled. Documents kept
-- before this migration await review too: none was ever reviewed.
ALTER TABLE request_documents ADD COLUMN review TEXT NOT NULL DEFAULT 'pending';
ALTER TABLE request_documents ADD COLUMN reviewed_at INTEGER;
