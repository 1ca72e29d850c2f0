-- Followed and featured hashtags, private notes on accounts, endorsed
-- accounts, muted conversations (Mastodon's client API).

-- Hashtags the client API named with an id (Mastodon's Tag `id`): those
-- followed, featured or looked up while used in posts. `tag` is the
-- hashtag as posts store it (lower case), `name` as first written.
create table tags (
    id bigint primary key default next_id(),
    tag text not null unique,
    name text not null
);

-- Hashtags an account follows: their public posts enter its home timeline
-- from when it followed them.
create table tag_follows (
    id bigint primary key default next_id(),
    actor_id bigint not null references actors (id) on delete cascade,
    tag text not null references tags (tag),
    created_at timestamptz not null,
    unique (actor_id, tag)
);
-- Who follows a hashtag (live updates of home timelines).
create index tag_follows_tag on tag_follows (tag, actor_id);

-- Hashtags an account features on its profile (the actor's `featuredTags`).
create table featured_tags (
    id bigint primary key default next_id(),
    actor_id bigint not null references actors (id) on delete cascade,
    tag text not null references tags (tag),
    created_at timestamptz not null,
    unique (actor_id, tag)
);

-- A private note an account keeps about another (Relationship's `note`).
create table account_notes (
    actor_id bigint not null references actors (id) on delete cascade,
    target_id bigint not null references actors (id) on delete cascade,
    comment text not null,
    updated_at timestamptz not null,
    primary key (actor_id, target_id)
);

-- Accounts an account endorses (features) on its profile.
create table endorsements (
    id bigint primary key default next_id(),
    actor_id bigint not null references actors (id) on delete cascade,
    target_id bigint not null references actors (id) on delete cascade,
    created_at timestamptz not null,
    unique (actor_id, target_id)
);
create index endorsements_target on endorsements (target_id);

-- An endorsement needs the follow: it ends with it, however the follow
-- ends (unfollowing, a block, a rejection), as Mastodon's Follow does.
create function end_endorsement() returns trigger
language plpgsql as $$
begin
    delete from endorsements where actor_id = old.follower_id and target_id = old.followee_id;
    return old;
end
$$;
create trigger follows_end_endorsement after delete on follows
    for each row execute function end_endorsement();

-- Threads an account muted, by their first post: no notifications from
-- them, `muted` on their posts.
create table conversation_mutes (
    actor_id bigint not null references actors (id) on delete cascade,
    root_id bigint not null references posts (id) on delete cascade,
    created_at timestamptz not null,
    primary key (actor_id, root_id)
);

-- The first post of the thread a post is in (itself when it answers
-- nothing known), walking up at most 200 replies.
create function thread_root(post bigint) returns bigint
language sql stable as $$
    with recursive up (id, parent, depth) as (
        select id, in_reply_to_id, 0 from posts where id = post
        union all
        select p.id, p.in_reply_to_id, up.depth + 1
        from posts p join up on p.id = up.parent
        where up.depth < 200
    )
    select id from up order by depth desc limit 1
$$;
