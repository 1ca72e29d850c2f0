-- Posts flowing both ways: mentions, hashtags, likes, reposts, edits,
-- tombstones and notifications.

-- A deleted post keeps its row as a tombstone (its content emptied), so that
-- fetching it answers 410 and a Create arriving after its Delete is ignored.
alter table posts add column deleted_at timestamptz;
-- A repost (Announce) is a post of its own that points at the reposted one.
alter table posts add column reblog_of_id bigint references posts (id) on delete cascade;
alter table posts add column replies_count integer not null default 0;
alter table posts add column likes_count integer not null default 0;
alter table posts add column reposts_count integer not null default 0;

create index posts_in_reply_to on posts (in_reply_to_id, id);
create index posts_reblog_of on posts (reblog_of_id);
create index posts_in_reply_to_ap_id on posts (in_reply_to_ap_id) where in_reply_to_id is null;

-- Accounts a post mentions (from its Mention tags, never from its HTML).
create table post_mentions (
    post_id bigint not null references posts (id) on delete cascade,
    actor_id bigint not null references actors (id) on delete cascade,
    primary key (post_id, actor_id)
);

create index post_mentions_actor on post_mentions (actor_id, post_id desc);

-- Hashtags of a post, lower-cased, without the #.
create table post_tags (
    post_id bigint not null references posts (id) on delete cascade,
    tag text not null,
    primary key (post_id, tag)
);

create index post_tags_tag on post_tags (tag, post_id desc);

create table likes (
    id bigint primary key default next_id(),
    actor_id bigint not null references actors (id) on delete cascade,
    post_id bigint not null references posts (id) on delete cascade,
    -- The id of the Like activity.
    ap_id text,
    created_at timestamptz not null default now(),
    constraint likes_pair_key unique (actor_id, post_id),
    constraint likes_ap_id_key unique (ap_id)
);

create index likes_post on likes (post_id, id desc);

-- Earlier versions of edited posts, oldest first.
create table post_edits (
    id bigint primary key default next_id(),
    post_id bigint not null references posts (id) on delete cascade,
    content text not null,
    summary text not null,
    sensitive boolean not null,
    created_at timestamptz not null
);

create index post_edits_post on post_edits (post_id, id);

-- Notifications of local accounts, with Mastodon's types.
create table notifications (
    id bigint primary key default next_id(),
    recipient_id bigint not null references actors (id) on delete cascade,
    kind text not null check (kind in ('mention', 'status', 'reblog', 'follow', 'follow_request',
                                        'favourite', 'poll', 'update', 'quote')),
    from_actor_id bigint not null references actors (id) on delete cascade,
    post_id bigint references posts (id) on delete cascade,
    created_at timestamptz not null default now(),
    read boolean not null default false
);

create index notifications_recipient on notifications (recipient_id, id desc);
-- One notification per event: the same like or mention twice is one.
create unique index notifications_event_key
    on notifications (recipient_id, kind, from_actor_id, coalesce(post_id, 0));
