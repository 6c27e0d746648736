-- What the public request views and stats read without parsing JSON:
-- claim and finish times, the reported metrics as numbers, and the
-- request's accounts and source for filtering. Rows written before this
-- migration are filled in by the store when it opens (it parses their
-- JSON), so both engines run the same SQL.
ALTER TABLE jobs ADD COLUMN claimed_at BIGINT;
ALTER TABLE jobs ADD COLUMN finished_at BIGINT;
ALTER TABLE jobs ADD COLUMN instructions BIGINT;
ALTER TABLE jobs ADD COLUMN time_ms BIGINT;
-- Build time this job spent building (an execute job repeating its
-- compile job's time is not counted twice).
ALTER TABLE jobs ADD COLUMN compile_ms BIGINT;
UPDATE jobs SET finished_at = updated_at WHERE state IN ('completed', 'failed');
CREATE INDEX jobs_worker ON jobs (worker_id, state);

ALTER TABLE requests ADD COLUMN sender_id TEXT;
ALTER TABLE requests ADD COLUMN payer_id TEXT;
-- The repository or URL the program comes from.
ALTER TABLE requests ADD COLUMN source TEXT;
CREATE INDEX requests_sender ON requests (sender_id, request_id);
CREATE INDEX requests_payer ON requests (payer_id, request_id);
CREATE INDEX requests_status ON requests (status, request_id);
