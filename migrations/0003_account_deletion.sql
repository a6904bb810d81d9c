-- A deleted account keeps its actor row and keys (to sign its Delete, and to answer 410 Gone
-- at its id), loses everything else.
ALTER TABLE accounts DROP CONSTRAINT accounts_status_check;
ALTER TABLE accounts ADD CONSTRAINT accounts_status_check
    CHECK (status IN ('active', 'pending', 'disabled', 'deleted'));
