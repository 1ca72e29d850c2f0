-- Two-factor authentication (TOTP, RFC 6238) with recovery codes, as
-- Mastodon offers it, and the short-lived state between a right password
-- and the second factor when signing in.

-- One row per user who set up an authenticator app. While `enabled_at` is
-- null the secret waits for its first code (set-up); once enabled it is
-- never shown again.
create table user_two_factor (
    user_id bigint primary key references users (id) on delete cascade,
    secret bytea not null,
    enabled_at timestamptz,
    -- The last time step (unix time / 30 s) a code was accepted for: a
    -- code of that step or an earlier one is refused (RFC 6238 §5.2).
    last_step bigint,
    created_at timestamptz not null
);

-- Single-use recovery codes, stored as SHA-256 digests.
create table user_recovery_codes (
    user_id bigint not null references users (id) on delete cascade,
    digest bytea not null,
    used_at timestamptz,
    primary key (user_id, digest)
);

-- A right password for an account with two-factor authentication: the
-- browser holds the token (a cookie) whose digest is the key, and may
-- finish signing in with a code until `expires_at`. Not a session.
create table sign_in_challenges (
    digest bytea primary key,
    user_id bigint not null references users (id) on delete cascade,
    expires_at timestamptz not null
);
create index sign_in_challenges_expiry on sign_in_challenges (expires_at);
