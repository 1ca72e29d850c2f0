-- Trending links (Mastodon's Trends::Links): link previews that more
-- accounts share today than yesterday, scored by the trends refresh from
-- this instance's posts; the moderators' review of each link and of each
-- publisher (the link's domain, Mastodon's PreviewCardProvider).

-- A link preview trends know: the moderators' review and its score. A row
-- is made when the link is first scored, and goes with its card.
create table link_trends (
    card_id bigint primary key references preview_cards (id) on delete cascade,
    -- Null: not reviewed (the publisher's review applies); true: approved;
    -- false: rejected.
    trendable boolean,
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
create index link_trends_score on link_trends (score desc, card_id) where score > 0;

-- A publisher (the host of trending links): approving it lets its links
-- trend without a review of each; rejecting it keeps them out.
create table link_publishers (
    id bigint primary key default next_id(),
    domain text not null unique,
    trendable boolean,
    reviewed_at timestamptz,
    requested_review_at timestamptz,
    created_at timestamptz not null
);
