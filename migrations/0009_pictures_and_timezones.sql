-- Follows that could not be made: the person who asked sees why on their "Following" page
-- (the lookup runs in the background, after the form was answered).
CREATE TABLE follow_lookups (
    id BIGSERIAL PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (actor_id) ON DELETE CASCADE,
    handle TEXT NOT NULL,
    reason TEXT NOT NULL CHECK (reason IN ('unreachable', 'not_found', 'refused')),
    failed_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX follow_lookups_account ON follow_lookups (account_id, id DESC);
