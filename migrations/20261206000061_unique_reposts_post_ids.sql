-- What must be unique is unique by constraint, so that concurrent writers
-- cannot both succeed (likes, follows and poll choices already are), and
-- post ids never collide.

-- One live repost per account and post. Concurrent Announces could leave
-- several: the oldest stays, the others go, and the count of the reposted
-- post loses what they had added to it.
with removed as (
    delete from posts p
    using posts q
    where p.reblog_of_id is not null and p.deleted_at is null
      and q.reblog_of_id = p.reblog_of_id and q.author_id = p.author_id
      and q.deleted_at is null and q.id < p.id
    returning p.reblog_of_id
),
extra as (
    select reblog_of_id, count(*)::integer as n from removed group by reblog_of_id
)
update posts o set reposts_count = greatest(o.reposts_count - extra.n, 0)
from extra where o.id = extra.reblog_of_id;

create unique index posts_one_live_repost on posts (reblog_of_id, author_id)
    where reblog_of_id is not null and deleted_at is null;

-- A post's id is made from its published time, so that ids sort timelines,
-- and remote posts bring any time: two posts of the same millisecond meet
-- again once the 16-bit sequence of `next_id` wraps (posts published on the
-- same second, as servers that drop milliseconds send them, are common).
-- This takes the next id of that millisecond that no post has. A concurrent
-- transaction may still be inserting the same id: `db::posts` retries then.
create function next_post_id(at timestamptz) returns bigint
language plpgsql volatile as $$
declare
    candidate bigint;
begin
    for attempt in 1..65536 loop
        candidate := next_id(at);
        if not exists (select 1 from posts where id = candidate) then
            return candidate;
        end if;
    end loop;
    raise exception 'every post id of the millisecond of % is taken', at;
end
$$;
