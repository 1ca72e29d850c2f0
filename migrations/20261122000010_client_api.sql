-- The Mastodon client API: OAuth 2 applications, authorization codes and
-- tokens; browser sessions (the sign-in page of the authorization flow and the
-- web interface); idempotent status creation.
--
-- Secrets (tokens, codes, session ids) are stored as SHA-256 digests only:
-- a copy of the database does not hand out working credentials.

create table oauth_apps (
    id bigint primary key default next_id(),
    name text not null,
    website text,
    -- Newline-free URIs, `urn:ietf:wg:oauth:2.0:oob` among them when asked.
    redirect_uris text[] not null,
    -- Space-separated, as registered.
    scopes text not null,
    client_id text not null,
    client_secret text not null,
    -- The account that registered the app, when it was a signed-in user.
    owner_user_id bigint references users (id) on delete cascade,
    created_at timestamptz not null,
    constraint oauth_apps_client_id_key unique (client_id)
);

create table oauth_codes (
    code_digest bytea primary key,
    app_id bigint not null references oauth_apps (id) on delete cascade,
    user_id bigint not null references users (id) on delete cascade,
    redirect_uri text not null,
    scopes text not null,
    -- PKCE (RFC 7636): only S256 is accepted.
    code_challenge text,
    created_at timestamptz not null,
    expires_at timestamptz not null,
    used_at timestamptz
);

create table oauth_tokens (
    id bigint primary key default next_id(),
    token_digest bytea not null,
    app_id bigint references oauth_apps (id) on delete cascade,
    -- Null for tokens from the client-credentials grant (app-only).
    user_id bigint references users (id) on delete cascade,
    scopes text not null,
    created_at timestamptz not null,
    last_used_at timestamptz,
    revoked_at timestamptz,
    constraint oauth_tokens_digest_key unique (token_digest)
);

create index oauth_tokens_user on oauth_tokens (user_id) where revoked_at is null;

create table sessions (
    id_digest bytea primary key,
    user_id bigint not null references users (id) on delete cascade,
    -- The form token of this session (double-submit is not needed: the
    -- token lives server-side and is compared on every unsafe request).
    csrf_token text not null,
    user_agent text not null default '',
    ip text not null default '',
    created_at timestamptz not null,
    last_seen_at timestamptz not null,
    expires_at timestamptz not null
);

create index sessions_user on sessions (user_id);

create table idempotency_keys (
    user_id bigint not null references users (id) on delete cascade,
    key text not null,
    post_id bigint not null references posts (id) on delete cascade,
    created_at timestamptz not null,
    primary key (user_id, key)
);

-- Per-account lists the client API reads and writes.
create table bookmarks (
    id bigint primary key default next_id(),
    actor_id bigint not null references actors (id) on delete cascade,
    post_id bigint not null references posts (id) on delete cascade,
    created_at timestamptz not null,
    constraint bookmarks_pair_key unique (actor_id, post_id)
);

create index bookmarks_actor on bookmarks (actor_id, id desc);

create table mutes (
    id bigint primary key default next_id(),
    actor_id bigint not null references actors (id) on delete cascade,
    target_id bigint not null references actors (id) on delete cascade,
    -- Mute the target's notifications too (Mastodon's default).
    notifications boolean not null default true,
    expires_at timestamptz,
    created_at timestamptz not null,
    constraint mutes_pair_key unique (actor_id, target_id)
);

create index mutes_actor on mutes (actor_id, id desc);

-- Domains a user hides for themselves (Mastodon's user domain blocks).
create table user_domain_blocks (
    id bigint primary key default next_id(),
    actor_id bigint not null references actors (id) on delete cascade,
    -- Lower case, as `actors.domain` holds host names.
    domain text not null,
    created_at timestamptz not null,
    constraint user_domain_blocks_pair_key unique (actor_id, domain)
);

create table markers (
    user_id bigint not null references users (id) on delete cascade,
    timeline text not null check (timeline in ('home', 'notifications')),
    last_read_id text not null,
    version integer not null default 0,
    updated_at timestamptz not null,
    primary key (user_id, timeline)
);

-- The application a local post was written with (shown as its
-- `application`).
alter table posts add column app_id bigint references oauth_apps (id) on delete set null;

-- What the owner typed, for editing (`source` of the credential account).
alter table actors add column summary_source text not null default '';

-- Posting defaults (Mastodon's preferences).
alter table users add column default_visibility text not null default 'public'
    check (default_visibility in ('public', 'unlisted', 'private', 'direct'));
alter table users add column default_sensitive boolean not null default false;
alter table users add column default_language text;

-- Instance-wide secrets made on first start (the VAPID key of Web Push).
create table instance_secrets (
    name text primary key,
    value bytea not null,
    created_at timestamptz not null default now()
);

-- Why someone asked to join (shown to admins in approval mode).
alter table users add column sign_up_reason text not null default '';
