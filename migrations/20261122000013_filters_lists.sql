-- Filters (Mastodon's v2 filters: keywords and statuses grouped under a
-- title, applied in some contexts) and lists (accounts a user follows,
-- grouped into timelines of their own).
--
-- Both are private to the local account that owns them; nothing here
-- federates.

create table filters (
    id bigint primary key default next_id(),
    actor_id bigint not null references actors (id) on delete cascade,
    title text not null,
    -- Where the filter applies: home, notifications, public, thread, account.
    context text[] not null,
    action text not null default 'warn' check (action in ('warn', 'hide', 'blur')),
    expires_at timestamptz,
    created_at timestamptz not null,
    updated_at timestamptz not null
);

create index filters_actor on filters (actor_id, id);

create table filter_keywords (
    id bigint primary key default next_id(),
    filter_id bigint not null references filters (id) on delete cascade,
    keyword text not null,
    -- Mastodon's default: keywords match whole words unless told otherwise.
    whole_word boolean not null default true,
    created_at timestamptz not null
);

create index filter_keywords_filter on filter_keywords (filter_id, id);

create table filter_statuses (
    id bigint primary key default next_id(),
    filter_id bigint not null references filters (id) on delete cascade,
    post_id bigint not null references posts (id) on delete cascade,
    created_at timestamptz not null,
    constraint filter_statuses_pair_key unique (filter_id, post_id)
);

create table lists (
    id bigint primary key default next_id(),
    actor_id bigint not null references actors (id) on delete cascade,
    title text not null,
    replies_policy text not null default 'list'
        check (replies_policy in ('followed', 'list', 'none')),
    -- Members' posts leave the owner's home timeline.
    exclusive boolean not null default false,
    created_at timestamptz not null
);

create index lists_actor on lists (actor_id, id);

create table list_accounts (
    id bigint primary key default next_id(),
    list_id bigint not null references lists (id) on delete cascade,
    actor_id bigint not null references actors (id) on delete cascade,
    -- The owner's follow of the member (null when owners list themselves):
    -- ending the follow, by unfollowing, a block or a Reject, takes the
    -- member off every list of the owner, as Mastodon does.
    follow_id bigint references follows (id) on delete cascade,
    created_at timestamptz not null,
    constraint list_accounts_pair_key unique (list_id, actor_id)
);

create index list_accounts_actor on list_accounts (actor_id);
create index list_accounts_follow on list_accounts (follow_id);
