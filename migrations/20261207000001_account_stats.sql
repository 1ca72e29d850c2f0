-- An account's counts (followers, following, posts) and the time of its
-- latest post, kept as the rows they count change, in the same
-- transaction, by triggers: every path that changes follows or posts
-- (the client API, the web, the inbox, moves, moderation, cascades) keeps
-- them right without knowing of them. Presenting a page of posts reads
-- them instead of counting. `skein maintenance recount` rebuilds them.
--
-- Counted as before: accepted follows; posts (reposts included) that are
-- not deleted and not direct. The latest post is the newest one not
-- deleted, of any visibility.

create table account_stats (
    actor_id bigint primary key references actors (id) on delete cascade,
    followers bigint not null default 0,
    following bigint not null default 0,
    posts bigint not null default 0,
    last_post_at timestamptz
);

-- Rebuilds the counts of the given accounts (all of them with null).
create function account_stats_recount(ids bigint[]) returns void
language sql as $$
    insert into account_stats (actor_id, followers, following, posts, last_post_at)
    select a.id,
           (select count(*) from follows f where f.followee_id = a.id and f.state = 'accepted'),
           (select count(*) from follows f where f.follower_id = a.id and f.state = 'accepted'),
           (select count(*) from posts p
            where p.author_id = a.id and p.deleted_at is null
              and p.visibility in ('public', 'unlisted', 'private')),
           (select max(p.published) from posts p
            where p.author_id = a.id and p.deleted_at is null)
    from actors a
    where ids is null or a.id = any (ids)
    on conflict (actor_id) do update
        set followers = excluded.followers, following = excluded.following,
            posts = excluded.posts, last_post_at = excluded.last_post_at;
$$;

-- Adds to an account's counts. A rise creates the row; a fall only
-- changes a row there is (the account may be going away in a cascade).
create function account_stats_add(
    account bigint, d_followers bigint, d_following bigint, d_posts bigint,
    posted timestamptz
) returns void
language plpgsql as $$
begin
    if d_followers >= 0 and d_following >= 0 and d_posts >= 0 then
        insert into account_stats (actor_id, followers, following, posts, last_post_at)
        values (account, d_followers, d_following, d_posts, posted)
        on conflict (actor_id) do update
            set followers = account_stats.followers + d_followers,
                following = account_stats.following + d_following,
                posts = account_stats.posts + d_posts,
                last_post_at = greatest(account_stats.last_post_at, posted);
    else
        update account_stats
        set followers = greatest(followers + d_followers, 0),
            following = greatest(following + d_following, 0),
            posts = greatest(posts + d_posts, 0),
            last_post_at = greatest(last_post_at, posted)
        where actor_id = account;
    end if;
end;
$$;

-- A follow changes two accounts' rows; they are changed in the order of
-- their ids, so that two follows between the same two accounts (a follow
-- back) never wait on each other in a circle.
create function account_stats_follows() returns trigger
language plpgsql as $$
declare
    change record;
begin
    for change in
        select account, sum(d_followers) as d_followers, sum(d_following) as d_following
        from (
            select old.followee_id as account, -1 as d_followers, 0 as d_following
            where tg_op in ('UPDATE', 'DELETE') and old.state = 'accepted'
            union all
            select old.follower_id, 0, -1
            where tg_op in ('UPDATE', 'DELETE') and old.state = 'accepted'
            union all
            select new.followee_id, 1, 0
            where tg_op in ('INSERT', 'UPDATE') and new.state = 'accepted'
            union all
            select new.follower_id, 0, 1
            where tg_op in ('INSERT', 'UPDATE') and new.state = 'accepted'
        ) as changes
        group by account
        order by account
    loop
        if change.d_followers <> 0 or change.d_following <> 0 then
            perform account_stats_add(change.account, change.d_followers, change.d_following,
                                      0, null);
        end if;
    end loop;
    return null;
end;
$$;

create trigger follows_count_insert after insert on follows
    for each row execute function account_stats_follows();
create trigger follows_count_delete after delete on follows
    for each row execute function account_stats_follows();
create trigger follows_count_update after update on follows
    for each row
    when (old.state is distinct from new.state
          or old.follower_id is distinct from new.follower_id
          or old.followee_id is distinct from new.followee_id)
    execute function account_stats_follows();

create function account_stats_posts() returns trigger
language plpgsql as $$
declare
    newest timestamptz;
begin
    if tg_op in ('UPDATE', 'DELETE') then
        if old.deleted_at is null and old.visibility <> 'direct' then
            perform account_stats_add(old.author_id, 0, 0, -1, null);
        end if;
        -- The latest post went: the one before it is the latest now (post
        -- ids follow publication times, so the newest id is the latest).
        -- The row is locked first, so that a post the author makes
        -- meanwhile is seen (each statement here reads what committed
        -- before it started).
        perform 1 from account_stats where actor_id = old.author_id for update;
        if old.deleted_at is null
           and exists (select 1 from account_stats s
                       where s.actor_id = old.author_id and s.last_post_at <= old.published) then
            select p.published into newest from posts p
            where p.author_id = old.author_id and p.deleted_at is null and p.id <> old.id
            order by p.id desc limit 1;
            update account_stats set last_post_at = newest where actor_id = old.author_id;
        end if;
    end if;
    if tg_op in ('INSERT', 'UPDATE') and new.deleted_at is null then
        perform account_stats_add(
            new.author_id, 0, 0, case when new.visibility <> 'direct' then 1 else 0 end,
            new.published);
    end if;
    return null;
end;
$$;

create trigger posts_count_insert after insert on posts
    for each row execute function account_stats_posts();
create trigger posts_count_delete after delete on posts
    for each row execute function account_stats_posts();
create trigger posts_count_update after update on posts
    for each row
    when (old.deleted_at is distinct from new.deleted_at
          or old.visibility is distinct from new.visibility
          or old.author_id is distinct from new.author_id
          or old.published is distinct from new.published)
    execute function account_stats_posts();

select account_stats_recount(null);
