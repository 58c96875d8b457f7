-- Issue 9: rotating a recipient's signing secret with an overlap window. While
-- `previous_until` (Unix ms) is in the future, every delivery is signed with the
-- current secret and with the previous one, so a receiver can switch secrets without
-- rejecting anything. The previous secret is sealed under the same KEK version as the
-- current one (`kek_version`, re-sealed together by a key rotation) with its own
-- associated data, and both columns are cleared once the window has ended.
ALTER TABLE webhook_endpoints ADD COLUMN previous_sealed BLOB;
ALTER TABLE webhook_endpoints ADD COLUMN previous_until INTEGER;
