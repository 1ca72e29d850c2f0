-- Reply controls and hidden replies.
--
-- A local post says who may reply: everyone, the accounts its author follows,
-- or only the accounts it mentions (the author and anyone mentioned always
-- may). It is published as GoToSocial's `interactionPolicy`; a remote post's
-- published policy is kept, normalised, in `interaction_policy` (null when
-- the post published none, which means anyone may interact).
alter table posts
    add column reply_policy text not null default 'everyone'
        check (reply_policy in ('everyone', 'following', 'mentioned')),
    add column interaction_policy jsonb,
    -- Set when the author of the post replied to hid this reply from the
    -- thread (as on Threads). Others stop seeing it there; its own author
    -- still does.
    add column reply_hidden_at timestamptz;
