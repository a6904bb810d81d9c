-- The client API's OAuth 2: the apps people register, the one-time authorization codes they
-- exchange, and the tokens they hold. Secrets, codes and tokens are kept as their SHA-256 only,
-- as sessions are: a copy of the database signs in to nobody's account.
CREATE TABLE oauth_apps (
    id BIGSERIAL PRIMARY KEY,
    client_id TEXT NOT NULL UNIQUE,
    client_secret_hash BYTEA NOT NULL,
    name TEXT NOT NULL,
    website TEXT,
    redirect_uris TEXT[] NOT NULL,
    scopes TEXT[] NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE oauth_codes (
    code_hash BYTEA PRIMARY KEY,
    app_id BIGINT NOT NULL REFERENCES oauth_apps (id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts (actor_id) ON DELETE CASCADE,
    redirect_uri TEXT NOT NULL,
    scopes TEXT[] NOT NULL,
    code_challenge TEXT,                -- PKCE S256 (RFC 7636), NULL when the app sent none
    expires_at TIMESTAMPTZ NOT NULL,
    used_at TIMESTAMPTZ                 -- a second exchange revokes what the first one gave
);

CREATE TABLE oauth_tokens (
    id BIGSERIAL PRIMARY KEY,
    token_hash BYTEA NOT NULL UNIQUE,
    app_id BIGINT NOT NULL REFERENCES oauth_apps (id) ON DELETE CASCADE,
    account_id BIGINT REFERENCES accounts (actor_id) ON DELETE CASCADE, -- NULL: an app token
    code_hash BYTEA,                    -- the code it was exchanged for, if any
    scopes TEXT[] NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX oauth_tokens_account ON oauth_tokens (account_id) WHERE account_id IS NOT NULL;
CREATE INDEX oauth_tokens_code ON oauth_tokens (code_hash) WHERE code_hash IS NOT NULL;

-- Notifications read through the API are derived from likes, replies and follows; what a person
-- dismissed or cleared is remembered here.
CREATE TABLE notification_clears (
    account_id BIGINT PRIMARY KEY REFERENCES accounts (actor_id) ON DELETE CASCADE,
    cleared_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE notification_dismissals (
    account_id BIGINT NOT NULL REFERENCES accounts (actor_id) ON DELETE CASCADE,
    notification_id TEXT NOT NULL,
    PRIMARY KEY (account_id, notification_id)
);

