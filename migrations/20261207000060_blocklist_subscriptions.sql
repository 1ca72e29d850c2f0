-- Shared domain block lists an admin subscribes to (as GoToSocial's domain
-- permission subscriptions): fetched on a schedule and on demand; each
-- entry becomes a block marked with its list. A block made by hand has no
-- list and is never changed or lifted by one.
create table blocklist_subscriptions (
    id bigint primary key default next_id(),
    url text not null unique,
    title text not null default '',
    created_by bigint references actors (id) on delete set null,
    created_at timestamptz not null,
    -- The last fetch, and the last one that was read and applied.
    fetched_at timestamptz,
    succeeded_at timestamptz,
    -- Why the last fetch failed (null once one succeeds).
    last_error text,
    -- Domains in the list as last applied.
    entries integer not null default 0,
    -- How to read the list, as the admin said ('text/csv',
    -- 'application/json', 'text/plain'); null: as its server says.
    content_type text check (content_type in ('text/csv', 'application/json', 'text/plain'))
);

-- A list's blocks outlive it only when the admin keeps them: they become
-- blocks made by hand.
alter table domain_blocks add column subscription_id bigint
    references blocklist_subscriptions (id) on delete set null;

create index domain_blocks_subscription on domain_blocks (subscription_id)
    where subscription_id is not null;

-- What a subscribed list's daily refresh does is in the audit log too, as
-- done on the admins' standing orders.
alter table admin_actions drop constraint admin_actions_via_check;
alter table admin_actions add constraint admin_actions_via_check
    check (via in ('web', 'api', 'cli', 'schedule'));
