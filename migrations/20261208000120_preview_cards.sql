-- Link previews (Mastodon's preview cards): one card per URL, shared by
-- every post that links to it and refreshed when it is stale; which card a
-- post shows; the queue of posts whose first link waits to be fetched; the
-- previews authors removed; the domains the admin excluded.

create table preview_cards (
    id bigint primary key default next_id(),
    -- The page's URL as the post linked it (normalised), or where its
    -- redirects ended.
    url text not null,
    title text not null default '',
    description text not null default '',
    kind text not null default 'link' check (kind in ('link', 'photo', 'video', 'rich')),
    author_name text not null default '',
    author_url text not null default '',
    provider_name text not null default '',
    provider_url text not null default '',
    -- Always empty: Skein embeds no third-party HTML.
    html text not null default '',
    width integer not null default 0,
    height integer not null default 0,
    -- The image, re-encoded by Skein and kept in the media store under a
    -- name of the form uploads use; served by /media/NAME like them.
    image_file text,
    image_content_type text check (image_content_type in ('image/jpeg', 'image/png', 'image/gif')),
    image_width integer,
    image_height integer,
    image_description text not null default '',
    blurhash text,
    embed_url text not null default '',
    language text,
    published_at timestamptz,
    fetched_at timestamptz not null,
    created_at timestamptz not null,
    constraint preview_cards_url_key unique (url),
    constraint preview_cards_image_file_key unique (image_file)
);

-- The card a post shows (Mastodon: preview_cards_statuses, one per post).
create table post_preview_cards (
    post_id bigint primary key references posts (id) on delete cascade,
    card_id bigint not null references preview_cards (id) on delete cascade,
    -- The link of the post the card is for, as the post has it.
    url text not null
);
create index post_preview_cards_card on post_preview_cards (card_id);

-- Posts whose first link waits to be fetched: claimed by the workers of
-- any process with `for update skip locked` and a lease; a row is deleted
-- once its fetch is done, whatever came of it.
create table preview_card_fetches (
    post_id bigint primary key references posts (id) on delete cascade,
    due_at timestamptz not null,
    attempts integer not null default 0,
    queued_at timestamptz not null
);
create index preview_card_fetches_due on preview_card_fetches (due_at);

-- A link preview its author removed: the post shows no card for that link
-- again, edits included (a new link gets its preview).
create table preview_card_removals (
    post_id bigint primary key references posts (id) on delete cascade,
    url text not null,
    removed_at timestamptz not null
);

-- Domains whose pages get no preview (a domain covers its subdomains).
create table preview_card_domain_exclusions (
    domain text primary key,
    created_at timestamptz not null
);
