-- Trends (Mastodon's trending hashtags and posts, reviewed by moderators)
-- and follow suggestions dismissed. Scores are computed by timed work and
-- kept here, so every process serves the same trends.

-- A hashtag as trends and the admin API know it: its id (Mastodon's Tag
-- id), the moderators' review, and its score. `tag` is the hashtag as
-- posts store it (lower case). A row is made when the hashtag is first
-- scored or named by a moderator, and stays.
create table tag_trends (
    tag text primary key,
    id bigint not null unique default next_id(),
    -- Null: not reviewed; true: approved to trend; false: rejected.
    trendable boolean,
    -- False: moderators took the hashtag out of trends altogether.
    usable boolean not null default true,
    -- Whether the hashtag may be listed (profile directory, search); null:
    -- not reviewed.
    listable boolean,
    reviewed_at timestamptz,
    requested_review_at timestamptz,
    -- The peak score and when it was reached; the score decays from it.
    max_score double precision not null default 0,
    max_score_at timestamptz,
    -- The score of the latest refresh; 0 when not trending.
    score double precision not null default 0,
    scored_at timestamptz,
    created_at timestamptz not null
);
create index tag_trends_score on tag_trends (score desc, id) where score > 0;

-- The moderators' review of a post for trends (Mastodon's
-- `statuses.trendable`): true approved, false rejected; no row, not
-- reviewed.
create table post_trend_reviews (
    post_id bigint primary key references posts (id) on delete cascade,
    trendable boolean not null,
    reviewed_at timestamptz not null
);

-- The posts trending now, with their score (Mastodon's status_trends).
create table post_trends (
    post_id bigint primary key references posts (id) on delete cascade,
    score double precision not null,
    scored_at timestamptz not null
);
create index post_trends_score on post_trends (score desc, post_id);

-- Accounts someone dismissed from their follow suggestions (Mastodon's
-- follow_recommendation_mutes): never suggested to them again.
create table suggestion_dismissals (
    actor_id bigint not null references actors (id) on delete cascade,
    target_id bigint not null references actors (id) on delete cascade,
    created_at timestamptz not null,
    primary key (actor_id, target_id)
);
