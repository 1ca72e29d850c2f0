-- Timelines read newest first with keyset pagination on the post id.

-- Public timelines: public, original, not deleted posts.
create index posts_public on posts (id desc)
    where visibility = 'public' and deleted_at is null and reblog_of_id is null;
-- Home timelines read the newest posts of each followed author; this index
-- lets them skip deleted rows without touching the table.
create index posts_author_live on posts (author_id, id desc) where deleted_at is null;
