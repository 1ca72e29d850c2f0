-- Home timelines that the newest posts do not fill (a new account, one that
-- follows a few quiet accounts) are read per followed author: a page of each
-- author's newest live posts, with their visibility, from this index alone
-- (an index-only scan), then merged. See db::timelines::home.
drop index posts_author_live;
create index posts_author_live on posts (author_id, id desc) include (visibility)
    where deleted_at is null;
