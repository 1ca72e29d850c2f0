-- Avatars and headers are uploads too: kept while they are the account's
-- picture (never swept as unattached), removed when replaced.
alter table uploads add column profile_image text check (profile_image in ('avatar', 'header'));

create unique index uploads_profile_image on uploads (owner_id, profile_image)
    where profile_image is not null;
