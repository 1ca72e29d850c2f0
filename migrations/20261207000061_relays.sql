-- ActivityPub relays the instance subscribes to (Mastodon's relay
-- protocol): a Follow of the Public collection sent by the instance actor to
-- the relay's inbox; once the relay accepts, local public posts go to it and
-- what it relays is taken into the fediverse timeline.
create table relays (
    id bigint primary key default next_id(),
    inbox_url text not null unique,
    state text not null default 'pending'
        check (state in ('pending', 'accepted', 'rejected')),
    -- The id of the Follow sent; the relay's Accept or Reject names it.
    follow_activity_id text not null unique,
    -- The relay's actor, known once it answered.
    actor_id bigint references actors (id) on delete set null,
    created_at timestamptz not null,
    updated_at timestamptz not null
);

create index relays_actor on relays (actor_id) where actor_id is not null;

