-- Declarations: reference data, authorisations, guarantees, movements (PostgreSQL).
-- Keep in step with ../sqlite/0005_declarations.sql: the same tables, columns and meaning.
-- Declarations (issue 4) at the storage level: NCTS reference data, authorisations,
-- guarantees with their reservations, and transit movements with their messages and history.
-- Amounts are decimal text (exact); times are RFC 3339 UTC text; dates are YYYY-MM-DD text.

-- Reference data is common to every administration (the NCTS customs office list and code
-- lists). Every import is recorded; an import replaces the list it brings, in one transaction.
CREATE TABLE refdata_imports (
    id           TEXT PRIMARY KEY,
    list_name    TEXT NOT NULL,
    source       TEXT NOT NULL,
    entries      BIGINT NOT NULL,
    imported_by  TEXT NOT NULL,
    imported_at  TEXT NOT NULL
);
CREATE INDEX refdata_imports_list ON refdata_imports(list_name, imported_at);

-- The customs office list (COL). roles lists the distinct roles, comma-separated, for display;
-- refdata_office_roles holds them one per row (with the traffic type) for checks.
CREATE TABLE refdata_offices (
    reference         TEXT PRIMARY KEY,
    country           TEXT NOT NULL,
    name              TEXT NOT NULL,
    city              TEXT,
    postal_code       TEXT,
    unlocode          TEXT,
    main_office       TEXT,
    trader_dedicated  BIGINT NOT NULL,
    roles             TEXT NOT NULL,
    valid_from        TEXT NOT NULL,
    valid_to          TEXT,
    import_id         TEXT NOT NULL REFERENCES refdata_imports(id)
);
CREATE INDEX refdata_offices_country ON refdata_offices(country, reference);

CREATE TABLE refdata_office_roles (
    reference     TEXT NOT NULL REFERENCES refdata_offices(reference) ON DELETE CASCADE,
    role          TEXT NOT NULL,
    traffic_type  TEXT NOT NULL,
    PRIMARY KEY (reference, role, traffic_type)
);

-- The catalogue of code lists (code_lists.csv: number and title, e.g. CL008,
-- CountryCodesFullList) and their entries, by list name (the title, as the COL names them).
CREATE TABLE refdata_code_lists (
    number     TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    import_id  TEXT NOT NULL REFERENCES refdata_imports(id)
);
CREATE INDEX refdata_code_lists_name ON refdata_code_lists(name);

CREATE TABLE refdata_codes (
    list_name    TEXT NOT NULL,
    code         TEXT NOT NULL,
    description  TEXT NOT NULL,
    valid_from   TEXT NOT NULL,
    valid_to     TEXT,
    import_id    TEXT NOT NULL REFERENCES refdata_imports(id),
    PRIMARY KEY (list_name, code)
);

-- Authorisations held by traders (C521 authorised consignor, C505 comprehensive guarantee…),
-- registered by an administration.
CREATE TABLE authorisations (
    id           TEXT PRIMARY KEY,
    tenant       TEXT NOT NULL REFERENCES tenants(code),
    holder       TEXT NOT NULL,
    type_code    TEXT NOT NULL,
    reference    TEXT NOT NULL,
    valid_from   TEXT NOT NULL,
    valid_until  TEXT,
    created_by   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    revoked_by   TEXT,
    revoked_at   TEXT,
    UNIQUE (tenant, type_code, reference)
);
CREATE INDEX authorisations_holder ON authorisations(holder, type_code);

-- Guarantees by guarantee reference number. Only a hash of the access code is kept. Every
-- reservation or release first updates the guarantee row (version), which serialises them
-- (row lock on PostgreSQL, the write lock on SQLite), and only then sums the reservations.
CREATE TABLE guarantees (
    grn               TEXT PRIMARY KEY,
    tenant            TEXT NOT NULL REFERENCES tenants(code),
    guarantee_type    TEXT NOT NULL,
    access_code_hash  TEXT NOT NULL,
    reference_amount  TEXT NOT NULL,
    currency          TEXT NOT NULL,
    holder            TEXT NOT NULL,
    valid_from        TEXT NOT NULL,
    valid_until       TEXT,
    version           BIGINT NOT NULL,
    created_by        TEXT NOT NULL,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
CREATE INDEX guarantees_tenant ON guarantees(tenant, grn);
CREATE INDEX guarantees_holder ON guarantees(holder, grn);

CREATE TABLE guarantee_reservations (
    id           TEXT PRIMARY KEY,
    grn          TEXT NOT NULL REFERENCES guarantees(grn),
    tenant       TEXT NOT NULL,
    movement_id  TEXT NOT NULL,
    amount       TEXT NOT NULL,
    state        TEXT NOT NULL,
    reserved_at  TEXT NOT NULL,
    released_at  TEXT,
    UNIQUE (grn, movement_id)
);
CREATE INDEX guarantee_reservations_movement ON guarantee_reservations(movement_id);

-- Transit movements (departures and arrivals). A movement belongs to the administration of its
-- office of departure (an arrival: of destination). version is the optimistic lock.
CREATE TABLE movements (
    id                     TEXT PRIMARY KEY,
    tenant                 TEXT NOT NULL REFERENCES tenants(code),
    kind                   TEXT NOT NULL,
    lrn                    TEXT,
    mrn                    TEXT,
    holder                 TEXT NOT NULL,
    office_of_departure    TEXT,
    office_of_destination  TEXT,
    state                  TEXT NOT NULL,
    version                BIGINT NOT NULL,
    created_at             TEXT NOT NULL,
    updated_at             TEXT NOT NULL
);
-- The LRN is unique per declarant; an MRN names one departure.
CREATE UNIQUE INDEX movements_lrn ON movements(tenant, holder, lrn) WHERE kind = 'departure';
CREATE UNIQUE INDEX movements_mrn ON movements(mrn) WHERE kind = 'departure' AND mrn IS NOT NULL;
CREATE INDEX movements_tenant ON movements(tenant, id);
CREATE INDEX movements_holder ON movements(holder, id);

-- Every message of a movement, inbound (from the trader) or outbound (generated), as an opaque
-- body with typed columns. The sender's message identification is unique per movement and
-- direction, so that a repeat is recognised (same content hash: the same message).
CREATE TABLE movement_messages (
    id                      TEXT PRIMARY KEY,
    movement_id             TEXT NOT NULL REFERENCES movements(id),
    tenant                  TEXT NOT NULL,
    seq                     BIGINT NOT NULL,
    message_type            TEXT NOT NULL,
    direction               TEXT NOT NULL,
    message_identification  TEXT NOT NULL,
    content_type            TEXT NOT NULL,
    content_hash            BYTEA NOT NULL,
    body                    TEXT NOT NULL,
    at                      TEXT NOT NULL,
    UNIQUE (movement_id, seq),
    UNIQUE (movement_id, direction, message_identification)
);

-- Who did what and when: one row per state change or action on a movement.
CREATE TABLE movement_history (
    movement_id  TEXT NOT NULL REFERENCES movements(id),
    seq          BIGINT NOT NULL,
    tenant       TEXT NOT NULL,
    from_state   TEXT,
    to_state     TEXT NOT NULL,
    actor        TEXT NOT NULL,
    action       TEXT NOT NULL,
    message_id   TEXT,
    at           TEXT NOT NULL,
    detail       TEXT,
    PRIMARY KEY (movement_id, seq)
);
