-- Pictures uploaded from an app before the status that carries them (Mastodon's
-- POST /api/v2/media): re-encoded as the web form's pictures are, kept as the uploader's own
-- until a status takes them (post_id set), then copied into the post's attachments.
CREATE TABLE media_uploads (
    id BIGSERIAL PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (actor_id) ON DELETE CASCADE,
    file TEXT NOT NULL,                 -- file name under uploads/pictures
    media_type TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    focus_x REAL NOT NULL DEFAULT 0 CHECK (focus_x BETWEEN -1 AND 1),
    focus_y REAL NOT NULL DEFAULT 0 CHECK (focus_y BETWEEN -1 AND 1),
    post_id BIGINT REFERENCES posts (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX media_uploads_account ON media_uploads (account_id, id) WHERE post_id IS NULL;
CREATE INDEX media_uploads_post ON media_uploads (post_id) WHERE post_id IS NOT NULL;
