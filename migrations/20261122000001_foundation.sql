-- The foundation: actors (local and remote), local users, follow relations,
-- posts and the outgoing delivery queue. Forward-only, like every migration.

-- Time-ordered 64-bit ids, as Mastodon uses: milliseconds since the epoch in
-- the high bits and a sequence in the low 16 bits, so ids sort by creation
-- time and keyset pagination on the id follows the timeline order.
create sequence id_low_bits as bigint cycle;

create function next_id(at timestamptz default clock_timestamp()) returns bigint
language sql volatile as $$
    select ((extract(epoch from at) * 1000)::bigint << 16)
         | (nextval('id_low_bits') & 65535)
$$;

create table actors (
    id bigint primary key default next_id(),
    -- The ActivityPub id (the actor URL); for local actors built from the
    -- configured domain when they are created.
    ap_id text not null,
    kind text not null default 'Person'
        check (kind in ('Person', 'Application', 'Service', 'Group', 'Organization')),
    username text not null,
    -- Null for local actors; the lower-cased host[:port] of remote ones.
    domain text,
    display_name text not null default '',
    -- HTML.
    summary text not null default '',
    -- The profile page.
    url text,
    inbox_url text not null,
    shared_inbox_url text,
    outbox_url text,
    followers_url text,
    following_url text,
    featured_url text,
    public_key_id text not null,
    public_key_pem text not null,
    -- Only for local actors.
    private_key_pem text,
    manually_approves_followers boolean not null default false,
    discoverable boolean not null default true,
    indexable boolean not null default false,
    avatar_url text,
    header_url text,
    -- Profile fields: [{"name": ..., "value": <HTML>}].
    fields jsonb not null default '[]',
    also_known_as text[] not null default '{}',
    moved_to text,
    published timestamptz not null default now(),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    -- Remote actors: when we last fetched the document, and when it answered 410.
    fetched_at timestamptz,
    gone_at timestamptz,
    constraint actors_ap_id_key unique (ap_id),
    constraint actors_local_has_private_key check (domain is not null or private_key_pem is not null)
);

-- Usernames are unique per domain regardless of case, as in Mastodon.
create unique index actors_username_domain_key on actors (lower(username), coalesce(domain, ''));

create table users (
    id bigint primary key default next_id(),
    actor_id bigint not null references actors (id) on delete cascade,
    email text,
    password_hash text not null,
    role text not null default 'user' check (role in ('user', 'moderator', 'admin')),
    -- False while a sign-up waits in the approval queue.
    approved boolean not null default true,
    disabled boolean not null default false,
    last_active_at timestamptz,
    created_at timestamptz not null default now(),
    constraint users_actor_id_key unique (actor_id)
);

create unique index users_email_key on users (lower(email)) where email is not null;

create table follows (
    id bigint primary key default next_id(),
    follower_id bigint not null references actors (id) on delete cascade,
    followee_id bigint not null references actors (id) on delete cascade,
    -- The id of the Follow activity.
    ap_id text,
    state text not null check (state in ('pending', 'accepted')),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint follows_pair_key unique (follower_id, followee_id),
    constraint follows_ap_id_key unique (ap_id)
);

create index follows_followee on follows (followee_id, state, id desc);
create index follows_follower on follows (follower_id, state, id desc);

create table posts (
    id bigint primary key default next_id(),
    ap_id text not null,
    author_id bigint not null references actors (id) on delete cascade,
    -- The page people open; the ap_id when the author gives none.
    url text,
    -- Sanitised HTML.
    content text not null default '',
    -- What a local author typed, kept for editing.
    source text,
    summary text not null default '',
    sensitive boolean not null default false,
    language text,
    visibility text not null check (visibility in ('public', 'unlisted', 'private', 'direct')),
    in_reply_to_id bigint references posts (id) on delete set null,
    in_reply_to_ap_id text,
    published timestamptz not null default now(),
    updated timestamptz,
    created_at timestamptz not null default now(),
    constraint posts_ap_id_key unique (ap_id)
);

create index posts_author on posts (author_id, id desc);

-- The outgoing delivery queue: one row per activity and target inbox, written
-- in the same transaction as the change that causes it. Workers claim rows
-- with `for update skip locked` and a lease (locked_until), and sign at send
-- time, so a row outlives any crash.
create table deliveries (
    id bigint primary key default next_id(),
    activity_id text not null,
    -- The exact JSON body to send.
    payload text not null,
    sender_id bigint not null references actors (id) on delete cascade,
    inbox_url text not null,
    -- Lower-cased host[:port] of inbox_url, for per-host limits.
    host text not null,
    state text not null default 'pending' check (state in ('pending', 'delivered', 'failed')),
    attempts integer not null default 0,
    next_attempt_at timestamptz not null default now(),
    locked_until timestamptz,
    last_error text,
    created_at timestamptz not null default now(),
    finished_at timestamptz,
    constraint deliveries_activity_inbox_key unique (activity_id, inbox_url)
);

create index deliveries_due on deliveries (next_attempt_at) where state = 'pending';
