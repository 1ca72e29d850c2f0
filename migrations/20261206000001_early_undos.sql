-- An Undo that arrived before the activity it undoes: remembered so that
-- the activity, arriving late, has no effect, and forgotten once it came
-- (or after a day). Activity ids no longer decide anything on their own:
-- servers reuse them (a Like after an Undo of the same id counts again).
create table early_undos (
    actor_id bigint not null references actors (id) on delete cascade,
    object_id text not null,
    received_at timestamptz not null,
    primary key (actor_id, object_id)
);
