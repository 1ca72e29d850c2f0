-- An outgoing activity is stored once (`outbound_activities`), however many
-- inboxes it goes to; each delivery row names it instead of carrying a copy
-- of the JSON. A posting transaction stores the activity and a fan-out job
-- (`fanouts`); workers expand the job into delivery rows in batches, each
-- batch in a transaction that also moves the job's cursor, so a crash at
-- any point repeats a batch at most, and the deliveries' unique key
-- (activity_id, inbox_url) keeps every inbox at one row.

create table outbound_activities (
    id bigint primary key default next_id(),
    activity_id text not null,
    sender_id bigint not null references actors (id) on delete cascade,
    -- The exact JSON body to send.
    payload text not null,
    created_at timestamptz not null default now()
);

create index outbound_activities_sender on outbound_activities (sender_id);

alter table deliveries add column outbound_id bigint
    references outbound_activities (id) on delete cascade;

-- Rows queued before: one stored activity per distinct body.
insert into outbound_activities (activity_id, sender_id, payload, created_at)
select activity_id, sender_id, payload, min(created_at)
from deliveries
group by activity_id, sender_id, payload;

update deliveries d set outbound_id = o.id
from outbound_activities o
where o.activity_id = d.activity_id and o.sender_id = d.sender_id and o.payload = d.payload;

alter table deliveries alter column outbound_id set not null;
alter table deliveries drop column payload;

create index deliveries_outbound on deliveries (outbound_id);

-- Which inboxes an activity still has to be queued for. A job is deleted
-- once expanded; while one of a sender's jobs exists, that sender's later
-- jobs wait (one sender's activities reach each inbox in the order they
-- were queued).
create table fanouts (
    id bigint primary key default next_id(),
    outbound_id bigint not null references outbound_activities (id) on delete cascade,
    sender_id bigint not null references actors (id) on delete cascade,
    -- Inboxes the caller named (mentioned accounts, one recipient, voters).
    inboxes text[] not null default '{}',
    -- Whether `inboxes` were queued already.
    named_done boolean not null default false,
    -- Whether the sender's followers' inboxes (shared ones where they have
    -- them) are added.
    followers boolean not null,
    -- Keyset cursor over the sender's follows (follows.id, descending): the
    -- last follow expanded; null before the first batch.
    follows_before bigint,
    created_at timestamptz not null default now()
);

create index fanouts_sender on fanouts (sender_id, id);

-- A new post looks up the local followers who asked to be notified of it;
-- an account with many followers has few of those.
create index follows_notified on follows (followee_id) where notify and state = 'accepted';
