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

-- Pictures of a post, up to four: [{"url", "media_type", "alt", "width", "height"}]; a local
-- picture's url is its file name under uploads/pictures, a remote one's is https://.
ALTER TABLE posts ADD COLUMN attachments JSONB NOT NULL DEFAULT '[]';
-- The author marked the post sensitive (Mastodon's `sensitive`): its pictures stay hidden
-- until the reader asks, even without a content warning.
ALTER TABLE posts ADD COLUMN sensitive BOOLEAN NOT NULL DEFAULT false;
-- A group's header image (file name under uploads/pictures), the actor's `image`.
ALTER TABLE actors ADD COLUMN header TEXT;
