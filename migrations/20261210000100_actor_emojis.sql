-- The custom emoji of remote accounts' names, bios and fields (the `Emoji`
-- tags of their actor documents), replaced whenever the actor is fetched
-- or updated. Local accounts use the instance's own (`custom_emojis`).
create table actor_emojis (
    actor_id bigint not null references actors (id) on delete cascade,
    shortcode text not null,
    url text not null,
    primary key (actor_id, shortcode)
);
