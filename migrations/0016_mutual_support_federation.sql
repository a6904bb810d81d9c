-- Mutual support across instances: the poster's replies to answers (sent back to a remote
-- answerer), conversation requests to and from other instances, and their notification.

-- A reply of the poster to one answer; it is read by that answer's author (and, when the
-- answer is public, by everyone who reads the item).
ALTER TABLE board_answers ADD COLUMN in_reply_to_id BIGINT REFERENCES board_answers (id)
    ON DELETE CASCADE;

-- A request received from another instance keeps its ActivityPub id (a replay changes
-- nothing); the group may be a remote one (a group of another instance both people belong to).
ALTER TABLE conversation_requests ADD COLUMN uri TEXT UNIQUE;
ALTER TABLE conversation_requests DROP CONSTRAINT conversation_requests_group_id_fkey;
ALTER TABLE conversation_requests ADD CONSTRAINT conversation_requests_group_id_fkey
    FOREIGN KEY (group_id) REFERENCES actors (id) ON DELETE CASCADE;

INSERT INTO notification_kinds
    (kind, label_en, label_fr, grouped_en, grouped_fr, default_delivery, api_type)
VALUES
    ('conversation_request', '{actor} asks you for a conversation ({group}): {subject}',
     '{actor} vous propose d''échanger ({group}) : {subject}', NULL, NULL, 'email', NULL);

-- Library items and goals of other instances' groups, kept here for who may read them: the
-- group may be a remote public group (no row in groups), so they name its actor.
ALTER TABLE resources ADD COLUMN uri TEXT UNIQUE;   -- ActivityPub id of a remote item
ALTER TABLE resources ADD COLUMN url TEXT;          -- its page on its instance
ALTER TABLE resources DROP CONSTRAINT resources_group_id_fkey;
ALTER TABLE resources ADD CONSTRAINT resources_group_id_fkey
    FOREIGN KEY (group_id) REFERENCES actors (id) ON DELETE CASCADE;
ALTER TABLE goals ADD COLUMN uri TEXT UNIQUE;
ALTER TABLE goals ADD COLUMN url TEXT;
ALTER TABLE goals DROP CONSTRAINT goals_group_id_fkey;
ALTER TABLE goals ADD CONSTRAINT goals_group_id_fkey
    FOREIGN KEY (group_id) REFERENCES actors (id) ON DELETE CASCADE;
ALTER TABLE goal_updates ADD COLUMN uri TEXT UNIQUE;
