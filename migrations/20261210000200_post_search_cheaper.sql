-- The search documents' triggers, cheaper on the inbox's path; the
-- documents stay the same (see 20261209000100_post_search.sql).
--
-- A SQL-language function called from a trigger is parsed and planned
-- again on every call (PostgreSQL 15 keeps no plan of its body between
-- calls); a PL/pgSQL function keeps its statements' plans for the session.
-- In the ingest benchmark's profile the refresh of a new post's document
-- (SQL functions: `fmgr_sql`, most of it parsing and planning) was about a
-- sixth of PostgreSQL's CPU time; on its own it was three quarters of a
-- post insert's (about 650 of 870 microseconds, 150 after this).
--
-- 1. A new post's document comes from the row alone: it can have no media
--    or poll yet (both reference the post, and add themselves to the
--    document through their own triggers when they come), so nothing else
--    is read. A tombstone (a post deleted before it came) has none.
-- 2. The refresh (an edit, a deletion, media or a poll changed) keeps its
--    statement and becomes PL/pgSQL, so that its plan is kept too.

create function posts_search_inserted() returns trigger
language plpgsql as $$
begin
    insert into post_search_documents (post_id, document)
    values (new.id, to_tsvector('simple', new.summary || ' ' || post_search_plain(new.content)))
    on conflict (post_id) do update set document = excluded.document;
    return null;
end
$$;

drop trigger posts_search_insert on posts;
create trigger posts_search_insert after insert on posts
    for each row when (new.reblog_of_id is null and new.deleted_at is null)
    execute function posts_search_inserted();

create or replace function post_search_refresh(target bigint) returns void
language plpgsql as $$
begin
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
    on conflict (post_id) do update set document = excluded.document;
end
$$;
