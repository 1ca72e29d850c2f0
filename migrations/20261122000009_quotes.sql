-- Quote posts (FEP-044f): the quoted post, the approval state, and who may
-- quote a post.
alter table posts add column quote_of_id bigint references posts (id) on delete set null;
alter table posts add column quote_ap_id text;
alter table posts add column quote_state text
    check (quote_state in ('pending', 'accepted', 'rejected'));
-- The QuoteRequest this post's author sent, and the authorization received.
alter table posts add column quote_request_id text;
alter table posts add column quote_authorization text;
-- Who may quote this post: everyone, the author's followers, or nobody but
-- the author.
alter table posts add column quote_policy text not null default 'public'
    check (quote_policy in ('public', 'followers', 'nobody'));

create index posts_quote_request on posts (quote_request_id) where quote_request_id is not null;
create index posts_quote_of on posts (quote_of_id) where quote_of_id is not null;

-- Approvals given by local authors for quotes of their posts.
create table quote_authorizations (
    id bigint primary key default next_id(),
    quoted_post_id bigint not null references posts (id) on delete cascade,
    -- The quoting post's ActivityPub id.
    quote_ap_id text not null,
    quoting_actor_id bigint not null references actors (id) on delete cascade,
    created_at timestamptz not null default now(),
    constraint quote_authorizations_quote_key unique (quoted_post_id, quote_ap_id)
);
