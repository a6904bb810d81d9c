-- Federation: remote actors live in `actors` (domain NOT NULL, uri set); these tables add
-- follows, the inbox and outbox, delivery bookkeeping per host, and likes.

ALTER TABLE actors ADD COLUMN url TEXT;                 -- the actor's human page (remote)
ALTER TABLE actors ADD COLUMN outbox TEXT;
ALTER TABLE actors ADD COLUMN followers_uri TEXT;
ALTER TABLE actors ADD COLUMN key_id TEXT;              -- remote publicKey.id
ALTER TABLE actors ADD COLUMN manually_approves BOOLEAN NOT NULL DEFAULT false;
CREATE INDEX actors_key_id ON actors (key_id) WHERE key_id IS NOT NULL;

-- Remote posts can belong to a remote person followed from here, not to a local group.
ALTER TABLE posts ALTER COLUMN group_id DROP NOT NULL;
ALTER TABLE posts ADD COLUMN url TEXT;                  -- human page of a remote post
CREATE INDEX posts_author ON posts (author_id, id DESC);
CREATE INDEX posts_reply ON posts (in_reply_to_id) WHERE in_reply_to_id IS NOT NULL;

-- Remote followers of a local group may post to it (FEP-1b12) unless the group says no.
ALTER TABLE groups ADD COLUMN followers_can_post BOOLEAN NOT NULL DEFAULT true;

CREATE TABLE follows (
    follower_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    target_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    uri TEXT NOT NULL,                                  -- the Follow activity's id
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'accepted')),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (follower_id, target_id)
);
CREATE INDEX follows_target ON follows (target_id, state);
CREATE UNIQUE INDEX follows_uri ON follows (uri);

CREATE TABLE likes (
    actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    post_id BIGINT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    uri TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (actor_id, post_id)
);

-- Every verified incoming activity, stored before the 202 and processed by a worker.
-- Deduplicated by (id, type): Mobilizon reuses a Create's id for the Update that edits it.
CREATE TABLE inbox_activities (
    id BIGSERIAL PRIMARY KEY,
    activity_id TEXT NOT NULL,
    type TEXT NOT NULL,
    actor_uri TEXT NOT NULL,
    payload JSONB NOT NULL,
    received_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    processed_at TIMESTAMPTZ,
    outcome TEXT,
    UNIQUE (activity_id, type)
);

-- Activities we publish, with their delivery tally (shown to organizers per post).
CREATE TABLE outbox_activities (
    id BIGSERIAL PRIMARY KEY,
    uri TEXT NOT NULL UNIQUE,
    actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    post_id BIGINT REFERENCES posts (id) ON DELETE SET NULL,
    type TEXT NOT NULL,
    payload JSONB NOT NULL,
    public BOOLEAN NOT NULL DEFAULT true,
    delivered INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX outbox_activities_actor ON outbox_activities (actor_id, id DESC);
CREATE INDEX outbox_activities_post ON outbox_activities (post_id);

-- One row per delivery (activity × inbox); claimed with FOR UPDATE SKIP LOCKED.
CREATE TABLE deliveries (
    id BIGSERIAL PRIMARY KEY,
    activity_id BIGINT NOT NULL REFERENCES outbox_activities (id) ON DELETE CASCADE,
    inbox TEXT NOT NULL,
    host TEXT NOT NULL,
    run_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    UNIQUE (activity_id, inbox)
);
CREATE INDEX deliveries_due ON deliveries (run_at);

-- Hosts that keep failing are skipped until they answer again (like Mastodon's
-- UnavailableDomain after failures on 7 distinct days).
CREATE TABLE hosts (
    host TEXT PRIMARY KEY,
    failure_days DATE[] NOT NULL DEFAULT '{}',
    unavailable BOOLEAN NOT NULL DEFAULT false,
    last_success_at TIMESTAMPTZ,
    last_failure_at TIMESTAMPTZ
);

-- Posts reached through a followed remote group's Announce remember the group.
ALTER TABLE posts ADD COLUMN via_actor_id BIGINT REFERENCES actors (id) ON DELETE SET NULL;
