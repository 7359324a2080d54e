-- The reservations a guarantee holds are summed on every reservation (transit release,
-- guarantee_reserve) under the guarantee's lock: index them by guarantee and state so the sum
-- reads only that guarantee's open reservations instead of scanning the table.
-- Keep in step with the other backend's 0009_guarantee_reservations_grn.sql.
CREATE INDEX guarantee_reservations_grn_state ON guarantee_reservations(grn, state);
