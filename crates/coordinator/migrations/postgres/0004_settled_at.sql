-- When the coordinator recorded the contract's settlement of a request
-- (milliseconds, the coordinator's clock, like created_at, which is when it
-- first heard of the request): the dashboard's request → settlement
-- latency is settled_at - created_at, one clock at both ends. Set by the
-- first report only; a repeat keeps it. Rows settled before this migration
-- keep NULL (their time was not recorded).
ALTER TABLE requests ADD COLUMN settled_at BIGINT;
