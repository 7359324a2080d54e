-- Tariff layers, their imports and history, and monthly exchange rates (PostgreSQL).
-- Keep in step with ../sqlite/0002_tariff.sql: the same tables, columns and meaning.
-- kind and record_key use the "C" collation so that (kind, key) order is byte order, as on SQLite.
-- A layer is "common" (shared by every administration) or an administration's code.

-- One row per layer: its import sequence. Imports and rollbacks of a layer update this row
-- first, which serialises them (row lock on PostgreSQL, the write lock on SQLite).
CREATE TABLE tariff_layers (
    layer     TEXT COLLATE "C" PRIMARY KEY,
    head_seq  BIGINT NOT NULL
);

CREATE TABLE tariff_imports (
    id              TEXT PRIMARY KEY,
    layer           TEXT NOT NULL,
    seq             BIGINT NOT NULL,
    source          TEXT NOT NULL,
    format          TEXT NOT NULL,
    status          TEXT NOT NULL,
    inserted        BIGINT NOT NULL,
    updated         BIGINT NOT NULL,
    deleted         BIGINT NOT NULL,
    created_at      TEXT NOT NULL,
    rolled_back_at  TEXT,
    UNIQUE (layer, seq)
);

-- Every version of every record. The current version of (layer, kind, record_key) is the one
-- not superseded; an import that updates or deletes a record sets superseded_by on it.
CREATE TABLE tariff_records (
    layer          TEXT COLLATE "C" NOT NULL,
    kind           TEXT COLLATE "C" NOT NULL,
    record_key     TEXT COLLATE "C" NOT NULL,
    version        BIGINT NOT NULL,
    valid_from     TEXT,
    valid_to       TEXT,
    payload        TEXT NOT NULL,
    created_by     TEXT NOT NULL REFERENCES tariff_imports(id),
    superseded_by  TEXT REFERENCES tariff_imports(id),
    PRIMARY KEY (layer, kind, record_key, version)
);
CREATE UNIQUE INDEX tariff_records_current ON tariff_records(layer, kind, record_key)
    WHERE superseded_by IS NULL;
CREATE INDEX tariff_records_created_by ON tariff_records(created_by);
CREATE INDEX tariff_records_superseded_by ON tariff_records(superseded_by);

-- EUR -> currency, one rate per calendar month (month = its first day, YYYY-MM-DD).
CREATE TABLE exchange_rates (
    currency    TEXT NOT NULL,
    month       TEXT NOT NULL,
    rate        TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (currency, month)
);
