-- Issue 10: a Global Privacy Control signal (Sec-GPC: 1) from a browser that no one
-- is identified in is recorded once per tenant and browser. The browser is a random
-- id in a cookie; the store keeps only an HMAC of it (under a key derived from the
-- root key), never the id, an address or a user agent.
CREATE TABLE gpc_browsers (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    browser TEXT NOT NULL,
    recorded_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, browser)
);
