-- Calls to action: petitions signed from any instance, mobilizations relayed by allied groups.
-- A petition or a mobilization of a remote group is kept here too (uri set), as peers show it.

CREATE TABLE petitions (
    id BIGSERIAL PRIMARY KEY,
    uri TEXT UNIQUE,                    -- ActivityPub id of a remote petition; NULL for local ones
    url TEXT,                           -- human page of a remote petition
    group_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    author_id BIGINT REFERENCES actors (id) ON DELETE SET NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL DEFAULT '',      -- as typed (local petitions)
    body_html TEXT NOT NULL,            -- sanitized HTML
    addressee TEXT NOT NULL,
    goal INTEGER NOT NULL CHECK (goal > 0),
    deadline TIMESTAMPTZ,
    status TEXT NOT NULL DEFAULT 'open'
        CHECK (status IN ('open', 'closed', 'delivered', 'won', 'lost')),
    status_note TEXT NOT NULL DEFAULT '',
    option_name TEXT NOT NULL,          -- the poll's single option: a vote's `name` must equal it
    remote_count INTEGER NOT NULL DEFAULT 0, -- a remote petition: the count its origin announced
    -- Count updates are batched: at most one Update per petition per interval (see services).
    count_update_due BOOLEAN NOT NULL DEFAULT false,
    count_sent_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX petitions_group ON petitions (group_id, id DESC);

-- One signature per person whatever the path: the primary key says so.
CREATE TABLE petition_signatures (
    petition_id BIGINT NOT NULL REFERENCES petitions (id) ON DELETE CASCADE,
    actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    public BOOLEAN NOT NULL DEFAULT false,  -- the signer chose to show their name
    uri TEXT,                           -- the vote's id (received, or sent for a remote petition)
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (petition_id, actor_id)
);
CREATE UNIQUE INDEX petition_signatures_uri ON petition_signatures (uri) WHERE uri IS NOT NULL;

CREATE TABLE petition_status_changes (
    id BIGSERIAL PRIMARY KEY,
    petition_id BIGINT NOT NULL REFERENCES petitions (id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX petition_status_changes_petition ON petition_status_changes (petition_id, id);

CREATE TABLE mobilizations (
    id BIGSERIAL PRIMARY KEY,
    uri TEXT UNIQUE,                    -- ActivityPub id of a remote mobilization
    url TEXT,
    group_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    author_id BIGINT REFERENCES actors (id) ON DELETE SET NULL,
    what TEXT NOT NULL,
    place TEXT NOT NULL,
    starts_at TIMESTAMPTZ NOT NULL,
    why TEXT NOT NULL DEFAULT '',
    how_to_help TEXT NOT NULL DEFAULT '',
    urgency TEXT NOT NULL DEFAULT 'high' CHECK (urgency IN ('normal', 'high', 'critical')),
    content_html TEXT NOT NULL,         -- what Mastodon shows: what, where, when, a link
    hops INTEGER NOT NULL DEFAULT 0,    -- relays it came through before reaching here
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX mobilizations_group ON mobilizations (group_id, id DESC);

-- An alliance between a local group and another group (local or remote), seen from the local
-- side: 'offered' (we proposed), 'requested' (they proposed, our organizers decide), 'accepted'.
CREATE TABLE alliances (
    group_id BIGINT NOT NULL REFERENCES groups (actor_id) ON DELETE CASCADE,
    ally_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    state TEXT NOT NULL CHECK (state IN ('offered', 'requested', 'accepted')),
    uri TEXT NOT NULL,                  -- the Offer's id
    -- Relay the ally's mobilizations at once ('auto') or after an organizer approves.
    relay TEXT NOT NULL DEFAULT 'auto' CHECK (relay IN ('auto', 'approve')),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (group_id, ally_id),
    CHECK (group_id <> ally_id)
);
CREATE INDEX alliances_ally ON alliances (ally_id, state);

-- Which groups relayed a mobilization (local relays, and remote allies' Announces received):
-- one row per group, so that a mobilization is relayed at most once per group.
CREATE TABLE mobilization_relays (
    mobilization_id BIGINT NOT NULL REFERENCES mobilizations (id) ON DELETE CASCADE,
    group_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    state TEXT NOT NULL DEFAULT 'relayed' CHECK (state IN ('pending', 'relayed')),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (mobilization_id, group_id)
);

-- The activities of a call to action, for the organizers' tally of deliveries.
ALTER TABLE outbox_activities ADD COLUMN petition_id BIGINT
    REFERENCES petitions (id) ON DELETE SET NULL;
ALTER TABLE outbox_activities ADD COLUMN mobilization_id BIGINT
    REFERENCES mobilizations (id) ON DELETE SET NULL;
CREATE INDEX outbox_activities_mobilization ON outbox_activities (mobilization_id)
    WHERE mobilization_id IS NOT NULL;
