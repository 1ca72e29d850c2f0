-- Reports: a local user's report of an account (and some of its posts), or
-- a Flag another server sent about local accounts. They wait in the admin
-- queue until a moderator resolves them.

create table reports (
    id bigint primary key default next_id(),
    -- Who reported: a local account, or the remote actor (usually an
    -- instance actor) that sent the Flag.
    reporter_id bigint not null references actors (id) on delete cascade,
    target_id bigint not null references actors (id) on delete cascade,
    post_ids bigint[] not null default '{}',
    comment text not null default '',
    category text not null default 'other'
        check (category in ('spam', 'legal', 'violation', 'other')),
    -- Sent on to the reported account's server as a Flag.
    forwarded boolean not null default false,
    -- The Flag's id, for reports that came from another server.
    ap_id text unique,
    assigned_to_id bigint references actors (id) on delete set null,
    resolved_at timestamptz,
    resolved_by_id bigint references actors (id) on delete set null,
    created_at timestamptz not null,
    updated_at timestamptz not null
);

create index reports_open on reports (id desc) where resolved_at is null;
create index reports_target on reports (target_id, id desc);
