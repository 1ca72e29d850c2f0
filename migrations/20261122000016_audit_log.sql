-- The audit log: every action a moderator or admin takes (domain policy,
-- account suspension, report resolution, post removal), kept so that staff
-- answer for what they did, as Mastodon's admin action log does.
--
-- Rows are only ever added. The staff account may be deleted later; the row
-- keeps its username then.

create table admin_actions (
    id bigint primary key default next_id(),
    -- The local account that acted; null for the command line.
    actor_id bigint references actors (id) on delete set null,
    -- Who acted, as shown ("alice", or "command line").
    actor_name text not null,
    -- Where: the web interface, the admin API, or the command line.
    via text not null check (via in ('web', 'api', 'cli')),
    -- What, as `subject.verb`: `domain_block.create`, `account.suspend` ...
    action text not null,
    -- On what: `domain`, `account`, `post`, `report`, `instance`.
    target_type text not null,
    -- The domain, `user@host`, or an id, as text.
    target text not null,
    -- Anything else worth keeping (severity, comments, the reason).
    details jsonb not null default '{}',
    created_at timestamptz not null
);

create index admin_actions_recent on admin_actions (id desc);
create index admin_actions_target on admin_actions (target_type, target, id desc);
