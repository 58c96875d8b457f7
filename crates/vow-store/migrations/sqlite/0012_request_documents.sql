-- Documents uploaded with a request on the portal (issue 10): an authorised agent's
-- power of attorney or signed permission, a parent's evidence of parental authority.
-- The file is sealed under the request's own key (never plaintext at rest); only its
-- type (pdf, png, jpeg) and size are in the clear.
CREATE TABLE request_documents (
    id TEXT PRIMARY KEY,
    request_id TEXT NOT NULL REFERENCES requests(id),
    kind TEXT NOT NULL,
    size INTEGER NOT NULL,
    sealed BLOB NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX request_documents_request ON request_documents(request_id);
