-- The instance's domain policy, as Mastodon's admin sets it: blocks with a
-- severity (silence: kept out of public timelines; suspend: nothing in or
-- out) and the reject-media flag, each covering the domain's subdomains;
-- and the allowed domains of the allow-list federation mode.
--
-- Domains are stored normalised (`domain::domain_name::normalize`: lower
-- case, IDNA to ASCII, no trailing dot); actors' hosts are compared with
-- `domain_covers`, the one comparison every query uses.

create table domain_blocks (
    id bigint primary key default next_id(),
    domain text not null unique,
    severity text not null check (severity in ('noop', 'silence', 'suspend')),
    reject_media boolean not null default false,
    reject_reports boolean not null default false,
    -- Seen by staff only.
    private_comment text not null default '',
    -- Shown with the public list of blocks.
    public_comment text not null default '',
    -- Shown partly hidden in the public list.
    obfuscate boolean not null default false,
    created_at timestamptz not null,
    updated_at timestamptz not null
);

create table domain_allows (
    id bigint primary key default next_id(),
    domain text not null unique,
    created_at timestamptz not null
);

-- Whether `host` (an actor's `host[:port]`) is `domain` or one of its
-- subdomains. A domain given with a port covers that port only.
create function domain_covers(host text, domain text) returns boolean
language sql immutable parallel safe as $$
    select host = domain
        or split_part(host, ':', 1) = domain
        or right(split_part(host, ':', 1), length(domain) + 1) = '.' || domain
$$;
