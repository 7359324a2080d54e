-- National measures: drafts of changes to an administration's national tariff layer, decided
-- by a second officer (four eyes), and the SID counter of national measures (sqlite).
-- Keep in step with ../postgres/0003_national_measures.sql: the same tables, columns and meaning.

-- One row per draft. status: draft -> submitted -> approved | rejected; draft or submitted ->
-- withdrawn. version counts every change of the row (optimistic concurrency). On approval,
-- import_id is the tariff import that wrote the measure into the national layer and
-- measure_sid the measure written (the new one for a create or a modify of a measure in force).
CREATE TABLE national_measure_drafts (
    id           TEXT PRIMARY KEY,
    tenant       TEXT NOT NULL REFERENCES tenants(code),
    operation    TEXT NOT NULL,
    target_sid   BIGINT,
    payload      TEXT NOT NULL,
    status       TEXT NOT NULL,
    drafted_by   TEXT NOT NULL,
    drafted_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    decided_by   TEXT,
    decided_at   TEXT,
    reason       TEXT,
    import_id    TEXT REFERENCES tariff_imports(id),
    measure_sid  BIGINT,
    version      BIGINT NOT NULL
);
CREATE INDEX national_measure_drafts_tenant ON national_measure_drafts(tenant, id);
CREATE INDEX national_measure_drafts_status ON national_measure_drafts(tenant, status, id);

-- The last sequence number handed out per administration; SIDs are computed from it (see
-- crates/store/src/national_measures.rs).
CREATE TABLE national_measure_sids (
    tenant    TEXT PRIMARY KEY REFERENCES tenants(code),
    last_seq  BIGINT NOT NULL
);
