-- Remote media cached: the files of remote accounts and posts (attachments,
-- avatars, headers, custom emoji; preview cards' images), one row per
-- remote URL. A row is queued ('pending') when the post or account naming
-- the URL is stored, and downloaded in the background by the workers of
-- any process (claimed `for update skip locked` with the worker lock and a
-- lease, like deliveries). Until it is 'stored', and for good when it
-- 'failed', the remote URL is shown. 'pruned' rows had their files removed
-- (`skein media prune`, `media.remote_retention_days`): they are shown as
-- `/media_proxy/TOKEN`, which downloads them again when asked for.

create table remote_media (
    id bigint primary key default next_id(),
    -- The remote URL, as the post or account gave it (the fallback, and
    -- Mastodon's `remote_url`).
    url text not null unique,
    kind text not null check (kind in ('attachment', 'avatar', 'header', 'emoji', 'card')),
    -- The host of the account or post that named it, held to the domain
    -- policy (reject_media, suspend): its rows go when media are rejected.
    domain text not null,
    -- Unguessable and stable: `/media_proxy/TOKEN` names the row whatever
    -- its files are called.
    token text not null unique default replace(gen_random_uuid()::text, '-', ''),
    state text not null default 'pending'
        check (state in ('pending', 'stored', 'failed', 'pruned')),
    attempts integer not null default 0,
    next_attempt_at timestamptz not null,
    locked_by integer,
    locked_until timestamptz,
    last_error text,
    -- The stored files (names `domain::media::new_file_name` makes), only
    -- while 'stored'. Images were re-encoded by `imaging` (with a preview);
    -- video and audio are stored as they came, typed from their bytes.
    file_key text unique,
    small_key text unique,
    content_type text,
    small_content_type text,
    file_size bigint,
    width integer,
    height integer,
    blurhash text,
    created_at timestamptz not null,
    fetched_at timestamptz,
    check ((state = 'stored') = (file_key is not null and content_type is not null))
);

create index remote_media_due on remote_media (next_attempt_at, id) where state = 'pending';
create index remote_media_stored on remote_media (fetched_at) where state = 'stored';
create index remote_media_domain on remote_media (domain);
