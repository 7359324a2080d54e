-- WCO DMS import and export declarations (issue 4): the trader's messages, kept immutable,
-- the assessments and control results beside them, notifications with their webhook
-- delivery state, history and the per-(administration, year) MRN counter.
-- Keep in step with ../postgres/0007_dms.sql: the same tables, columns and meaning.

-- MRN serials of DMS declarations: one counter per (administration, year of acceptance),
-- taken in the transaction that accepts the declaration.
CREATE TABLE dms_mrn_counters (
    tenant       TEXT NOT NULL REFERENCES tenants(code),
    year         BIGINT NOT NULL,
    last_serial  BIGINT NOT NULL,
    PRIMARY KEY (tenant, year)
);

-- A declaration belongs to the administration of its routing office's country and is held by
-- its declarant. `version` counts accepted amendments (1 = the original); `row_version` moves
-- with every change of the row. The lifecycle flags are kept as 0/1.
CREATE TABLE dms_declarations (
    id                    TEXT PRIMARY KEY,
    tenant                TEXT NOT NULL REFERENCES tenants(code),
    conversation_id       TEXT NOT NULL UNIQUE,
    declarant             TEXT NOT NULL,
    lrn                   TEXT NOT NULL,
    mrn                   TEXT,
    direction             TEXT NOT NULL,
    office                TEXT,
    state                 TEXT NOT NULL,
    version               BIGINT NOT NULL,
    duties_assessed       BIGINT NOT NULL,
    cancellation_pending  BIGINT NOT NULL,
    lane                  TEXT,
    row_version           BIGINT NOT NULL,
    created_at            TEXT NOT NULL,
    updated_at            TEXT NOT NULL
);
CREATE UNIQUE INDEX dms_declarations_lrn ON dms_declarations(declarant, lrn);
CREATE UNIQUE INDEX dms_declarations_mrn ON dms_declarations(mrn) WHERE mrn IS NOT NULL;
CREATE INDEX dms_declarations_tenant ON dms_declarations(tenant, state, id);
CREATE INDEX dms_declarations_declarant ON dms_declarations(declarant, id);

-- Every message the trader sent (declaration, amendment, cancellation request): the original
-- XML and its parsed JSON, written once and never updated. `version` is the declaration
-- version the message established (an amendment: the new one).
CREATE TABLE dms_messages (
    declaration_id  TEXT NOT NULL REFERENCES dms_declarations(id),
    seq             BIGINT NOT NULL,
    kind            TEXT NOT NULL,
    version         BIGINT NOT NULL,
    body            TEXT NOT NULL,
    parsed          TEXT NOT NULL,
    received_by     TEXT NOT NULL,
    received_at     TEXT NOT NULL,
    PRIMARY KEY (declaration_id, seq)
);

-- The duties assessed on one version of a declaration (per item lines with formulas), apart
-- from the declared data.
CREATE TABLE dms_assessments (
    declaration_id  TEXT NOT NULL REFERENCES dms_declarations(id),
    version         BIGINT NOT NULL,
    currency        TEXT NOT NULL,
    total           TEXT NOT NULL,
    items           TEXT NOT NULL,
    assessed_at     TEXT NOT NULL,
    PRIMARY KEY (declaration_id, version)
);

-- Quota allocations drawn for a declaration's items (returned on cancellation).
CREATE TABLE dms_quota_allocations (
    declaration_id  TEXT NOT NULL REFERENCES dms_declarations(id),
    request_id      TEXT NOT NULL,
    item            BIGINT NOT NULL,
    version         BIGINT NOT NULL,
    order_number    TEXT NOT NULL,
    definition_sid  BIGINT NOT NULL,
    returned        BIGINT NOT NULL,
    PRIMARY KEY (declaration_id, request_id)
);

-- Control results recorded by officers, apart from the declared and assessed data.
CREATE TABLE dms_control_results (
    declaration_id  TEXT NOT NULL REFERENCES dms_declarations(id),
    seq             BIGINT NOT NULL,
    result          TEXT NOT NULL,
    recorded_by     TEXT NOT NULL,
    recorded_at     TEXT NOT NULL,
    PRIMARY KEY (declaration_id, seq)
);

-- Notifications to the trader (DMS function codes), readable by pull, and pushed to the
-- trader's webhook when one is registered: `delivery` is none (no webhook), pending,
-- delivered or failed (retries exhausted).
CREATE TABLE dms_notifications (
    id               TEXT PRIMARY KEY,
    declaration_id   TEXT NOT NULL REFERENCES dms_declarations(id),
    conversation_id  TEXT NOT NULL,
    seq              BIGINT NOT NULL,
    function_code    TEXT NOT NULL,
    name             TEXT NOT NULL,
    body             TEXT NOT NULL,
    issued_at        TEXT NOT NULL,
    delivery         TEXT NOT NULL,
    attempts         BIGINT NOT NULL,
    next_attempt_at  TEXT,
    delivered_at     TEXT,
    last_error       TEXT,
    UNIQUE (declaration_id, seq)
);
CREATE INDEX dms_notifications_due ON dms_notifications(delivery, next_attempt_at);

-- Who did what when.
CREATE TABLE dms_history (
    declaration_id  TEXT NOT NULL REFERENCES dms_declarations(id),
    seq             BIGINT NOT NULL,
    at              TEXT NOT NULL,
    actor           TEXT NOT NULL,
    action          TEXT NOT NULL,
    from_state      TEXT,
    to_state        TEXT,
    detail          TEXT,
    PRIMARY KEY (declaration_id, seq)
);

-- A trader's notification webhook. The secret signs the pushed bodies (HMAC-SHA256), so it is
-- kept as given: it is the trader's key for checking Portorium, not a credential for it.
CREATE TABLE dms_webhooks (
    trader      TEXT PRIMARY KEY,
    url         TEXT NOT NULL,
    secret      TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
