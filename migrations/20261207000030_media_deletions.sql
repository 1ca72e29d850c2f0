-- Media files whose rows are gone but whose removal from the store failed
-- (a bucket that was down): the hourly cleanup tries again, so that a
-- failed removal does not leave the file in the bucket for good. A name is
-- never reused (128 random bits), so a name here never names a live file.

create table media_deletions (
    name text primary key,
    first_failed_at timestamptz not null,
    attempts integer not null default 1
);
