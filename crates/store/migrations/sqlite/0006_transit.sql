-- Transit processing (issue 4): what the NCTS phase 5 trader interface needs beyond 0005.
-- Keep in step with ../postgres/0006_transit.sql: the same tables, columns and meaning.

-- MRN serials: one counter per (administration, year of acceptance). The serial is taken in
-- the transaction that accepts the declaration, so an MRN is never allocated twice (and
-- movements_mrn stays the last line of defence).
CREATE TABLE transit_mrn_counters (
    tenant       TEXT NOT NULL REFERENCES tenants(code),
    year         BIGINT NOT NULL,
    last_serial  BIGINT NOT NULL,
    PRIMARY KEY (tenant, year)
);

-- Every trader message received, by its sender (the authenticated trader) and the sender's
-- messageIdentification: a repeat with the same content hash is the same message (idempotent),
-- with another content it is NCTS error 26.
CREATE TABLE transit_inbound_messages (
    sender                  TEXT NOT NULL,
    message_identification  TEXT NOT NULL,
    movement_id             TEXT NOT NULL REFERENCES movements(id),
    message_id              TEXT NOT NULL,
    content_hash            BLOB NOT NULL,
    PRIMARY KEY (sender, message_identification)
);

-- A rejected declaration (CC056C) does not hold its LRN: the trader may lodge the corrected
-- declaration under the same LRN, and the rejected one stays stored with it.
DROP INDEX movements_lrn;
CREATE UNIQUE INDEX movements_lrn ON movements(tenant, holder, lrn)
    WHERE kind = 'departure' AND state <> 'rejected';
