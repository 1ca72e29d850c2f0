-- Annual reports ("Wrapstodon", Mastodon 4.3-4.5's schema 1): a summary of
-- an account's activity in a year, made once from what is stored (on the
-- account's first request during the campaign, 10 to 31 December) and
-- kept as made.
create table annual_reports (
    id bigint primary key default next_id(),
    actor_id bigint not null references actors (id) on delete cascade,
    year integer not null,
    schema_version integer not null,
    data jsonb not null,
    -- When the account marked it read (`POST .../read`); the list shows
    -- only reports not read.
    viewed_at timestamptz,
    created_at timestamptz not null,
    unique (actor_id, year)
);
