-- Polls (ActivityStreams Question): options with their counts, and votes.
create table polls (
    post_id bigint primary key references posts (id) on delete cascade,
    -- anyOf (several choices) rather than oneOf.
    multiple boolean not null,
    -- [{"title": "...", "votes": 0}, ...] in the author's order.
    options jsonb not null,
    expires_at timestamptz,
    voters_count integer not null default 0
);

create table poll_votes (
    id bigint primary key default next_id(),
    post_id bigint not null references polls (post_id) on delete cascade,
    actor_id bigint not null references actors (id) on delete cascade,
    choice integer not null,
    -- The id of the vote's Note, for votes that federate.
    ap_id text,
    created_at timestamptz not null default now(),
    constraint poll_votes_choice_key unique (post_id, actor_id, choice),
    constraint poll_votes_ap_id_key unique (ap_id)
);
