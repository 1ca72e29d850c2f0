-- Imports of Mastodon's CSV lists (follows, blocks, mutes, domain blocks):
-- each upload is a job row, processed by a worker after the request (the
-- accounts it names are resolved over federation), so that a restart does
-- not lose it. The outcome stays for the settings page.

create table imports (
    id bigint primary key default next_id(),
    actor_id bigint not null references actors (id) on delete cascade,
    -- following | blocking | muting | domain_blocking
    kind text not null check (kind in ('following', 'blocking', 'muting', 'domain_blocking')),
    mode text not null check (mode in ('merge', 'overwrite')),
    -- The file's entries: [{"target": "user@host", "hide_notifications": true}]
    entries jsonb not null,
    state text not null default 'pending' check (state in ('pending', 'running', 'done')),
    -- How many entries were applied, and those that failed with why:
    -- [{"target": ..., "reason": ...}]
    applied integer not null default 0,
    failures jsonb not null default '[]',
    created_at timestamptz not null,
    -- When a worker took it; a running import older than a while was left
    -- by a crashed worker and is taken again.
    started_at timestamptz,
    finished_at timestamptz
);

create index imports_actor on imports (actor_id, id desc);
create index imports_pending on imports (id) where state <> 'done';
