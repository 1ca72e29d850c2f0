-- Images uploaded by local accounts: two files each under the media
-- directory (the stored image and its preview), and what Mastodon's
-- MediaAttachment shows of them. An upload belongs to at most one post; until
-- then it is the owner's to describe, and one left unattached for a day is
-- removed. When it is attached, a row in `attachments` with the same id
-- carries it on the post, as remote posts' media are carried.
create table uploads (
    id bigint primary key default next_id(),
    owner_id bigint not null references actors (id) on delete cascade,
    -- Null until a post is written with it.
    post_id bigint references posts (id) on delete set null,
    -- File names under the media directory: 128 random bits in hex and the
    -- extension of the type.
    file_key text not null,
    small_key text not null,
    -- Only types Skein writes itself, so only these are ever served.
    content_type text not null check (content_type in ('image/jpeg', 'image/png', 'image/gif')),
    small_content_type text not null
        check (small_content_type in ('image/jpeg', 'image/png', 'image/gif')),
    file_size integer not null,
    small_size integer not null,
    -- {"original": {"width", "height", "size", "aspect"}, "small": {...}}
    meta jsonb not null,
    -- Alt text, plain.
    description text not null default '',
    focal_x real check (focal_x between -1 and 1),
    focal_y real check (focal_y between -1 and 1),
    blurhash text,
    created_at timestamptz not null,
    constraint uploads_file_key_key unique (file_key),
    constraint uploads_small_key_key unique (small_key)
);

create index uploads_post on uploads (post_id) where post_id is not null;
create index uploads_unattached on uploads (created_at) where post_id is null;
