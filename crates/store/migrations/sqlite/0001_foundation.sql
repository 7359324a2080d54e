-- Portorium foundation schema (SQLite). Keep in step with ../postgres/0001_foundation.sql:
-- the same tables, columns and meaning; only the column type names differ (BLOB/BYTEA, identity).
-- Times are TEXT in fixed-width RFC 3339 UTC with microseconds, so they sort as text.

CREATE TABLE tenants (
    code        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    currency    TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

CREATE TABLE offices (
    reference   TEXT PRIMARY KEY,
    tenant      TEXT NOT NULL REFERENCES tenants(code),
    name        TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX offices_tenant ON offices(tenant, reference);

CREATE TABLE agencies (
    tenant      TEXT NOT NULL REFERENCES tenants(code),
    code        TEXT NOT NULL,
    name        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (tenant, code)
);

CREATE TABLE principals (
    id            TEXT PRIMARY KEY,
    kind          TEXT NOT NULL,
    tenant        TEXT REFERENCES tenants(code),
    office        TEXT REFERENCES offices(reference),
    agency        TEXT,
    display_name  TEXT NOT NULL,
    roles         TEXT NOT NULL,
    password_hash TEXT,
    disabled      BIGINT NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL
);
CREATE INDEX principals_tenant ON principals(tenant, id);

CREATE TABLE traders (
    eori          TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    registered_by TEXT NOT NULL REFERENCES tenants(code),
    created_at    TEXT NOT NULL
);
CREATE INDEX traders_tenant ON traders(registered_by, eori);

CREATE TABLE tokens (
    id          TEXT PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE,
    principal   TEXT NOT NULL REFERENCES principals(id),
    circle      TEXT NOT NULL,
    label       TEXT,
    created_at  TEXT NOT NULL,
    expires_at  TEXT,
    revoked_at  TEXT
);
CREATE INDEX tokens_principal ON tokens(principal, id);

CREATE TABLE sessions (
    id_hash     TEXT PRIMARY KEY,
    principal   TEXT NOT NULL REFERENCES principals(id),
    circle      TEXT NOT NULL,
    csrf_token  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);

CREATE TABLE messages (
    id          TEXT PRIMARY KEY,
    tenant      TEXT NOT NULL REFERENCES tenants(code),
    sender      TEXT NOT NULL,
    addressee   TEXT NOT NULL,
    subject     TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX messages_tenant ON messages(tenant, id);
CREATE INDEX messages_addressee ON messages(addressee, id);

CREATE TABLE idempotency_keys (
    principal     TEXT NOT NULL,
    idem_key      TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    status        BIGINT NOT NULL,
    response      TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    PRIMARY KEY (principal, idem_key)
);

CREATE TABLE outbox (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant        TEXT,
    topic         TEXT NOT NULL,
    payload       TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    published_at  TEXT
);
CREATE INDEX outbox_pending ON outbox(published_at, id);

CREATE TABLE audit_entries (
    seq           BIGINT PRIMARY KEY,
    at            TEXT NOT NULL,
    principal     TEXT,
    tenant        TEXT,
    circle        TEXT,
    action        TEXT NOT NULL,
    resource      TEXT NOT NULL,
    outcome       TEXT NOT NULL,
    request_id    TEXT,
    payload_hash  TEXT,
    detail        TEXT,
    leaf_hash     BLOB NOT NULL
);
CREATE INDEX audit_entries_tenant ON audit_entries(tenant, seq);

CREATE TABLE audit_nodes (
    level   BIGINT NOT NULL,
    idx     BIGINT NOT NULL,
    hash    BLOB NOT NULL,
    PRIMARY KEY (level, idx)
);

CREATE TABLE audit_head (
    id          BIGINT PRIMARY KEY,
    size        BIGINT NOT NULL,
    root        BLOB NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE audit_checkpoints (
    size        BIGINT PRIMARY KEY,
    at          TEXT NOT NULL,
    root        BLOB NOT NULL,
    key_id      TEXT NOT NULL,
    signature   TEXT NOT NULL
);

CREATE TABLE settings (
    name   TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
