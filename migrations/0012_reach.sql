-- Notifications. A kind is one row of notification_kinds: its words in French and English (with
-- {actor}, {group}, {subject} filled in), the words when rows of it are grouped ({count}), who
-- receives it by e-mail unless they chose otherwise, and its type in the Mastodon client API.
CREATE TABLE notification_kinds (
    kind TEXT PRIMARY KEY,
    label_en TEXT NOT NULL,
    label_fr TEXT NOT NULL,
    grouped_en TEXT,                    -- NULL: each one stands alone; else "{count} people liked…"
    grouped_fr TEXT,
    default_delivery TEXT NOT NULL CHECK (default_delivery IN ('app', 'email', 'digest')),
    api_type TEXT                       -- NULL: not shown to client apps
);

INSERT INTO notification_kinds
    (kind, label_en, label_fr, grouped_en, grouped_fr, default_delivery, api_type)
VALUES
    ('reply', '{actor} replied to your post', '{actor} a répondu à votre publication',
     NULL, NULL, 'digest', 'mention'),
    ('mention', '{actor} mentioned you', '{actor} vous a mentionné·e',
     NULL, NULL, 'digest', 'mention'),
    ('like', '{actor} liked your post', '{actor} a aimé votre publication',
     '{count} people liked your post', '{count} personnes ont aimé votre publication',
     'app', 'favourite'),
    ('follow', '{actor} now follows {group}', '{actor} suit désormais {group}',
     '{count} people now follow {group}', '{count} personnes suivent désormais {group}',
     'app', 'follow'),
    ('join_request', '{actor} asks to join {group}', '{actor} demande à rejoindre {group}',
     NULL, NULL, 'email', 'follow_request'),
    ('follow_request', '{actor} asks to follow {group}', '{actor} demande à suivre {group}',
     NULL, NULL, 'email', 'follow_request'),
    ('request_accepted', 'Your request to join {group} was accepted',
     'Votre demande pour rejoindre {group} a été acceptée', NULL, NULL, 'email', NULL),
    ('request_declined', 'Your request to join {group} was declined',
     'Votre demande pour rejoindre {group} a été refusée', NULL, NULL, 'email', NULL),
    ('follow_accepted', 'You now follow {actor}', 'Vous suivez désormais {actor}',
     NULL, NULL, 'app', NULL),
    ('follow_unreachable', 'Could not follow {subject}: its server could not be reached',
     'Impossible de suivre {subject} : son serveur est injoignable', NULL, NULL, 'app', NULL),
    ('follow_not_found', 'Could not follow {subject}: that server has no such account',
     'Impossible de suivre {subject} : ce serveur n’a pas ce compte', NULL, NULL, 'app', NULL),
    ('follow_refused', 'Could not follow {subject}: this account cannot be followed from here',
     'Impossible de suivre {subject} : ce compte ne peut pas être suivi d’ici',
     NULL, NULL, 'app', NULL),
    ('event_reminder', '{subject} is tomorrow', '{subject}, c’est demain',
     NULL, NULL, 'email', NULL),
    ('event_changed', '{subject} was changed', '{subject} a été modifié',
     NULL, NULL, 'email', NULL),
    ('event_cancelled', '{subject} is cancelled', '{subject} est annulé',
     NULL, NULL, 'email', NULL),
    ('waiting_list_place', 'A place freed up for you: {subject}',
     'Une place s’est libérée pour vous : {subject}', NULL, NULL, 'email', NULL),
    ('petition_goal', 'The petition “{subject}” reached its goal',
     'La pétition « {subject} » a atteint son objectif', NULL, NULL, 'email', NULL),
    ('account_pending', '{actor} signed up and awaits approval',
     '{actor} s’est inscrit·e et attend votre validation', NULL, NULL, 'email', 'admin.sign_up');

CREATE TABLE notifications (
    id BIGSERIAL PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (actor_id) ON DELETE CASCADE,
    kind TEXT NOT NULL REFERENCES notification_kinds (kind),
    actor_id BIGINT REFERENCES actors (id) ON DELETE CASCADE,        -- who did it
    post_id BIGINT REFERENCES posts (id) ON DELETE CASCADE,
    group_id BIGINT REFERENCES actors (id) ON DELETE CASCADE,
    event_id BIGINT REFERENCES events (id) ON DELETE CASCADE,
    petition_id BIGINT REFERENCES petitions (id) ON DELETE CASCADE,
    subject TEXT NOT NULL DEFAULT '',   -- words kept as they were: a handle, a title
    -- Unread rows with the same key are one notification: "5 people liked your post".
    group_key TEXT,
    count INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    read_at TIMESTAMPTZ,
    emailed_at TIMESTAMPTZ               -- sent at once or in a digest
);
CREATE INDEX notifications_account ON notifications (account_id, id DESC);
CREATE INDEX notifications_unread ON notifications (account_id) WHERE read_at IS NULL;
CREATE UNIQUE INDEX notifications_grouping ON notifications (account_id, group_key)
    WHERE read_at IS NULL AND group_key IS NOT NULL;

