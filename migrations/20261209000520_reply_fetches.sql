-- Background fetches of a remote post's replies (Mastodon 4.4's async
-- refresh of a thread): queued when someone signed in opens the thread of
-- a remote post whose replies were not fetched lately, run by the workers
-- of any process (claimed `for update skip locked` with a lease), reported
-- by `GET /api/v1/async_refreshes/:id` (the row's id).
create table reply_fetches (
    id bigint primary key default next_id(),
    post_id bigint not null references posts (id) on delete cascade,
    status text not null default 'running' check (status in ('running', 'finished')),
    -- Replies stored by this fetch so far.
    result_count integer not null default 0,
    -- When a worker may claim it (again: a claim moves it past its lease).
    due_at timestamptz not null,
    attempts integer not null default 0,
    created_at timestamptz not null,
    finished_at timestamptz
);
-- One fetch under way per post.
create unique index reply_fetches_running on reply_fetches (post_id) where status = 'running';
create index reply_fetches_post on reply_fetches (post_id, created_at desc);
create index reply_fetches_due on reply_fetches (due_at) where status = 'running';
