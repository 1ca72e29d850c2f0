-- Announcements (Mastodon's): what the instance's admins tell every local
-- account, shown by apps above the home timeline. Admins write them in the
-- web admin area; one is published at once or at `scheduled_at` (by the
-- timed work), and unpublished when its `ends_at` passes. Accounts dismiss
-- them (mark them read) and react with emoji.

create table announcements (
    id bigint primary key default next_id(),
    -- Plain text as the admin typed it; links, mentions and hashtags are
    -- rendered when shown.
    text text not null,
    published boolean not null default false,
    published_at timestamptz,
    -- When to publish it, for one written ahead.
    scheduled_at timestamptz,
    -- The time span it is about (an event), shown by apps.
    starts_at timestamptz,
    ends_at timestamptz,
    all_day boolean not null default false,
    created_at timestamptz not null,
    updated_at timestamptz not null
);

create index announcements_scheduled on announcements (scheduled_at) where not published;
create index announcements_ending on announcements (ends_at) where published;

create table announcement_dismissals (
    announcement_id bigint not null references announcements (id) on delete cascade,
    account_id bigint not null references actors (id) on delete cascade,
    created_at timestamptz not null,
    primary key (announcement_id, account_id)
);

create table announcement_reactions (
    announcement_id bigint not null references announcements (id) on delete cascade,
    account_id bigint not null references actors (id) on delete cascade,
    -- A Unicode emoji, or a custom emoji's shortcode.
    name text not null,
    created_at timestamptz not null,
    primary key (announcement_id, account_id, name)
);
