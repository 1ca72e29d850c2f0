-- E-mail domains refused at sign-up (Mastodon's EmailDomainBlock): a block
-- covers its subdomains. `allow_with_approval` lets sign-ups through into
-- the approval queue instead. Each refused or queued attempt is counted
-- per day and address, for the entity's seven-day `history`.
create table email_domain_blocks (
    id bigint primary key default next_id(),
    domain text not null,
    allow_with_approval boolean not null default false,
    created_at timestamptz not null,
    constraint email_domain_blocks_domain_key unique (domain)
);

create table email_domain_block_attempts (
    block_id bigint not null references email_domain_blocks (id) on delete cascade,
    day date not null,
    ip text not null,
    attempts integer not null default 1,
    primary key (block_id, day, ip)
);
