-- Who was active on which day (a sign-in, or a session or token in use),
-- kept beside `user_active_weeks` by the same reads, for the admin API's
-- `active_users` measure and the retention cohorts. And which app a
-- sign-up came through (null: the web), for the `sources` dimension.
create table user_active_days (
    user_id bigint not null references users (id) on delete cascade,
    day date not null,
    primary key (day, user_id)
);

alter table users add column sign_up_app_id bigint references oauth_apps (id) on delete set null;
