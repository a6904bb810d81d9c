-- Indexes for the pages read most: a group's first page and its older pages, like counts,
-- member counts (measured with bench/pages.py).
CREATE INDEX likes_post ON likes (post_id);
CREATE INDEX posts_group_top ON posts (group_id, id DESC)
    WHERE deleted_at IS NULL AND in_reply_to_id IS NULL;
CREATE INDEX memberships_group_active ON memberships (group_id) WHERE state = 'active';
