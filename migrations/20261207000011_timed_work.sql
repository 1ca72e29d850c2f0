-- Timed work (housekeeping, poll endings) runs once across any number of
-- worker processes: a run is claimed on its row by one process, whose
-- worker id is held as an advisory lock, so a dead process's claim is taken
-- over at once and a live one's never.

create table timed_work (
    name text primary key,
    -- When the next run is due.
    next_run_at timestamptz not null,
    -- The worker id of the process running it now, and until when its
    -- claim holds even if that process seems alive (a hung run).
    locked_by integer,
    locked_until timestamptz,
    last_run_at timestamptz,
    runs bigint not null default 0
);

-- When the end of a poll was told to its local voters and author; polls
-- that ended before this column existed count as told.
alter table polls add column end_noticed_at timestamptz;
update polls set end_noticed_at = expires_at where expires_at <= now();
create index polls_ending on polls (expires_at) where end_noticed_at is null;
