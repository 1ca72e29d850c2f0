//! Annual reports ("Wrapstodon", Mastodon 4.3 to 4.5's schema 1): what an
//! account did in a year, read from what is stored of its activity. A
//! report is made once, on the account's first look at its reports during
//! the campaign (10 to 31 December, for that year), when it posted that
//! year; it is kept as made and listed until marked read.

use chrono::{DateTime, Datelike, TimeZone, Utc};
use serde_json::{Value, json};

use crate::db::{self, annual_reports::Distribution};

pub use crate::db::annual_reports::AnnualReport;
use crate::error::{Error, Result};
use crate::service::posts;
use crate::service::types::{Actor, Post};
use crate::state::AppState;

/// The shape of `data` (Mastodon's schema 1).
pub const SCHEMA_VERSION: i32 = 1;
/// Mastodon's average posts per active account in a year: fewer make a
/// "lurker".
const AVERAGE_PER_YEAR: i64 = 113;
const SCORE_MULTIPLIER: i64 = 2;
const SCORE_REDUCER: f64 = 0.1;
/// How many of each list a report keeps (Mastodon's set sizes).
const APPS: i64 = 10;
const ACCOUNTS_REPLIED: i64 = 40;
const ACCOUNTS_REPOSTED: i64 = 10;
const HASHTAGS: i64 = 40;

/// The year whose reports are offered at `now`: December's 10th to 31st.
pub fn campaign(now: DateTime<Utc>) -> Option<i32> {
    (now.month() == 12 && now.day() >= 10).then_some(now.year())
}

fn year_bounds(year: i32) -> Result<(DateTime<Utc>, DateTime<Utc>)> {
    let start = Utc.with_ymd_and_hms(year, 1, 1, 0, 0, 0).single();
    let end = Utc.with_ymd_and_hms(year + 1, 1, 1, 0, 0, 0).single();
    match (start, end) {
        (Some(start), Some(end)) => Ok((start, end)),
        _ => Err(Error::NotFound),
    }
}

/// Mastodon's archetype of a year's posting.
pub fn archetype(d: &Distribution) -> &'static str {
    if d.standalone + d.replies + d.reblogs < AVERAGE_PER_YEAR {
        "lurker"
    } else if d.reblogs > d.standalone * SCORE_MULTIPLIER {
        "booster"
    } else if d.polls as f64 > d.standalone as f64 * SCORE_REDUCER {
        "pollster"
    } else if d.replies > d.standalone * SCORE_MULTIPLIER {
        "replier"
    } else {
        "oracle"
    }
}

/// The report's data for `actor` and `year`, from what is stored now.
pub async fn compute(state: &AppState, actor: &Actor, year: i32) -> Result<Value> {
    let db = &state.db;
    let id = actor.id;
    let (from, to) = year_bounds(year)?;
    let distribution = db::annual_reports::distribution(db, id, from, to).await?;
    let by_reblogs = db::annual_reports::top_post(db, id, from, to, "reposts_count", &[]).await?;
    let by_favourites = db::annual_reports::top_post(
        db,
        id,
        from,
        to,
        "likes_count",
        &by_reblogs.into_iter().collect::<Vec<_>>(),
    )
    .await?;
    let by_replies = db::annual_reports::top_post(
        db,
        id,
        from,
        to,
        "replies_count",
        &by_reblogs
            .into_iter()
            .chain(by_favourites)
            .collect::<Vec<_>>(),
    )
    .await?;
    let apps = db::annual_reports::apps(db, id, from, to, APPS).await?;
    let replied = db::annual_reports::replied_to(db, id, from, to, ACCOUNTS_REPLIED).await?;
    let months = db::annual_reports::months(db, id, from, to).await?;
    let hashtags = db::annual_reports::hashtags(db, id, from, to, HASHTAGS).await?;
    let reposted = db::annual_reports::reposted(db, id, from, to, ACCOUNTS_REPOSTED).await?;
    let (followers, statuses) = db::annual_reports::percentiles(db, id, from, to).await?;
    Ok(json!({
        "archetype": archetype(&distribution),
        "type_distribution": {
            "total": distribution.total,
            "reblogs": distribution.reblogs,
            "replies": distribution.replies,
            "standalone": distribution.standalone,
        },
        "top_statuses": {
            "by_reblogs": by_reblogs.map(|i| i.to_string()),
            "by_favourites": by_favourites.map(|i| i.to_string()),
            "by_replies": by_replies.map(|i| i.to_string()),
        },
        "most_used_apps": apps.iter().map(|(name, count)| json!({"name": name, "count": count})).collect::<Vec<_>>(),
        "commonly_interacted_with_accounts": replied.iter().map(|(account, count)| json!({"account_id": account.to_string(), "count": count})).collect::<Vec<_>>(),
        "time_series": months.iter().map(|(month, statuses, following, followers)| json!({
            "month": month,
            "statuses": statuses,
            "following": following,
            "followers": followers,
        })).collect::<Vec<_>>(),
        "top_hashtags": hashtags.iter().map(|(name, count)| json!({"name": name, "count": count})).collect::<Vec<_>>(),
        "most_reblogged_accounts": reposted.iter().map(|(account, count)| json!({"account_id": account.to_string(), "count": count})).collect::<Vec<_>>(),
        "percentiles": {
            "followers": followers,
            "statuses": statuses,
        },
    }))
}

