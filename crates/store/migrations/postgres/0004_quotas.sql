-- Tariff quotas drawn by an administration (PostgreSQL).
-- Keep in step with ../sqlite/0004_quotas.sql: the same tables, columns and meaning.
-- Quantities are decimal text (exact); times are RFC 3339 UTC text.

-- One row per (administration, quota definition): the balance being drawn. Every drawing
-- or return first updates this row, which serialises them (row lock on PostgreSQL, the
-- write lock on SQLite). version counts the changes; it is the seq of the latest history row.
CREATE TABLE quota_balances (
    tenant          TEXT NOT NULL,
    definition_sid  BIGINT NOT NULL,
    order_number    TEXT NOT NULL,
    volume          TEXT NOT NULL,
    balance         TEXT NOT NULL,
    allocated       TEXT NOT NULL,
    returned        TEXT NOT NULL,
    version         BIGINT NOT NULL,
    updated_at      TEXT NOT NULL,
    PRIMARY KEY (tenant, definition_sid)
);

-- Every change of a balance: seq 0 is the opening balance; then allocations (negative
-- delta), returns (positive) and volume changes. balance_after = previous + delta.
CREATE TABLE quota_balance_history (
    tenant          TEXT NOT NULL,
    definition_sid  BIGINT NOT NULL,
    seq             BIGINT NOT NULL,
    order_number    TEXT NOT NULL,
    occurred_at     TEXT NOT NULL,
    delta           TEXT NOT NULL,
    balance_after   TEXT NOT NULL,
    reason          TEXT NOT NULL,
    reference       TEXT,
    PRIMARY KEY (tenant, definition_sid, seq)
);

-- Requests to draw (from declarations), each with its allocation.
CREATE TABLE quota_allocation_requests (
    id                     TEXT PRIMARY KEY,
    tenant                 TEXT NOT NULL,
    order_number           TEXT NOT NULL,
    definition_sid         BIGINT NOT NULL,
    quantity               TEXT NOT NULL,
    unit                   TEXT NOT NULL,
    accepted_at            TEXT NOT NULL,
    requested_by           TEXT NOT NULL,
    declaration_reference  TEXT,
    created_at             TEXT NOT NULL
);
CREATE INDEX quota_allocation_requests_order ON quota_allocation_requests(tenant, order_number);

CREATE TABLE quota_allocations (
    request_id      TEXT PRIMARY KEY REFERENCES quota_allocation_requests(id),
    tenant          TEXT NOT NULL,
    definition_sid  BIGINT NOT NULL,
    granted         TEXT NOT NULL,
    returned        TEXT NOT NULL,
    status          TEXT NOT NULL,
    balance_after   TEXT NOT NULL,
    created_at      TEXT NOT NULL
);

CREATE TABLE quota_returns (
    id             TEXT PRIMARY KEY,
    tenant         TEXT NOT NULL,
    request_id     TEXT NOT NULL REFERENCES quota_allocations(request_id),
    quantity       TEXT NOT NULL,
    credited       TEXT NOT NULL,
    balance_after  TEXT NOT NULL,
    returned_by    TEXT NOT NULL,
    created_at     TEXT NOT NULL
);
CREATE INDEX quota_returns_request ON quota_returns(request_id);

-- Imported quantities per order number, for statistics (licensed and surveillance quotas).
CREATE TABLE quota_surveillance (
    id                     TEXT PRIMARY KEY,
    tenant                 TEXT NOT NULL,
    order_number           TEXT NOT NULL,
    definition_sid         BIGINT,
    quantity               TEXT NOT NULL,
    unit                   TEXT NOT NULL,
    imported_on            TEXT NOT NULL,
    declaration_reference  TEXT,
    recorded_by            TEXT NOT NULL,
    created_at             TEXT NOT NULL
);
CREATE INDEX quota_surveillance_order ON quota_surveillance(tenant, order_number);
