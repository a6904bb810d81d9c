-- Actors: local members and groups, and (later) remote actors, in one namespace per domain.
-- A username and a group slug are both `@name@host`, so they share one unique index.
CREATE TABLE actors (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('person', 'group', 'application')),
    name TEXT NOT NULL,
    domain TEXT,                        -- NULL for local actors
    uri TEXT UNIQUE,                    -- ActivityPub id of remote actors
    display_name TEXT NOT NULL DEFAULT '',
    summary TEXT NOT NULL DEFAULT '',   -- plain text as typed (local) ...
    summary_html TEXT NOT NULL DEFAULT '', -- ... and sanitized HTML
    avatar TEXT,                        -- file name under uploads/avatars, or remote URL
    public_key_pem TEXT,
    private_key_pem TEXT,               -- local actors only
    inbox TEXT,
    shared_inbox TEXT,
    fetched_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX actors_name_domain ON actors (lower(name), coalesce(domain, ''));

CREATE TABLE accounts (
    actor_id BIGINT PRIMARY KEY REFERENCES actors (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    is_admin BOOLEAN NOT NULL DEFAULT false,
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'pending', 'disabled')),
    language TEXT,                      -- NULL: from the browser, then the instance default
    timezone TEXT NOT NULL DEFAULT 'UTC',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX accounts_email ON accounts (lower(email));

CREATE TABLE groups (
    actor_id BIGINT PRIMARY KEY REFERENCES actors (id) ON DELETE CASCADE,
    visibility TEXT NOT NULL DEFAULT 'public' CHECK (visibility IN ('public', 'members')),
    join_policy TEXT NOT NULL DEFAULT 'open' CHECK (join_policy IN ('open', 'approval', 'invite'))
);

CREATE TABLE memberships (
    group_id BIGINT NOT NULL REFERENCES groups (actor_id) ON DELETE CASCADE,
    actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    role TEXT NOT NULL DEFAULT 'member' CHECK (role IN ('owner', 'moderator', 'member')),
    state TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'pending', 'invited')),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (group_id, actor_id)
);
CREATE INDEX memberships_actor ON memberships (actor_id);

CREATE TABLE posts (
    id BIGSERIAL PRIMARY KEY,
    uri TEXT UNIQUE,                    -- ActivityPub id of remote posts; NULL for local ones
    group_id BIGINT NOT NULL REFERENCES groups (actor_id) ON DELETE CASCADE,
    author_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    in_reply_to_id BIGINT REFERENCES posts (id) ON DELETE SET NULL,
    content TEXT NOT NULL DEFAULT '',   -- as typed (local posts)
    content_html TEXT NOT NULL,         -- sanitized HTML
    content_warning TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ,
    deleted_at TIMESTAMPTZ              -- a tombstone: the id stays, the content is gone
);
CREATE INDEX posts_group_newest ON posts (group_id, id DESC) WHERE deleted_at IS NULL;

-- Server-side sessions; the cookie holds a random token, the table its SHA-256.
CREATE TABLE sessions (
    token_hash BYTEA PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (actor_id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_account ON sessions (account_id);

CREATE TABLE login_attempts (
    id BIGSERIAL PRIMARY KEY,
    username TEXT NOT NULL,
    address TEXT NOT NULL,
    attempted_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX login_attempts_username ON login_attempts (lower(username), attempted_at);
CREATE INDEX login_attempts_address ON login_attempts (address, attempted_at);

-- Background work: every outgoing effect is a row here, claimed with FOR UPDATE SKIP LOCKED.
CREATE TABLE jobs (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL,
    payload JSONB NOT NULL DEFAULT '{}',
    run_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX jobs_due ON jobs (run_at);
