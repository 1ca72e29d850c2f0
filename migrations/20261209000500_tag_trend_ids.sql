-- A hashtag has one id everywhere (Mastodon's Tag id): trends used to give
-- hashtags ids of their own (tag_trends.id) that differed from those of
-- the `tags` table (followed, featured, looked up). Every hashtag trends
-- know gets a `tags` row (keeping its trends id when it had none), its
-- trends row takes that row's id, and both stay tied by constraint.
-- (Ids come from one sequence, so no id of one table is another's.)
insert into tags (id, tag, name)
select tt.id, tt.tag, tt.tag from tag_trends tt
on conflict (tag) do nothing;

update tag_trends tt set id = t.id
from tags t
where t.tag = tt.tag and tt.id <> t.id;

alter table tag_trends alter column id drop default;
alter table tag_trends
    add constraint tag_trends_tag_fkey foreign key (tag) references tags (tag),
    add constraint tag_trends_id_fkey foreign key (id) references tags (id);
