-- The end of a request on chain, for the public timeline: the operator's
-- resolve_execution transaction (reported by the worker that sent it) and
-- the contract's settlement (reported by an event monitor that saw
-- execution_completed). settled_success is 1 or 0; amounts are yoctoNEAR
-- as decimal text, like jobs.actual_cost.
ALTER TABLE requests ADD COLUMN resolve_tx_hash TEXT;
ALTER TABLE requests ADD COLUMN resolve_submitted_at BIGINT;
ALTER TABLE requests ADD COLUMN settled_block BIGINT;
ALTER TABLE requests ADD COLUMN settled_success BIGINT;
ALTER TABLE requests ADD COLUMN settled_charged TEXT;
ALTER TABLE requests ADD COLUMN settled_refunded TEXT;
