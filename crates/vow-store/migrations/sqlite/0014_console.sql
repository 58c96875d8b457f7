-- Issue 10, the console: sign-in sessions of the privacy team, and the breach notices
-- mailed to affected people.

-- A console session: the SHA-256 of its random token (the token itself is only in
-- the browser's cookie), the API key it was made from (re-checked on every request,
-- so a revoked or expired key ends its sessions at once), and its two clocks.
CREATE TABLE console_sessions (
    token_hash BLOB PRIMARY KEY,
    key_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX console_sessions_key ON console_sessions(key_id);

-- Who was mailed an incident's notice to individuals: one row per affected person,
-- claimed (`sending`) before the mail leaves, so a repeated or resumed action mails
-- nobody twice. `sent`, `failed` (retried by the next action), `erased` or `no_email`
-- (never mailed). Pseudonymous subject ids only.
CREATE TABLE incident_mailings (
    incident_id TEXT NOT NULL REFERENCES incidents(id),
    subject_id TEXT NOT NULL,
    state TEXT NOT NULL,
    at INTEGER NOT NULL,
    message_id TEXT,
    PRIMARY KEY (incident_id, subject_id)
);
