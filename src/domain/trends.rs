//! Trends' arithmetic, as Mastodon 4.5 scores them (`Trends::Tags`,
//! `Trends::Statuses`, `Trends::Links`): a hashtag (or a link) trends when
//! more distinct accounts use (or share) it today than yesterday, a post
//! when it gathers reposts and favourites; the scores decay by half-lives. Pure: the refresh in `service::trends`
//! reads the counts and writes the scores.

use chrono::{DateTime, Duration, DurationRound, Utc};

/// Fewest distinct accounts using a hashtag today (or reposts and
/// favourites of a post) before it scores at all.
pub const THRESHOLD: f64 = 5.0;
/// A hashtag's peak score decays for this long before a new peak may be
/// lower than it.
pub const TAG_MAX_SCORE_COOLDOWN: Duration = Duration::days(2);
/// How fast a hashtag's peak score halves.
pub const TAG_MAX_SCORE_HALFLIFE: Duration = Duration::hours(4);
/// Hashtags below this decayed score are not trending.
pub const TAG_DECAY_THRESHOLD: f64 = 1.0;
/// How fast a post's score halves, from its publication.
pub const POST_SCORE_HALFLIFE: Duration = Duration::hours(2);
/// Posts below this decayed score are not trending.
pub const POST_DECAY_THRESHOLD: f64 = 0.3;
/// How far back posts are candidates: a post this old keeps no score
/// above the threshold unless it had billions of interactions.
pub const POST_MAX_AGE: Duration = Duration::days(3);
/// How fast a link's peak score halves (Mastodon's `Trends::Links`; its
/// threshold, cooldown and decay threshold are the hashtags').
pub const LINK_MAX_SCORE_HALFLIFE: Duration = Duration::hours(8);
/// Days of history a hashtag or a link shows (Mastodon's `history`).
pub const HISTORY_DAYS: i64 = 7;

/// The start (UTC midnight) of the day `at` falls in: hashtag histories
/// count by UTC days, as Mastodon's do.
pub fn day_start(at: DateTime<Utc>) -> DateTime<Utc> {
    at.duration_trunc(Duration::days(1)).unwrap_or(at)
}

/// One day of a hashtag's or a link's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Day {
    /// Midnight, UTC.
    pub day: DateTime<Utc>,
    pub uses: i64,
    pub accounts: i64,
}

/// The last [`HISTORY_DAYS`] days up to `today`, today first, from the
/// (day, uses, accounts) counted for one hashtag or link; a day without a
/// count is a day without use.
pub fn history(
    today: DateTime<Utc>,
    counted: impl IntoIterator<Item = (DateTime<Utc>, i64, i64)>,
) -> Vec<Day> {
    let mut days: Vec<Day> = (0..HISTORY_DAYS)
        .map(|back| Day {
            day: today - Duration::days(back),
            uses: 0,
            accounts: 0,
        })
        .collect();
    for (day, uses, accounts) in counted {
        if let Some(slot) = days.iter_mut().find(|d| d.day == day) {
            slot.uses = uses;
            slot.accounts = accounts;
        }
    }
    days
}

/// The raw score of `observed` against `expected`: zero below the
/// threshold or without growth, else the squared growth over `expected`.
fn raw(expected: f64, observed: f64) -> f64 {
    if expected > observed || observed < THRESHOLD {
        0.0
    } else {
        (observed - expected).powi(2) / expected
    }
}

fn halved(score: f64, since: Duration, halflife: Duration) -> f64 {
    let ratio = since.num_milliseconds() as f64 / halflife.num_milliseconds() as f64;
    score * 0.5f64.powf(ratio)
}

/// A hashtag's standing before a refresh.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TagPeak {
    pub max_score: f64,
    pub max_score_at: Option<DateTime<Utc>>,
}

/// A hashtag's refresh: `today` and `yesterday` are the distinct accounts
/// that used it on the day of `now` and the day before. Returns the new
/// peak and the decayed score (0 when below the decay threshold).
pub fn tag_score(peak: TagPeak, yesterday: i64, today: i64, now: DateTime<Utc>) -> (TagPeak, f64) {
    peak_score(peak, yesterday, today, now, TAG_MAX_SCORE_HALFLIFE)
}

/// A link's refresh, as a hashtag's: `today` and `yesterday` are the
/// distinct accounts that shared it, its peak halving every
/// [`LINK_MAX_SCORE_HALFLIFE`].
pub fn link_score(peak: TagPeak, yesterday: i64, today: i64, now: DateTime<Utc>) -> (TagPeak, f64) {
    peak_score(peak, yesterday, today, now, LINK_MAX_SCORE_HALFLIFE)
}

