-- Issue 10: appeals (RULES.md VA-02, CO-03, CT-03). An appeal is a request of its
-- own (its own row in `requests`, its own deadline from the rule packs); this table
-- links it to the denied request it appeals. One appeal per denial.
CREATE TABLE request_appeals (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    request_id TEXT NOT NULL,
    appeal_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, request_id)
);
CREATE UNIQUE INDEX request_appeals_appeal ON request_appeals(tenant_id, appeal_id);
