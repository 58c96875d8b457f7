-- Issue 9: API keys may expire, and record which key made them; failed
-- authentication, forbidden and cross-tenant attempts are kept as security events.
ALTER TABLE api_keys ADD COLUMN expires_at BIGINT;
ALTER TABLE api_keys ADD COLUMN created_by TEXT;

-- One row per attempt: no secret, no personal data, no raw path or query (the route
-- template only). `key_id` is the id part of a presented token that parses as a Vow
-- key; `key_tenant` the tenant of a known key; `tenant_id` the tenant asked for.
-- Bounded by rate limits per source, a retention and a row cap (docs/security.md).
CREATE TABLE security_events (
    seq BIGSERIAL PRIMARY KEY,
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    reason TEXT NOT NULL,
    key_id TEXT,
    key_tenant TEXT,
    tenant_id TEXT,
    method TEXT NOT NULL,
    route TEXT NOT NULL
);
CREATE INDEX security_events_at ON security_events(at);
CREATE INDEX security_events_tenant ON security_events(tenant_id, at);
CREATE INDEX security_events_key_tenant ON security_events(key_tenant, at);