CREATE TABLE notification_preferences (
    account_id BIGINT NOT NULL REFERENCES accounts (actor_id) ON DELETE CASCADE,
    kind TEXT NOT NULL REFERENCES notification_kinds (kind),
    delivery TEXT NOT NULL CHECK (delivery IN ('app', 'email', 'digest')),
    PRIMARY KEY (account_id, kind)
);

-- The start time the participants were last reminded of: an event moved is reminded again.
ALTER TABLE events ADD COLUMN reminded_for TIMESTAMPTZ;

-- The client API read notifications derived from likes, replies and follows; it reads the table
-- above now, and dismissing deletes a row.
DROP TABLE notification_clears;
DROP TABLE notification_dismissals;

-- One-time links sent by e-mail: a password reset, the confirmation of a new address. Only the
-- SHA-256 of the token is kept; a link works once, before it expires.
CREATE TABLE email_tokens (
    token_hash BYTEA PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (actor_id) ON DELETE CASCADE,
    purpose TEXT NOT NULL CHECK (purpose IN ('reset_password', 'change_email', 'confirm_email')),
    email TEXT NOT NULL,                -- where it was sent: the new address for a change
    expires_at TIMESTAMPTZ NOT NULL,
    used_at TIMESTAMPTZ
);
CREATE INDEX email_tokens_account ON email_tokens (account_id);

-- E-mails that could not be delivered: refused by the server (never retried), or given up on.
CREATE TABLE email_failures (
    id BIGSERIAL PRIMARY KEY,
    address TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- When each person last got their daily digest.
CREATE TABLE notification_digests (
    account_id BIGINT PRIMARY KEY REFERENCES accounts (actor_id) ON DELETE CASCADE,
    sent_at TIMESTAMPTZ NOT NULL
);

-- Search. Accents are folded by our own immutable function rather than the unaccent extension,
-- which hosted PostgreSQL and the embedded one do not always ship; French and English stemming
-- both apply, weighted by where the words are.
CREATE FUNCTION fold_accents(value TEXT) RETURNS TEXT
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    RETURN replace(replace(translate(lower(value),
        'àáâãäåāăąçćčďèéêëēėęěìíîïīįłñńňòóôõöøōőŕřśšşťùúûüūůűųýÿźżž',
        'aaaaaaaaacccdeeeeeeeeiiiiiilnnnoooooooorrssstuuuuuuuuyyzzz'), 'œ', 'oe'), 'æ', 'ae');

CREATE FUNCTION search_vector(value TEXT) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN to_tsvector('french', fold_accents(coalesce(value, '')))
        || to_tsvector('english', fold_accents(coalesce(value, '')));

CREATE FUNCTION search_query(value TEXT) RETURNS tsquery
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN websearch_to_tsquery('french', fold_accents(value))
        || websearch_to_tsquery('english', fold_accents(value));

-- Posts: their text without tags (the HTML is ours, sanitized: tags never hold words). Stored,
-- so that ranking the matches reads the vector instead of computing it again for each.
ALTER TABLE posts ADD COLUMN search tsvector GENERATED ALWAYS AS (
    search_vector(regexp_replace(content_html, '<[^>]*>', ' ', 'g'))) STORED;
CREATE INDEX posts_search ON posts USING GIN (search) WHERE deleted_at IS NULL;
ALTER TABLE events ADD COLUMN search tsvector GENERATED ALWAYS AS (
    search_vector(title || ' ' || description)) STORED;
CREATE INDEX events_search ON events USING GIN (search) WHERE deleted_at IS NULL;
CREATE INDEX actors_search ON actors USING GIN (
    search_vector(name || ' ' || coalesce(display_name, '') || ' '
                  || regexp_replace(coalesce(summary_html, ''), '<[^>]*>', ' ', 'g'))
);

-- The instance's /about page, written by its administrators: one row.
CREATE TABLE instance_about (
    id BOOLEAN PRIMARY KEY DEFAULT true CHECK (id),
    description TEXT NOT NULL DEFAULT '',
    rules TEXT NOT NULL DEFAULT '',
    contact TEXT NOT NULL DEFAULT '',
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- With ENTRAIDE_CONFIRM_EMAIL, an account signed up waits for its address to be confirmed.
ALTER TABLE accounts DROP CONSTRAINT accounts_status_check;
ALTER TABLE accounts ADD CONSTRAINT accounts_status_check
    CHECK (status IN ('active', 'pending', 'disabled', 'deleted', 'unconfirmed'));
