-- Reply approvals (GoToSocial's interaction controls). When a reply to a
-- local post with limited replies is admitted, the post's author approves
-- it: an authorization is kept here and served as a ReplyAuthorization (and
-- as the Accept that carried it), so that other servers can check it.
create table reply_authorizations (
    id bigint primary key default next_id(),
    -- The local post replied to.
    post_id bigint not null references posts (id) on delete cascade,
    reply_ap_id text not null,
    replier_id bigint not null references actors (id) on delete cascade,
    created_at timestamptz not null,
    constraint reply_authorizations_reply_key unique (post_id, reply_ap_id)
);

-- A local reply approved by the author of a remote post: the authorization
-- (`replyAuthorization`) and the Accept that carried it (`approvedBy`),
-- published with the reply.
alter table posts
    add column reply_authorization text,
    add column reply_approved_by text;
