-- A request's clock may stand still where the applicable law allows it (e.g. UK GDPR
-- while the controller waits for information it needs to clarify the request).
ALTER TABLE requests ADD COLUMN paused_at BIGINT;
