-- Scheduled posts (Mastodon's ScheduledStatus): what a local account asked
-- to post later, kept as the parameters it sent, until the timed work
-- publishes it through the same routine as any post
-- (`service::scheduled`). Publishing deletes the row in the transaction
-- that stores the post, so a post is published once.

create table scheduled_statuses (
    id bigint primary key default next_id(),
    account_id bigint not null references actors (id) on delete cascade,
    scheduled_at timestamptz not null,
    -- Mastodon's `params` as the API shows them (`service::scheduled::Params`).
    params jsonb not null,
    -- The app that scheduled it, credited on the post.
    app_id bigint references oauth_apps (id) on delete set null,
    created_at timestamptz not null
);

create index scheduled_statuses_due on scheduled_statuses (scheduled_at);
create index scheduled_statuses_account on scheduled_statuses (account_id, id);

-- An upload a scheduled post will carry: kept (not removed as unattached)
-- and refused to other posts until it is published or cancelled.
alter table uploads
    add column scheduled_status_id bigint references scheduled_statuses (id) on delete set null;
create index uploads_scheduled on uploads (scheduled_status_id)
    where scheduled_status_id is not null;
