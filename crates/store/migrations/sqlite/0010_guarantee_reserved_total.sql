-- The running total of a guarantee's current reservations, kept on its row by every
-- reservation and release under the row's lock (a decimal as text, like the amounts), so that
-- a reservation no longer sums every open reservation of the guarantee (a comprehensive
-- guarantee holds one per movement in progress). NULL on rows from before this migration:
-- the next reservation or release computes it once from the reservations and keeps it.
-- Keep in step with the other backend's 0010_guarantee_reserved_total.sql.
ALTER TABLE guarantees ADD COLUMN reserved_total TEXT;
