-- Pinned posts: an account's featured collection.
create table pins (
    actor_id bigint not null references actors (id) on delete cascade,
    post_id bigint not null references posts (id) on delete cascade,
    created_at timestamptz not null default now(),
    primary key (actor_id, post_id)
);
