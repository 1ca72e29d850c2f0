-- Hosts are stored and compared in one form (`domain::domain_name::authority`):
-- lower case, without the trailing dot of a fully qualified name, so that
-- `evil.example.` is the `evil.example` a domain block names. Rows stored
-- before that rule are brought to it.
update actors
set domain = regexp_replace(domain, '\.(:[0-9]+)?$', '\1')
where domain ~ '\.(:[0-9]+)?$';

update deliveries
set host = regexp_replace(host, '\.(:[0-9]+)?$', '\1')
where host ~ '\.(:[0-9]+)?$';

-- Failure days and unavailable marks of a dotted host fold into the plain one.
insert into domain_failures (host, day)
select regexp_replace(host, '\.(:[0-9]+)?$', '\1'), day from domain_failures
where host ~ '\.(:[0-9]+)?$'
on conflict do nothing;
delete from domain_failures where host ~ '\.(:[0-9]+)?$';

insert into unavailable_domains (host, since)
select regexp_replace(host, '\.(:[0-9]+)?$', '\1'), since from unavailable_domains
where host ~ '\.(:[0-9]+)?$'
on conflict do nothing;
delete from unavailable_domains where host ~ '\.(:[0-9]+)?$';
