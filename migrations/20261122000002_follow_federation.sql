-- Following across servers: the fediverse-sharing switch, received
-- activities (deduplicated by id), blocks, and the delivery queue's crash
-- recovery and dead-domain bookkeeping.

-- Fediverse sharing (the Threads model): an account that does not federate
-- is unknown to other servers.
alter table users add column federating boolean not null default true;

-- Remote usernames are not unique: a server may hand a name to a new actor
-- after deleting the old one. Local usernames stay unique regardless of case.
drop index actors_username_domain_key;
create unique index actors_local_username_key on actors (lower(username)) where domain is null;
create index actors_remote_username on actors (lower(username), domain) where domain is not null;
-- When a remote actor's document was last fetched again because a signature
-- failed to verify (keys rotate), so that refetches are rate-limited.
alter table actors add column key_refetched_at timestamptz;

-- Every activity accepted by an inbox, by id: a second delivery of the same
-- activity (again, concurrently, or through another inbox) finds its id here
-- and has no further effect.
create table inbox_activities (
    activity_id text primary key,
    actor_id bigint references actors (id) on delete set null,
    kind text not null,
    payload jsonb not null,
    received_at timestamptz not null
);

create table blocks (
    id bigint primary key default next_id(),
    blocker_id bigint not null references actors (id) on delete cascade,
    blocked_id bigint not null references actors (id) on delete cascade,
    -- The id of the Block activity.
    ap_id text,
    created_at timestamptz not null default now(),
    constraint blocks_pair_key unique (blocker_id, blocked_id),
    constraint blocks_ap_id_key unique (ap_id)
);

create index blocks_blocked on blocks (blocked_id);

-- The worker process that holds a claim. Each process holds a PostgreSQL
-- advisory lock on its id for as long as it lives, so the claims of a process
-- that died are taken over at once instead of when their lease ends.
alter table deliveries add column locked_by integer;
alter table deliveries add column last_status integer;

-- Days on which deliveries to a host failed; 7 distinct days make the host
-- unavailable until it is heard from again (as Mastodon does).
create table domain_failures (
    host text not null,
    day date not null,
    primary key (host, day)
);

create table unavailable_domains (
    host text primary key,
    since timestamptz not null
);
