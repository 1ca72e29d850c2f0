-- Which HTTP signature scheme each server takes from us, learnt by the
-- deliveries' double-knock: RFC 9421 first, draft-cavage when refused.
-- Shared by every process of the instance; a host with no row is tried
-- with RFC 9421.
create table host_signature_modes (
    host text primary key,
    mode text not null check (mode in ('rfc9421', 'cavage')),
    updated_at timestamptz not null
);
