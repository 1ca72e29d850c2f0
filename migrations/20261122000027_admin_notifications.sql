-- Staff notifications, as Mastodon sends them: a new report
-- (`admin.report`, naming the report) and a sign-up (`admin.sign_up`).
alter table notifications drop constraint notifications_kind_check;
alter table notifications add constraint notifications_kind_check
    check (kind in ('mention', 'status', 'reblog', 'follow', 'follow_request', 'favourite',
                    'poll', 'update', 'quote', 'admin.report', 'admin.sign_up'));
alter table notifications add column report_id bigint references reports (id) on delete cascade;

drop index notifications_event_key;
create unique index notifications_event_key
    on notifications (recipient_id, kind, from_actor_id, coalesce(post_id, 0),
                      coalesce(report_id, 0));
