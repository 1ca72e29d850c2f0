-- The object an activity refers to (for Undo: the activity it undoes), so
-- that an Undo that arrives before what it undoes still wins.
alter table inbox_activities add column object_id text;
create index inbox_activities_object on inbox_activities (object_id) where object_id is not null;
