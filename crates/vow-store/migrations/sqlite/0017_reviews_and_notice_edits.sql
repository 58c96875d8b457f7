-- Issue 10: an agent's or parent's document is not taken as authority until the
-- privacy team has looked at it. `review`: pending (awaiting review), accepted or
-- rejected; a request with a pending document cannot be fulfilled. Documents kept
-- before this migration await review too: none was ever reviewed.
ALTER TABLE request_documents ADD COLUMN review TEXT NOT NULL DEFAULT 'pending';
ALTER TABLE request_documents ADD COLUMN reviewed_at INTEGER;

-- Issue 10: the privacy team's own text of an incident's notice to one audience
-- (today: individuals), replacing the generated draft when it is shown and mailed.
-- The text is the organisation's general notice, addressed to no one in particular.
CREATE TABLE incident_notice_edits (
    incident_id TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    audience TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    edited_at INTEGER NOT NULL,
    edited_by TEXT NOT NULL,
    PRIMARY KEY (incident_id, tenant_id, audience)
);
