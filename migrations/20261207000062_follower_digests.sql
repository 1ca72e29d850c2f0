-- Followers collection synchronisation (FEP-8fcf). For each followed actor
-- and each origin its followers live at (`scheme://host/`, the prefix of
-- their ids), the XOR of the SHA-256 digests of the accepted followers'
-- ids: what a delivery's Collection-Synchronization header carries, and
-- what an incoming one is compared with. Kept by a trigger on follows, so
-- that reading it costs one row whatever the number of followers (XOR
-- adds and removes a follower alike).

-- `scheme://host[:port]/` of an id, as URL parsers give it (and as
-- `service::follower_sync::prefix_of` does): lower case, without a
-- trailing dot on the host or the scheme's default port.
create function follower_prefix(uri text) returns text
language sql immutable parallel safe as $$
    select regexp_replace(
               regexp_replace(
                   lower(substring(uri from '^[A-Za-z][A-Za-z0-9+.-]*://[^/?#@]+')),
                   '\.(:[0-9]+)?$', '\1'),
               '^(https://[^/]+):443$|^(http://[^/]+):80$', '\1\2')
           || '/'
$$;

create function follower_bits(uri text) returns bit(256)
language sql immutable parallel safe as $$
    select ('x' || encode(sha256(convert_to(uri, 'UTF8')), 'hex'))::bit(256)
$$;

create table follower_digests (
    followee_id bigint not null references actors (id) on delete cascade,
    prefix text not null,
    digest bit(256) not null,
    primary key (followee_id, prefix)
);

-- Recomputes one followee's digests from its follows (when a follower's id
-- is no longer known: its actor row is being deleted).
create function follower_digests_toggle(followee bigint, follower bigint) returns void
language plpgsql as $$
declare
    uri text;
begin
    if not exists (select 1 from actors where id = followee) then
        return;
    end if;
    select ap_id into uri from actors where id = follower;
    -- A follower whose actor is being deleted was taken out of the digests
    -- before it went (`actors_leave_digests`).
    if uri is null then
        return;
    end if;
    if follower_prefix(uri) is null then
        return;
    end if;
    insert into follower_digests (followee_id, prefix, digest)
    values (followee, follower_prefix(uri), follower_bits(uri))
    on conflict (followee_id, prefix)
    do update set digest = follower_digests.digest # excluded.digest;
end
$$;

create function follows_keep_digests() returns trigger
language plpgsql as $$
declare
    was boolean := tg_op in ('UPDATE', 'DELETE') and old.state = 'accepted';
    is_now boolean := tg_op in ('INSERT', 'UPDATE') and new.state = 'accepted';
begin
    if was and is_now and old.follower_id = new.follower_id
       and old.followee_id = new.followee_id then
        return null;
    end if;
    if was then
        perform follower_digests_toggle(old.followee_id, old.follower_id);
    end if;
    if is_now then
        perform follower_digests_toggle(new.followee_id, new.follower_id);
    end if;
    return null;
end
$$;

create trigger follows_keep_digests
after insert or delete or update of state, follower_id, followee_id on follows
for each row execute function follows_keep_digests();

-- An actor about to be deleted leaves the digests of those it follows
-- while its id can still be read (its follows then go by cascade).
create function actors_leave_digests() returns trigger
language plpgsql as $$
begin
    insert into follower_digests (followee_id, prefix, digest)
    select f.followee_id, follower_prefix(old.ap_id), follower_bits(old.ap_id)
    from follows f
    where f.follower_id = old.id and f.state = 'accepted'
          and follower_prefix(old.ap_id) is not null
          and f.followee_id <> old.id
    on conflict (followee_id, prefix)
    do update set digest = follower_digests.digest # excluded.digest;
    return old;
end
$$;

create trigger actors_leave_digests
before delete on actors
for each row execute function actors_leave_digests();

insert into follower_digests (followee_id, prefix, digest)
select f.followee_id, follower_prefix(a.ap_id), bit_xor(follower_bits(a.ap_id))
from follows f join actors a on a.id = f.follower_id
where f.state = 'accepted' and follower_prefix(a.ap_id) is not null
group by 1, 2;

-- When each remote actor's followers were last resynchronised (at most
-- hourly, whatever the number of processes).
create table follower_resyncs (
    actor_id bigint primary key references actors (id) on delete cascade,
    synced_at timestamptz not null
);
