-- A declaration rejected on its business rules is stored (its message as received, DMSRCV and
-- DMSREJ) but does not hold its LRN: the declarant may lodge the corrected declaration under
-- the same LRN. The LRN stays unique per declarant among the declarations not rejected.
-- Keep in step with the other backend's 0008_dms_rejected_lrn.sql.
DROP INDEX dms_declarations_lrn;
CREATE UNIQUE INDEX dms_declarations_lrn_live ON dms_declarations(declarant, lrn)
    WHERE state <> 'rejected';
CREATE INDEX dms_declarations_lrn ON dms_declarations(declarant, lrn, id);
