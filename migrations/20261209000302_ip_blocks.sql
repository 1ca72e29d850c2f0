-- Address ranges the instance restricts (Mastodon's IpBlock): sign-ups
-- from them wait for approval, are refused, or every request is refused
-- (`no_access`, checked in memory by every process; each change is
-- announced on the change channel). An expired block no longer applies.
create table ip_blocks (
    id bigint primary key default next_id(),
    ip inet not null,
    severity text not null
        check (severity in ('sign_up_requires_approval', 'sign_up_block', 'no_access')),
    comment text not null default '',
    expires_at timestamptz,
    created_at timestamptz not null,
    updated_at timestamptz not null,
    constraint ip_blocks_ip_key unique (ip)
);
