-- The instance's own custom emoji, as admins upload them in the web admin
-- area (Mastodon's CustomEmoji with no domain): shown for `:shortcode:` in
-- local posts, display names and bios, listed by /api/v1/custom_emojis,
-- federated as `Emoji` tags whose id is /emojis/ID. The image is a file
-- `imaging` wrote (`file_key`); `static_key` is its first frame as PNG
-- (the same file for a still image). Remote emoji stay in `post_emojis`.

create table custom_emojis (
    id bigint primary key default next_id(),
    -- Mastodon's rule: [a-zA-Z0-9_]{2,}; unique as written, since
    -- `:shortcode:` is matched as written.
    shortcode text not null check (shortcode ~ '^[a-zA-Z0-9_]{2,}$'),
    file_key text not null,
    content_type text not null check (content_type in ('image/png', 'image/gif')),
    static_key text not null,
    category text,
    visible_in_picker boolean not null default true,
    disabled boolean not null default false,
    created_at timestamptz not null,
    updated_at timestamptz not null,
    constraint custom_emojis_shortcode_key unique (shortcode)
);

create index custom_emojis_file_key on custom_emojis (file_key);
create index custom_emojis_static_key on custom_emojis (static_key);
