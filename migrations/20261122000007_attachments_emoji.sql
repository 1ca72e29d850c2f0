-- Media attached to posts (remote ones keep the sender's URLs) and the custom
-- emoji a post uses.
create table attachments (
    id bigint primary key default next_id(),
    post_id bigint not null references posts (id) on delete cascade,
    position integer not null,
    -- Mastodon's kinds: image, video, gifv, audio, unknown.
    kind text not null check (kind in ('image', 'video', 'gifv', 'audio', 'unknown')),
    url text not null,
    media_type text,
    -- Alt text, plain.
    description text not null default '',
    blurhash text,
    focal_x real,
    focal_y real,
    width integer,
    height integer
);

create index attachments_post on attachments (post_id, position);

create table post_emojis (
    post_id bigint not null references posts (id) on delete cascade,
    -- Without the colons.
    shortcode text not null,
    url text not null,
    primary key (post_id, shortcode)
);
