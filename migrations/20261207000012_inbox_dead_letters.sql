-- Inbox activities whose processing failed inside Skein (a 5xx, not a
-- refusal): counted per activity id over the sender's retries; after a few,
-- the activity is kept here, answered 202 so that the sender stops, shown in
-- the admin area and replayable. The signature was checked before anything
-- was kept.

create table inbox_dead_letters (
    id bigint primary key default next_id(),
    activity_id text not null unique,
    -- The verified sender.
    actor_id bigint not null references actors (id) on delete cascade,
    body text not null,
    error text not null,
    attempts integer not null,
    first_failed_at timestamptz not null,
    last_failed_at timestamptz not null,
    -- Set once the retries are used up: the activity waits for an admin.
    dead_at timestamptz
);

create index inbox_dead_letters_dead on inbox_dead_letters (dead_at) where dead_at is not null;
