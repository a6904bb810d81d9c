-- Mutual support: a board of needs and offers, members' availability to listen or meet.
-- A board item of a remote group is kept here too (uri set), as peers show it on their board.

CREATE TABLE board_items (
    id BIGSERIAL PRIMARY KEY,
    uri TEXT UNIQUE,                    -- ActivityPub id of a remote item; NULL for local ones
    url TEXT,                           -- human page of a remote item
    group_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    author_id BIGINT REFERENCES actors (id) ON DELETE SET NULL,
    kind TEXT NOT NULL CHECK (kind IN ('need', 'offer')),
    category TEXT NOT NULL CHECK (category IN
        ('goods', 'food', 'services', 'transport', 'housing', 'money', 'listening', 'other')),
    title TEXT NOT NULL,
    details TEXT NOT NULL DEFAULT '',   -- as typed (local items)
    details_html TEXT NOT NULL,         -- sanitized HTML
    area TEXT NOT NULL DEFAULT '',      -- free text; '' when not given
    latitude DOUBLE PRECISION CHECK (latitude BETWEEN -90 AND 90),
    longitude DOUBLE PRECISION CHECK (longitude BETWEEN -180 AND 180),
    valid_until TIMESTAMPTZ NOT NULL,
    answers TEXT NOT NULL DEFAULT 'private' CHECK (answers IN ('private', 'public')),
    state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'fulfilled', 'withdrawn')),
    helper_id BIGINT REFERENCES actors (id) ON DELETE SET NULL,  -- named with their consent
    closed_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- The board: open, unexpired items of a group, newest first, filtered by kind and category.
CREATE INDEX board_items_open ON board_items (group_id, id DESC) WHERE state = 'open';
CREATE INDEX board_items_filter ON board_items (group_id, kind, category, id DESC)
    WHERE state = 'open';
-- "N needs met this month".
CREATE INDEX board_items_closed ON board_items (group_id, closed_at) WHERE state = 'fulfilled';

-- Answers: private ones are seen by the poster and the answerer only.
CREATE TABLE board_answers (
    id BIGSERIAL PRIMARY KEY,
    uri TEXT UNIQUE,                    -- the remote Note's id; NULL for local answers
    item_id BIGINT NOT NULL REFERENCES board_items (id) ON DELETE CASCADE,
    author_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    public BOOLEAN NOT NULL,
    content_html TEXT NOT NULL,
    may_name BOOLEAN NOT NULL DEFAULT false,  -- the answerer agrees to be named as the helper
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX board_answers_item ON board_answers (item_id, id);

-- Availability to listen or meet, per group: "now" until a moment, or a weekly window in the
-- member's time zone. Never federated, never shown outside the group.
CREATE TABLE availabilities (
    id BIGSERIAL PRIMARY KEY,
    group_id BIGINT NOT NULL REFERENCES groups (actor_id) ON DELETE CASCADE,
    actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('now', 'weekly')),
    until TIMESTAMPTZ,                  -- 'now': available until then
    weekday SMALLINT CHECK (weekday BETWEEN 0 AND 6),  -- 'weekly': Monday is 0
    start_minute SMALLINT CHECK (start_minute BETWEEN 0 AND 1439),
    end_minute SMALLINT CHECK (end_minute BETWEEN 1 AND 1440),
    timezone TEXT NOT NULL DEFAULT 'UTC',
    note TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((kind = 'now' AND until IS NOT NULL)
        OR (kind = 'weekly' AND weekday IS NOT NULL AND start_minute < end_minute))
);
CREATE INDEX availabilities_group ON availabilities (group_id, actor_id);

-- A member asks an available member for a conversation: a private message to them.
CREATE TABLE conversation_requests (
    id BIGSERIAL PRIMARY KEY,
    group_id BIGINT NOT NULL REFERENCES groups (actor_id) ON DELETE CASCADE,
    from_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    to_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    message TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX conversation_requests_to ON conversation_requests (to_id, id DESC);

-- The library of a group: links and uploaded documents, tagged; organizers pin items, and a
-- public group's pinned items are its `featured` collection.
CREATE TABLE resources (
    id BIGSERIAL PRIMARY KEY,
    group_id BIGINT NOT NULL REFERENCES groups (actor_id) ON DELETE CASCADE,
    author_id BIGINT REFERENCES actors (id) ON DELETE SET NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    description_html TEXT NOT NULL DEFAULT '',
    link TEXT,                          -- a link: its https address
    file_name TEXT,                     -- a document: our name for it under uploads/documents
    media_type TEXT,
    size INTEGER,
    original_name TEXT,                 -- the name it was uploaded under (for the download)
    tags TEXT[] NOT NULL DEFAULT '{}',
    pinned_at TIMESTAMPTZ,              -- pinned by an organizer when set
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((link IS NULL) <> (file_name IS NULL))
);
CREATE INDEX resources_group ON resources (group_id, id DESC);
CREATE INDEX resources_pinned ON resources (group_id, pinned_at DESC) WHERE pinned_at IS NOT NULL;

-- Goals a member shares with the group, their follow-ups (by the member) and the others'
-- encouragement (short replies, likes). Members-only unless the member chooses otherwise;
-- never federated.
CREATE TABLE goals (
    id BIGSERIAL PRIMARY KEY,
    group_id BIGINT NOT NULL REFERENCES groups (actor_id) ON DELETE CASCADE,
    author_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    body TEXT NOT NULL DEFAULT '',
    body_html TEXT NOT NULL DEFAULT '',
    visibility TEXT NOT NULL DEFAULT 'members' CHECK (visibility IN ('members', 'public')),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX goals_group ON goals (group_id, id DESC);

CREATE TABLE goal_updates (
    id BIGSERIAL PRIMARY KEY,
    goal_id BIGINT NOT NULL REFERENCES goals (id) ON DELETE CASCADE,
    author_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('followup', 'encouragement')),
    content_html TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX goal_updates_goal ON goal_updates (goal_id, id);

CREATE TABLE goal_likes (
    goal_id BIGINT NOT NULL REFERENCES goals (id) ON DELETE CASCADE,
    actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (goal_id, actor_id)
);
