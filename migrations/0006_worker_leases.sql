-- Leases that end with their worker (server/leases.py). Each worker holds a session-level
-- advisory lock on a key from `worker_keys` for as long as it lives, and stamps that key on the
-- jobs and deliveries it claims. When a worker dies, PostgreSQL ends its session and frees the
-- lock: the next claim takes its rows back at once instead of waiting minutes for run_at.
CREATE SEQUENCE worker_keys AS integer CYCLE;

ALTER TABLE jobs ADD COLUMN claimed_by INTEGER;
ALTER TABLE deliveries ADD COLUMN claimed_by INTEGER;

-- Only rows in flight carry a key: every claim looks through these, and only these.
CREATE INDEX jobs_claimed_by ON jobs (claimed_by) WHERE claimed_by IS NOT NULL;
CREATE INDEX deliveries_claimed_by ON deliveries (claimed_by) WHERE claimed_by IS NOT NULL;
