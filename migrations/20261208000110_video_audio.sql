-- Video and audio uploads. They are transcoded in the background (an H.264
-- and AAC MP4, an MP3), so an upload is first `processing` and becomes
-- `ready` (or `failed`) when a worker has made its files; until then its
-- file names are reserved but nothing is stored under them, and the file as
-- uploaded waits under `source_key`. The previews of video (a poster frame)
-- and audio (a waveform) are images, as before.
alter table uploads drop constraint uploads_content_type_check;
alter table uploads add constraint uploads_content_type_check
    check (content_type in ('image/jpeg', 'image/png', 'image/gif', 'video/mp4', 'audio/mpeg'));
alter table uploads add column kind text not null default 'image'
    check (kind in ('image', 'video', 'audio'));
alter table uploads add column state text not null default 'ready'
    check (state in ('processing', 'ready', 'failed'));
-- The file as uploaded, while it waits to be transcoded.
alter table uploads add column source_key text;
-- Seconds, for video and audio.
alter table uploads add column duration real;

-- The transcoding queue: one row per upload waiting, claimed by one worker
-- process at a time (`for update skip locked`, with the claimer's worker id
-- so that a dead process's claim is taken over at once; the lease covers a
-- hung one). The row goes when the upload is ready or failed.
create table media_jobs (
    upload_id bigint primary key references uploads (id) on delete cascade,
    -- 'video' or 'audio': what to make of the source.
    kind text not null check (kind in ('video', 'audio')),
    -- The demuxer ffprobe found (mov, matroska, mp3, ogg, wav): the only
    -- one the transcoder is allowed to use.
    input_format text not null,
    attempts integer not null default 0,
    run_after timestamptz not null,
    claimed_by integer,
    claimed_until timestamptz,
    created_at timestamptz not null
);

create index media_jobs_due on media_jobs (run_after);

-- What a video or audio attachment carries besides its file: the preview
-- (poster frame or waveform) and the length in seconds.
alter table attachments add column preview_url text;
alter table attachments add column duration real;
