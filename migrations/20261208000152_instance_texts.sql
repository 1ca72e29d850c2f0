-- The instance's about texts, as admins write them in the web admin area:
-- the extended description and the privacy policy (one text each), and the
-- terms of service in dated versions (Mastodon 4.4's TermsOfService: each
-- takes effect on its date). Served by /api/v1/instance/... and the about
-- pages.

create table instance_texts (
    name text primary key check (name in ('extended_description', 'privacy_policy')),
    text text not null,
    updated_at timestamptz not null
);

create table terms_of_service (
    id bigint primary key default next_id(),
    text text not null,
    -- What changed, for the people told of a new version.
    changelog text not null default '',
    effective_date date not null,
    created_at timestamptz not null,
    constraint terms_of_service_effective_date_key unique (effective_date)
);

-- Who was active in which week (a sign-in, or a session or token in use),
-- for /api/v1/instance/activity's weekly logins. Kept from where the
-- session and token reads already note their use, at most once a minute.
create table user_active_weeks (
    user_id bigint not null references users (id) on delete cascade,
    -- The Monday (UTC) the week starts.
    week date not null,
    primary key (week, user_id)
);
