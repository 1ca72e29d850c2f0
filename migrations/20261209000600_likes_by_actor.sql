-- The For you feed reads a viewer's latest likes (to find the accounts it
-- interacts with) newest first; without this index that read scans every
-- like the viewer ever gave.
create index likes_actor on likes (actor_id, id desc);
