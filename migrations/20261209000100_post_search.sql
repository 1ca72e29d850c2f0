-- Full-text search of posts (Mastodon's status search, on PostgreSQL's
-- text search): one document per live original post, made from its
-- plain text (content warning, the content without its HTML, media
-- descriptions, poll options) with the `simple` configuration (lower-case
-- words, no stemming, no stop words: one behaviour whatever the post's
-- language), kept by triggers in the transaction that changes the post, its
-- media or its poll. Reposts and deleted posts have none.
--
-- The documents live beside `posts`, not in it: every timeline reads
-- `posts.*`, which would otherwise carry each document over the wire, and
-- adding them here rewrites no row of `posts` (no ACCESS EXCLUSIVE lock
-- held while a million rows are backfilled, no bloat of the hot table).
-- Cost on a million posts: the triggers are created first (writes to
-- posts, attachments and polls wait for this migration's commit; reads do
-- not), then one insert reads every post once with two index lookups each
-- and writes a million small rows, then the GIN index is built from them.
-- Measured on a million posts of about 250 characters (a tenth with a
-- described medium): 6 minutes on two cores busy with other work, 628 MB
-- of documents and index (172 MB of it the index) beside 998 MB of posts.

create table post_search_documents (
    post_id bigint primary key references posts (id) on delete cascade,
    document tsvector not null
);

-- A post's HTML as words: tags that end a block become spaces, others
-- vanish (`@<span>bob</span>` is `@bob`), and the entities the sanitiser
-- writes are read back.
create function post_search_plain(html text) returns text
language sql immutable parallel safe as $$
    select replace(replace(replace(replace(replace(replace(replace(
        regexp_replace(
            regexp_replace(html, '<(br|/p|/li|/h[1-6]|/blockquote|/pre|/div)[^>]*>', ' ', 'gi'),
            '<[^>]*>', '', 'g'),
        '&lt;', '<'), '&gt;', '>'), '&quot;', '"'), '&#39;', ''''), '&#x27;', ''''),
        '&nbsp;', ' '), '&amp;', '&')
$$;

-- The document of post `target` from its content warning and content, its
-- media descriptions and its poll's options.
create function post_search_document(target bigint, summary text, content text) returns tsvector
language sql stable as $$
    select to_tsvector('simple',
        summary || ' ' || post_search_plain(content)
        || ' ' || coalesce((select string_agg(a.description, ' ' order by a.position)
                            from attachments a where a.post_id = target), '')
        || ' ' || coalesce((select string_agg(o ->> 'title', ' ')
                            from polls pl cross join jsonb_array_elements(pl.options) o
                            where pl.post_id = target), ''))
$$;

-- Writes (or removes, for a deleted post or a repost) the document of one
-- post as the post now is.
create function post_search_refresh(target bigint) returns void
language sql as $$
    with doc as (
        select p.id, post_search_document(p.id, p.summary, p.content) as document
        from posts p
        where p.id = target and p.deleted_at is null and p.reblog_of_id is null
    ), gone as (
        delete from post_search_documents d
        where d.post_id = target and not exists (select 1 from doc)
    )
    insert into post_search_documents (post_id, document)
    select id, document from doc
    on conflict (post_id) do update set document = excluded.document
$$;

create function posts_search_changed() returns trigger
language plpgsql as $$
begin
    perform post_search_refresh(new.id);
    return null;
end
$$;

create trigger posts_search_insert after insert on posts
    for each row when (new.reblog_of_id is null)
    execute function posts_search_changed();

create trigger posts_search_update after update of content, summary, deleted_at on posts
    for each row when (old.content is distinct from new.content
                       or old.summary is distinct from new.summary
                       or old.deleted_at is distinct from new.deleted_at)
    execute function posts_search_changed();

create function attachments_search_changed() returns trigger
language plpgsql as $$
begin
    if tg_op <> 'INSERT' then
        perform post_search_refresh(old.post_id);
    end if;
    if tg_op = 'INSERT' or (tg_op = 'UPDATE' and new.post_id <> old.post_id) then
        perform post_search_refresh(new.post_id);
    end if;
    return null;
end
$$;

create trigger attachments_search after insert or delete or update of description, post_id
    on attachments for each row execute function attachments_search_changed();

-- Votes change a poll's counts, not its options' titles: only a change of
-- titles (or a poll added or removed) touches the document.
create function polls_search_changed() returns trigger
language plpgsql as $$
begin
    if tg_op = 'UPDATE' and jsonb_path_query_array(old.options, '$[*].title')
                            = jsonb_path_query_array(new.options, '$[*].title') then
        return null;
    end if;
    perform post_search_refresh(case when tg_op = 'DELETE' then old.post_id else new.post_id end);
    return null;
end
$$;

create trigger polls_search after insert or delete or update of options
    on polls for each row execute function polls_search_changed();

insert into post_search_documents (post_id, document)
select p.id, post_search_document(p.id, p.summary, p.content)
from posts p
where p.deleted_at is null and p.reblog_of_id is null;

create index post_search_documents_document on post_search_documents using gin (document);
