-- What the directory filters groups by: their topics (the functions of mutual support they
-- serve, ids of server/models.py GROUP_TOPICS), a place in free text and a language (ISO 639-1).
-- On actors rather than groups: remote Entraide groups send them too (FEDERATION.md).
ALTER TABLE actors ADD COLUMN topics TEXT[] NOT NULL DEFAULT '{}';
ALTER TABLE actors ADD COLUMN place TEXT NOT NULL DEFAULT '';
ALTER TABLE actors ADD COLUMN language TEXT;
CREATE INDEX actors_topics ON actors USING GIN (topics) WHERE kind = 'group';

-- A need or offer that matches one of yours; a report for the moderators and administrators.
INSERT INTO notification_kinds
    (kind, label_en, label_fr, grouped_en, grouped_fr, default_delivery, api_type)
VALUES
    ('board_match', '{actor} posted “{subject}”, which matches yours',
     '{actor} a publié « {subject} », qui correspond au vôtre', NULL, NULL, 'email', NULL),
    ('report', 'A report about {subject} awaits moderation',
     'Un signalement concernant {subject} attend la modération', NULL, NULL, 'email', NULL);

-- The need or offer a notification speaks of.
ALTER TABLE notifications
    ADD COLUMN board_item_id BIGINT REFERENCES board_items (id) ON DELETE CASCADE;