/// Makes the account's report for `year` unless it has one or did not post
/// that year.
pub async fn ensure(state: &AppState, actor: &Actor, year: i32) -> Result<Option<AnnualReport>> {
    if let Some(found) = db::annual_reports::find(&state.db, actor.id, year).await? {
        return Ok(Some(found));
    }
    let (from, to) = year_bounds(year)?;
    let distribution = db::annual_reports::distribution(&state.db, actor.id, from, to).await?;
    if distribution.total == 0 {
        return Ok(None);
    }
    let data = compute(state, actor, year).await?;
    Ok(Some(
        db::annual_reports::insert(
            &state.db,
            actor.id,
            year,
            SCHEMA_VERSION,
            &data,
            state.clock.now(),
        )
        .await?,
    ))
}

/// The account's reports not marked read; during the campaign, this
/// year's is made first.
pub async fn pending(state: &AppState, actor: &Actor) -> Result<Vec<AnnualReport>> {
    if let Some(year) = campaign(state.clock.now()) {
        ensure(state, actor, year).await?;
    }
    Ok(db::annual_reports::pending(&state.db, actor.id).await?)
}

/// The account's report of `year` (404 when none was made).
pub async fn get(state: &AppState, actor: &Actor, year: i32) -> Result<AnnualReport> {
    db::annual_reports::find(&state.db, actor.id, year)
        .await?
        .ok_or(Error::NotFound)
}

/// Marks the account's report of `year` read (404 when none was made).
pub async fn mark_read(state: &AppState, actor: &Actor, year: i32) -> Result<()> {
    if db::annual_reports::mark_read(&state.db, actor.id, year, state.clock.now()).await? {
        Ok(())
    } else {
        Err(Error::NotFound)
    }
}

/// The accounts and posts the reports name, as `viewer` may see them.
pub async fn referenced(
    state: &AppState,
    viewer: &Actor,
    reports: &[AnnualReport],
) -> Result<(Vec<Actor>, Vec<Post>)> {
    let mut account_ids: Vec<i64> = Vec::new();
    let mut post_ids: Vec<i64> = Vec::new();
    for report in reports {
        let data = &report.data.0;
        for list in [
            "commonly_interacted_with_accounts",
            "most_reblogged_accounts",
        ] {
            for item in data[list].as_array().into_iter().flatten() {
                if let Some(id) = item["account_id"].as_str().and_then(|s| s.parse().ok()) {
                    account_ids.push(id);
                }
            }
        }
        for key in ["by_reblogs", "by_favourites", "by_replies"] {
            if let Some(id) = data["top_statuses"][key]
                .as_str()
                .and_then(|s| s.parse().ok())
            {
                post_ids.push(id);
            }
        }
    }
    account_ids.sort_unstable();
    account_ids.dedup();
    post_ids.sort_unstable();
    post_ids.dedup();
    let mut actors = Vec::new();
    for id in account_ids {
        if let Some(actor) = db::actors::find_by_id(&state.db, id)
            .await?
            .filter(|a| a.suspended_at.is_none())
        {
            actors.push(actor);
        }
    }
    let mut found = Vec::new();
    for id in post_ids {
        if let Ok(post) = posts::visible(state, Some(viewer), id).await {
            found.push(post);
        }
    }
    Ok((actors, found))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_campaign_runs_from_the_tenth_to_the_end_of_december() {
        let at = |m, d| Utc.with_ymd_and_hms(2026, m, d, 12, 0, 0).unwrap();
        assert_eq!(campaign(at(12, 9)), None);
        assert_eq!(campaign(at(12, 10)), Some(2026));
        assert_eq!(campaign(at(12, 31)), Some(2026));
        assert_eq!(campaign(at(1, 5)), None);
    }

    #[test]
    fn archetypes_follow_mastodons_thresholds() {
        let d = |standalone, reblogs, replies, polls| Distribution {
            total: standalone + reblogs + replies,
            reblogs,
            replies,
            standalone,
            polls,
        };
        assert_eq!(archetype(&d(10, 10, 10, 0)), "lurker");
        assert_eq!(archetype(&d(40, 81, 0, 0)), "booster");
        assert_eq!(archetype(&d(100, 10, 10, 11)), "pollster");
        assert_eq!(archetype(&d(40, 0, 81, 0)), "replier");
        assert_eq!(archetype(&d(100, 10, 10, 5)), "oracle");
    }
}
