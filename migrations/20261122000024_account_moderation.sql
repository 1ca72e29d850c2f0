-- Account moderation: moderators suspend or silence (Mastodon's "limit")
-- local and remote accounts. Both can be lifted.
--
-- Suspended: a local account cannot sign in, its profile is emptied and its
-- posts are hidden everywhere; a remote account's activities are refused,
-- its relations end and what was stored of it is purged. Silenced: its
-- posts stay out of public and hashtag timelines except for its followers.
alter table actors
    add column suspended_at timestamptz,
    add column silenced_at timestamptz;

create index actors_suspended on actors (id) where suspended_at is not null;
create index actors_silenced on actors (id) where silenced_at is not null;
