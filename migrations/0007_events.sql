-- Events of groups, local and remote (Mobilizon's Event), and who takes part in them.
-- A local event belongs to a local group; a remote one to the actor (group or person) that
-- published it. Times are instants; `timezone` is the IANA zone the organizer meant them in.
CREATE TABLE events (
    id BIGSERIAL PRIMARY KEY,
    uri TEXT UNIQUE,                    -- ActivityPub id of remote events; NULL for local ones
    url TEXT,                           -- human page of a remote event
    group_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    organizer_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',       -- as typed (local events)
    description_html TEXT NOT NULL DEFAULT '',  -- sanitized HTML
    starts_at TIMESTAMPTZ NOT NULL,
    ends_at TIMESTAMPTZ NOT NULL CHECK (ends_at >= starts_at),
    timezone TEXT NOT NULL DEFAULT 'UTC',
    all_day BOOLEAN NOT NULL DEFAULT false,     -- dates only: starts_at/ends_at are local midnights
    place_name TEXT NOT NULL DEFAULT '',
    street_address TEXT NOT NULL DEFAULT '',
    postal_code TEXT NOT NULL DEFAULT '',
    locality TEXT NOT NULL DEFAULT '',
    country TEXT NOT NULL DEFAULT '',
    latitude DOUBLE PRECISION CHECK (latitude BETWEEN -90 AND 90),
    longitude DOUBLE PRECISION CHECK (longitude BETWEEN -180 AND 180),
    online_url TEXT NOT NULL DEFAULT '',
    category TEXT NOT NULL DEFAULT 'MEETING',
    status TEXT NOT NULL DEFAULT 'confirmed'
        CHECK (status IN ('confirmed', 'tentative', 'cancelled')),
    visibility TEXT NOT NULL DEFAULT 'public' CHECK (visibility IN ('public', 'members')),
    capacity INTEGER CHECK (capacity IS NULL OR capacity >= 1),
    join_mode TEXT NOT NULL DEFAULT 'free' CHECK (join_mode IN ('free', 'approval', 'external')),
    external_url TEXT NOT NULL DEFAULT '',
    question TEXT NOT NULL DEFAULT '',
    show_participants BOOLEAN NOT NULL DEFAULT false,
    picture TEXT,                       -- file under uploads/avatars, re-encoded like avatars
    picture_alt TEXT NOT NULL DEFAULT '',
    remote_participant_count INTEGER,   -- participantCount a peer sent for its own event
    sequence INTEGER NOT NULL DEFAULT 0,  -- iCalendar SEQUENCE: one more at each change
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ,
    deleted_at TIMESTAMPTZ              -- a tombstone: the id answers 410 Gone
);
CREATE INDEX events_group_start ON events (group_id, starts_at) WHERE deleted_at IS NULL;
CREATE INDEX events_start ON events (starts_at) WHERE deleted_at IS NULL;

-- One row per person and event. The id is the order of arrival: the waiting list moves up
-- in that order. `join_uri` is the Join activity's id (a remote participant's, or ours when a
-- local person joins a remote event).
CREATE TABLE event_participants (
    id BIGSERIAL PRIMARY KEY,
    event_id BIGINT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    state TEXT NOT NULL CHECK (state IN ('going', 'waiting', 'pending', 'rejected')),
    message TEXT NOT NULL DEFAULT '',
    join_uri TEXT UNIQUE,
    promoted_at TIMESTAMPTZ,            -- when a place freed and this person moved up
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (event_id, actor_id)
);
-- An event's discussion: posts of its group that answer the event itself (from its page, or a
-- Mastodon reply whose inReplyTo is the event). They stay off the group's list of posts.
ALTER TABLE posts ADD COLUMN event_id BIGINT REFERENCES events (id) ON DELETE SET NULL;
CREATE INDEX posts_event ON posts (event_id, id) WHERE event_id IS NOT NULL;

CREATE INDEX event_participants_event ON event_participants (event_id, state, id);
CREATE INDEX event_participants_actor ON event_participants (actor_id);