fn peak_score(
    peak: TagPeak,
    yesterday: i64,
    today: i64,
    now: DateTime<Utc>,
    halflife: Duration,
) -> (TagPeak, f64) {
    let expected = if yesterday == 0 {
        1.0
    } else {
        yesterday as f64
    };
    let observed = today as f64;
    let (mut max_score, mut max_at) = match peak.max_score_at {
        Some(at) if at >= now - TAG_MAX_SCORE_COOLDOWN => (peak.max_score, at),
        _ => (0.0, now),
    };
    let score = raw(expected, observed);
    if score > max_score {
        max_score = score;
        max_at = now;
    }
    let decayed = halved(max_score, now - max_at, halflife);
    let peak = TagPeak {
        max_score,
        max_score_at: if max_score > 0.0 {
            Some(max_at)
        } else {
            peak.max_score_at
        },
    };
    if decayed >= TAG_DECAY_THRESHOLD {
        (peak, decayed)
    } else {
        (peak, 0.0)
    }
}

/// A post's score: its reposts and favourites against one expected,
/// halved every [`POST_SCORE_HALFLIFE`] since it was published; 0 below
/// the decay threshold.
pub fn post_score(interactions: i64, published: DateTime<Utc>, now: DateTime<Utc>) -> f64 {
    let score = raw(1.0, interactions as f64);
    if score == 0.0 {
        return 0.0;
    }
    let decayed = halved(
        score,
        (now - published).max(Duration::zero()),
        POST_SCORE_HALFLIFE,
    );
    if decayed >= POST_DECAY_THRESHOLD {
        decayed
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_history_is_the_last_seven_days_today_first_with_days_without_use_at_zero() {
        let today = day_start(at("2026-03-10T15:00:00Z"));
        let days = history(
            today,
            [
                (today, 4, 2),
                (today - Duration::days(2), 9, 5),
                // Outside the week: left out.
                (today - Duration::days(7), 100, 100),
            ],
        );
        assert_eq!(days.len() as i64, HISTORY_DAYS);
        assert_eq!(
            days[0],
            Day {
                day: today,
                uses: 4,
                accounts: 2
            }
        );
        assert_eq!((days[1].uses, days[1].accounts), (0, 0));
        assert_eq!(days[1].day, today - Duration::days(1));
        assert_eq!((days[2].uses, days[2].accounts), (9, 5));
        assert_eq!(days[6].day, today - Duration::days(6));
        assert!(days.iter().all(|d| d.uses != 100));
    }

    #[test]
    fn a_links_peak_halves_every_eight_hours() {
        let now = at("2026-12-07T12:00:00Z");
        let none = TagPeak {
            max_score: 0.0,
            max_score_at: None,
        };
        // Six accounts today, none yesterday: (6 - 1)^2 / 1.
        let (peak, score) = link_score(none, 0, 6, now);
        assert_eq!(score, 25.0);
        assert_eq!(peak.max_score_at, Some(now));
        let later = now + Duration::hours(8);
        let (_, decayed) = link_score(peak, 0, 0, later);
        assert!((decayed - 12.5).abs() < 1e-9, "{decayed}");
        // A hashtag's peak halves faster (every four hours).
        let (_, tag) = tag_score(peak, 0, 0, later);
        assert!((tag - 6.25).abs() < 1e-9, "{tag}");
        // Below the threshold, nothing.
        assert_eq!(link_score(none, 0, 4, now).1, 0.0);
    }

    #[test]
    fn a_hashtag_scores_only_from_the_threshold_and_with_growth() {
        let now = at("2026-12-07T12:00:00Z");
        let none = TagPeak {
            max_score: 0.0,
            max_score_at: None,
        };
        assert_eq!(tag_score(none, 0, 4, now).1, 0.0);
        let (peak, score) = tag_score(none, 0, 5, now);
        assert_eq!(score, 16.0);
        assert_eq!(peak.max_score_at, Some(now));
        // As many as yesterday: no growth, but the peak stands and decays.
        let later = now + Duration::hours(4);
        let (_, decayed) = tag_score(peak, 5, 5, later);
        assert_eq!(decayed, 8.0);
        // After the cooldown the peak is forgotten.
        let (_, gone) = tag_score(peak, 5, 5, now + Duration::days(3));
        assert_eq!(gone, 0.0);
    }

    #[test]
    fn a_post_decays_from_its_publication() {
        let published = at("2026-12-07T12:00:00Z");
        assert_eq!(post_score(4, published, published), 0.0);
        assert_eq!(post_score(5, published, published), 16.0);
        assert_eq!(
            post_score(5, published, published + Duration::hours(2)),
            8.0
        );
        assert_eq!(
            post_score(5, published, published + Duration::hours(12)),
            0.0
        );
    }

    #[test]
    fn days_start_at_utc_midnight() {
        assert_eq!(
            day_start(at("2026-12-07T23:59:59Z")),
            at("2026-12-07T00:00:00Z")
        );
    }
}
