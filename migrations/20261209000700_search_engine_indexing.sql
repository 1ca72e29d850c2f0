-- Search-engine indexing per account, as Mastodon's "Include profile page
-- in search engines" preference: off until the account opts in; the web
-- pages of an account that did not opt in carry `noindex`.
alter table users add column search_engine_indexing boolean not null default false;
