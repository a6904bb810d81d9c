-- Safe spaces: members-only groups with members on other instances, bans, blocks, reports,
-- and the log of every moderation action.

-- What a person accepts before joining a group (shown on the join form and in the actor).
ALTER TABLE groups ADD COLUMN rules TEXT NOT NULL DEFAULT '';
-- A remote members-only group whose Follow was accepted is mirrored here (domain NOT NULL on
-- its actor, visibility 'members'): its posts are then read by its local members alone, with
-- the same checks as a local members-only group.

-- A ban outlives any later Follow or Join: only a moderator lifts it.
CREATE TABLE group_bans (
    group_id BIGINT NOT NULL REFERENCES groups (actor_id) ON DELETE CASCADE,
    actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    reason TEXT NOT NULL DEFAULT '',
    banned_by BIGINT REFERENCES actors (id) ON DELETE SET NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (group_id, actor_id)
);

-- Instance-wide blocks: a remote domain, or one remote actor.
CREATE TABLE domain_blocks (
    domain TEXT PRIMARY KEY,            -- lower case, with its port if any
    reason TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE actor_blocks (
    actor_id BIGINT PRIMARY KEY REFERENCES actors (id) ON DELETE CASCADE,
    reason TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Reports: from a local person (reporter_id) or from another instance (a Flag, origin_domain).
CREATE TABLE reports (
    id BIGSERIAL PRIMARY KEY,
    reporter_id BIGINT REFERENCES actors (id) ON DELETE SET NULL,
    origin_domain TEXT,
    flag_uri TEXT UNIQUE,
    target_actor_id BIGINT REFERENCES actors (id) ON DELETE CASCADE,
    post_id BIGINT REFERENCES posts (id) ON DELETE SET NULL,
    group_id BIGINT REFERENCES groups (actor_id) ON DELETE SET NULL,
    reason TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'resolved')),
    forwarded BOOLEAN NOT NULL DEFAULT false,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX reports_open ON reports (state, id DESC);

-- Every moderation action, who took it and on what: kept when the moderator leaves.
CREATE TABLE moderation_log (
    id BIGSERIAL PRIMARY KEY,
    moderator_id BIGINT REFERENCES actors (id) ON DELETE SET NULL,
    group_id BIGINT REFERENCES actors (id) ON DELETE SET NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX moderation_log_group ON moderation_log (group_id, id DESC);

-- Anonymous posts: published by the group actor; who wrote one is kept here alone, read by
-- the group's moderators through a view that logs each look. 'approval': a moderator first.
ALTER TABLE groups ADD COLUMN anonymous_posts TEXT NOT NULL DEFAULT 'off'
    CHECK (anonymous_posts IN ('off', 'on', 'approval'));
CREATE TABLE anonymous_posts (
    id BIGSERIAL PRIMARY KEY,
    group_id BIGINT NOT NULL REFERENCES groups (actor_id) ON DELETE CASCADE,
    author_id BIGINT REFERENCES actors (id) ON DELETE SET NULL,
    content TEXT NOT NULL DEFAULT '',       -- kept only while waiting for approval
    content_warning TEXT NOT NULL DEFAULT '',
    post_id BIGINT UNIQUE REFERENCES posts (id) ON DELETE CASCADE,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'published', 'rejected')),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX anonymous_posts_pending ON anonymous_posts (group_id) WHERE state = 'pending';
