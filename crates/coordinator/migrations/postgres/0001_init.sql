-- Times are milliseconds since the Unix epoch (BIGINT), taken from the
-- coordinator's clock, so PostgreSQL and SQLite behave the same.
CREATE TABLE requests (
    request_id BIGINT PRIMARY KEY,
    body TEXT NOT NULL,
    artifact_checksum TEXT NOT NULL,
    status TEXT NOT NULL,
    error_category TEXT,
    error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE jobs (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id BIGINT NOT NULL REFERENCES requests (request_id),
    job_type TEXT NOT NULL,
    state TEXT NOT NULL,
    worker_id TEXT,
    lease_token TEXT,
    lease_expires_at BIGINT,
    attempt BIGINT NOT NULL DEFAULT 0,
    error_category TEXT,
    error TEXT,
    output_summary TEXT,
    metrics TEXT,
    actual_cost TEXT,
    enqueued_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (request_id, job_type)
);
CREATE INDEX jobs_pending ON jobs (state, job_type, id);
CREATE INDEX jobs_leases ON jobs (state, lease_expires_at);

CREATE TABLE worker_tokens (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

CREATE TABLE workers (
    worker_id TEXT PRIMARY KEY,
    token_name TEXT NOT NULL,
    status TEXT NOT NULL,
    capabilities TEXT NOT NULL,
    version TEXT,
    last_seen BIGINT NOT NULL
);

CREATE TABLE locks (
    lock_key TEXT PRIMARY KEY,
    owner_token TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE artifacts (
    checksum TEXT PRIMARY KEY,
    content_sha256 TEXT NOT NULL,
    size BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    last_access BIGINT NOT NULL
);

CREATE TABLE cursors (
    name TEXT PRIMARY KEY,
    block_height BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
