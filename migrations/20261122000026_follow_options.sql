-- What a follower asked of a follow (Mastodon's follow options): whether
-- the followee's reposts enter the home timeline, whether each new post
-- notifies, and which languages of its posts to show (null: all).
alter table follows
    add column show_reblogs boolean not null default true,
    add column notify boolean not null default false,
    add column languages text[];
