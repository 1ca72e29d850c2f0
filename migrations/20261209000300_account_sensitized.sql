-- Mastodon's "force sensitive" strike: while set, the account's posts with
-- media are shown and federated as sensitive (read from here, so posts
-- written before the strike are covered too, and lifting it restores them).
alter table actors add column sensitized_at timestamptz;
