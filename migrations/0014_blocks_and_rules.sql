-- Personal mutes and blocks, as Mastodon's: each person's own; and the rules a request to
-- join was shown.

-- A mute hides the muted person's posts, replies and notifications from the one who muted;
-- nothing is sent, the muted person is not told.
CREATE TABLE person_mutes (
    account_id BIGINT NOT NULL REFERENCES accounts (actor_id) ON DELETE CASCADE,
    target_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, target_id)
);

-- A block, by a local person (sent to a remote target as a Block) or received from a remote
-- person about a local one: either way, neither is shown the other's things, and the blocked
-- one can no longer reply to, like or notify the one who blocked.
CREATE TABLE person_blocks (
    actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    target_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    uri TEXT NOT NULL,                  -- the Block activity's id, sent or received
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (actor_id, target_id)
);
CREATE INDEX person_blocks_target ON person_blocks (target_id);

-- The rules a person was shown when they asked to join (here, or sent to their server), kept
-- with the request so that moderators read what was accepted.
ALTER TABLE memberships ADD COLUMN rules_shown TEXT;
-- The rules a remote members-only group sent with its answer to a local person's request.
ALTER TABLE follows ADD COLUMN rules_received TEXT;
INSERT INTO notification_kinds
    (kind, label_en, label_fr, grouped_en, grouped_fr, default_delivery, api_type)
VALUES
    ('group_rules', '{actor} sent you its rules: your request to join awaits its moderators',
     '{actor} vous a envoyé ses règles : votre demande d’adhésion attend ses modérateurs',
     NULL, NULL, 'email', NULL);
