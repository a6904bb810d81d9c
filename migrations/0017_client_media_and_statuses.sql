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

-- Events, petitions, mobilizations and needs/offers read as statuses in apps' timelines. Their
-- status id comes from the posts' own sequence, so that posts and these things share one id
-- space and sort together by the order they were published in (Mastodon's pagination is by id).
ALTER TABLE events ADD COLUMN status_id BIGINT NOT NULL DEFAULT nextval('posts_id_seq');
ALTER TABLE petitions ADD COLUMN status_id BIGINT NOT NULL DEFAULT nextval('posts_id_seq');
ALTER TABLE mobilizations ADD COLUMN status_id BIGINT NOT NULL DEFAULT nextval('posts_id_seq');
ALTER TABLE board_items ADD COLUMN status_id BIGINT NOT NULL DEFAULT nextval('posts_id_seq');
CREATE UNIQUE INDEX events_status ON events (status_id);
CREATE UNIQUE INDEX petitions_status ON petitions (status_id);
CREATE UNIQUE INDEX mobilizations_status ON mobilizations (status_id);
CREATE UNIQUE INDEX board_items_status ON board_items (status_id);
