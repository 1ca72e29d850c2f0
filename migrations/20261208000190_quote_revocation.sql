-- A quote's author may take back an approval (Mastodon 4.5's revoke): the
-- quoting post's quote becomes `revoked`, and the authorization is no
-- longer served or given again.
alter table posts drop constraint posts_quote_state_check;
alter table posts add constraint posts_quote_state_check
    check (quote_state in ('pending', 'accepted', 'rejected', 'revoked'));
alter table quote_authorizations add column revoked_at timestamptz;
-- A Delete of an authorization finds the quotes that relied on it.
create index posts_quote_authorization on posts (quote_authorization)
    where quote_authorization is not null;
