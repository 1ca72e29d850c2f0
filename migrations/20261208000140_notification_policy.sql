-- Mastodon 4.3's grouped notifications and notification policy.
--
-- A notification is `filtered` when the recipient's policy filtered it
-- when it was made: it is kept out of the notifications list (but for
-- `include_filtered`), of streaming and of Web Push until the recipient
-- accepts the request of its sender. `group_key` is Mastodon's: likes and
-- reposts of one post, follows and sign-ups, in a span of at most 12
-- hours, share one (`favourite-<post>-<hour>`, `follow-<hour>`); null for
-- every other notification, and for filtered ones.
alter table notifications add column filtered boolean not null default false;
alter table notifications add column group_key text;

-- A group's notifications, newest first (the grouped API's counts and
-- samples), and the latest of a series (the bucket a new one joins).
create index notifications_group on notifications (recipient_id, group_key, id desc)
    where group_key is not null;
create index notifications_group_series
    on notifications (recipient_id, kind, coalesce(post_id, 0), id desc)
    where group_key is not null;
-- A sender's filtered notifications (accepting or dismissing a request).
create index notifications_filtered on notifications (recipient_id, from_actor_id)
    where filtered;

-- What a local account does with notifications from accounts it does not
-- follow, that do not follow it, that are new, private mentions not
-- answering its own, and accounts the moderators limited: accept, filter
-- or drop. No row: Mastodon's defaults.
create table notification_policies (
    actor_id bigint primary key references actors (id) on delete cascade,
    for_not_following text not null default 'accept'
        check (for_not_following in ('accept', 'filter', 'drop')),
    for_not_followers text not null default 'accept'
        check (for_not_followers in ('accept', 'filter', 'drop')),
    for_new_accounts text not null default 'accept'
        check (for_new_accounts in ('accept', 'filter', 'drop')),
    for_private_mentions text not null default 'filter'
        check (for_private_mentions in ('accept', 'filter', 'drop')),
    for_limited_accounts text not null default 'filter'
        check (for_limited_accounts in ('accept', 'filter', 'drop')),
    updated_at timestamptz not null
);

-- A sender whose mentions (or quotes) were filtered, waiting for the
-- recipient to accept or dismiss them.
create table notification_requests (
    id bigint primary key default next_id(),
    recipient_id bigint not null references actors (id) on delete cascade,
    from_actor_id bigint not null references actors (id) on delete cascade,
    last_post_id bigint references posts (id) on delete set null,
    -- Filtered mentions and quotes from the sender, counted up to 100.
    notifications_count bigint not null default 0,
    created_at timestamptz not null,
    updated_at timestamptz not null,
    constraint notification_requests_pair_key unique (recipient_id, from_actor_id)
);

create index notification_requests_recipient on notification_requests (recipient_id, id desc);
create index notification_requests_from on notification_requests (from_actor_id);

-- Senders whose request the recipient accepted: never filtered again.
create table notification_permissions (
    recipient_id bigint not null references actors (id) on delete cascade,
    from_actor_id bigint not null references actors (id) on delete cascade,
    created_at timestamptz not null,
    primary key (recipient_id, from_actor_id)
);

create index notification_permissions_from on notification_permissions (from_actor_id);

-- Until now a limited account's notifications were hidden when read from
-- recipients that do not follow it (but for follow requests); the
-- default policy (`for_limited_accounts = filter`) now filters them when
-- they are made. Those already made stay hidden: filtered.
update notifications n set filtered = true
from actors a
where a.id = n.from_actor_id
  and n.kind in ('mention', 'reblog', 'follow', 'favourite', 'quote')
  and (a.silenced_at is not null
       or (a.domain is not null and exists (
               select 1 from domain_blocks lb
               where lb.severity = 'silence' and domain_covers(a.domain, lb.domain))))
  and not exists (select 1 from follows f
                  where f.follower_id = n.recipient_id and f.followee_id = a.id
                    and f.state = 'accepted');

-- Groups for what is already there: each series (recipient, kind, post)
-- in hour buckets.
update notifications
set group_key = case when kind in ('favourite', 'reblog')
                     then kind || '-' || post_id || '-' || (floor(extract(epoch from created_at) / 3600))::bigint
                     else kind || '-' || (floor(extract(epoch from created_at) / 3600))::bigint
                end
where not filtered
  and (kind in ('follow', 'admin.sign_up') or (kind in ('favourite', 'reblog') and post_id is not null));
