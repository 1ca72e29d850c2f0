-- E-mail addresses refused at sign-up by their canonical form's SHA-256
-- (Mastodon's CanonicalEmailBlock: lower case, the local part without dots
-- and without its +suffix). Deleting a suspended local account's data
-- reserves its address here, with the account for reference.
create table canonical_email_blocks (
    id bigint primary key default next_id(),
    canonical_email_hash text not null,
    reference_account_id bigint references actors (id) on delete set null,
    created_at timestamptz not null,
    constraint canonical_email_blocks_hash_key unique (canonical_email_hash)
);
