-- Direct conversations (Mastodon's `conversations` and
-- `account_conversations`), and the indexes the notifications, markers and
-- domain-block endpoints read by.

-- A thread of direct posts: a direct post joins the conversation of the
-- post it replies to, or starts a new one.
create table conversations (
    id bigint primary key default next_id(),
    created_at timestamptz not null
);

-- Which conversation each direct post belongs to (how a reply finds its
-- thread's conversation).
create table conversation_posts (
    post_id bigint primary key references posts (id) on delete cascade,
    conversation_id bigint not null references conversations (id) on delete cascade
);

-- A conversation as one local participant sees it: with whom (the other
-- participants, sorted, as Mastodon's `participant_account_ids`), which
-- posts, the newest of them, and whether it is unread. The same thread with
-- other participants (someone added or left out) is another row.
create table account_conversations (
    id bigint primary key default next_id(),
    actor_id bigint not null references actors (id) on delete cascade,
    conversation_id bigint not null references conversations (id) on delete cascade,
    participant_ids bigint[] not null,
    post_ids bigint[] not null,
    -- The cursor of Mastodon's paging (by last status, not by row).
    last_post_id bigint not null,
    unread boolean not null default false,
    updated_at timestamptz not null,
    constraint account_conversations_key unique (actor_id, conversation_id, participant_ids)
);

create index account_conversations_actor on account_conversations (actor_id, last_post_id desc);

-- Notifications are listed per recipient and filtered by sender.
create index notifications_from on notifications (from_actor_id);
-- A user's domain blocks, newest first.
create index user_domain_blocks_actor on user_domain_blocks (actor_id, id desc);
