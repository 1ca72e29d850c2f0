//! Scheduled posts (Mastodon's ScheduledStatus,
//! <https://docs.joinmastodon.org/methods/scheduled_statuses/>): a post
//! written with `scheduled_at` is checked as a post is, kept with the
//! parameters it was sent with and the uploads it will carry, and published
//! when due by the timed work (`jobs::timed`, on the injectable clock)
//! through `posts::publish_scheduled`, which stores it with the one routine
//! that stores posts and deletes the scheduled status in the same
//! transaction.
//!
//! Mastodon's rules: at least 5 minutes ahead (a time already past posts at
//! once), at most 300 scheduled per account and 25 on one (UTC) day.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::db::{self, actors::Actor, scheduled_statuses::ScheduledStatus, users::User};
use crate::domain::interaction::ReplyPolicy;
use crate::error::{Error, Result};
use crate::service::media::{self, MediaAttachment};
use crate::service::posts::{self, Draft, FromSchedule, PollDraft, draft};
use crate::state::AppState;

/// How far ahead a post must be scheduled.
pub const MINIMUM_OFFSET: Duration = Duration::minutes(5);
/// Scheduled statuses one account may have.
pub const TOTAL_LIMIT: i64 = 300;
/// Scheduled statuses one account may have on one day.
pub const DAILY_LIMIT: i64 = 25;
/// Scheduled statuses published by one run of the timed work at most.
const BATCH: i64 = 200;

/// A scheduled poll's parameters, as Mastodon keeps them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PollParams {
    pub options: Vec<String>,
    pub expires_in: i64,
    #[serde(default)]
    pub multiple: bool,
    #[serde(default)]
    pub hide_totals: bool,
}

/// Mastodon's `params` of a scheduled status: what the post will be
/// written with, as it was sent (None where nothing was sent: the
/// account's preferences of the day of publishing apply).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Params {
    pub text: String,
    pub poll: Option<PollParams>,
    pub media_ids: Option<Vec<String>>,
    pub sensitive: Option<bool>,
    pub spoiler_text: Option<String>,
    pub visibility: Option<String>,
    pub language: Option<String>,
    /// Always null: a status is scheduled once.
    pub scheduled_at: Option<String>,
    /// Always null: the key made the scheduling idempotent, not the post.
    pub idempotency: Option<String>,
    pub with_rate_limit: bool,
    /// An integer, as Mastodon keeps it.
    pub in_reply_to_id: Option<i64>,
    pub quoted_status_id: Option<i64>,
    pub quote_approval_policy: Option<String>,
    /// Who may reply (GoToSocial's `interaction_policy`), when sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_policy: Option<String>,
}

impl Params {
    fn media_ids(&self) -> Result<Vec<i64>> {
        self.media_ids
            .iter()
            .flatten()
            .map(|raw| {
                raw.parse()
                    .map_err(|_| Error::Validation(format!("`{raw}` is not a media id")))
            })
            .collect()
    }

    fn poll(&self) -> Option<PollDraft> {
        self.poll.as_ref().map(|p| PollDraft {
            options: p.options.clone(),
            multiple: p.multiple,
            expires_in: Duration::seconds(p.expires_in),
        })
    }

    fn reply_policy(&self) -> Result<Option<ReplyPolicy>> {
        match &self.reply_policy {
            None => Ok(None),
            Some(p) => draft::reply_policy(p),
        }
    }
}

/// A scheduled status with the uploads it will carry, in the order given.
#[derive(Debug, Clone)]
pub struct Scheduled {
    pub id: i64,
    pub scheduled_at: DateTime<Utc>,
    pub params: serde_json::Value,
    pub media: Vec<MediaAttachment>,
}

/// The draft a scheduled status's parameters make, for `user`.
fn draft_of<'a>(
    user: &'a User,
    params: &'a Params,
    media_ids: &'a [i64],
    in_reply_to: Option<&'a db::posts::Post>,
    quote_of: Option<&'a db::posts::Post>,
) -> Result<Draft<'a>> {
    draft::new_post(
        user,
        draft::Request {
            text: &params.text,
            spoiler: params.spoiler_text.as_deref().unwrap_or_default(),
            sensitive: params.sensitive,
            language: params.language.as_deref(),
            visibility: params.visibility.as_deref(),
            reply_policy: params.reply_policy()?,
            quote_policy: params.quote_approval_policy.as_deref(),
            in_reply_to,
            quote_of,
            poll: params.poll(),
            media_ids,
        },
    )
}

/// `at` when it is still to come; None for a time already past (Mastodon
/// posts at once then).
pub fn in_future(state: &AppState, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
    (at > state.clock.now()).then_some(at)
}

fn too_soon() -> Error {
    Error::Validation(
        "Validation failed: Scheduled at The scheduled date must be in the future".into(),
    )
}

/// Holds `scheduled_at` to Mastodon's limits for `author`, in the caller's
/// transaction (which holds the account's lock); `except` is the scheduled
/// status being moved.
async fn check_limits(
    tx: &mut sqlx::PgConnection,
    state: &AppState,
    author: &Actor,
    scheduled_at: DateTime<Utc>,
    except: Option<i64>,
) -> Result<()> {
    if scheduled_at <= state.clock.now() + MINIMUM_OFFSET {
        return Err(too_soon());
    }
    let day = scheduled_at
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .map(|d| d.and_utc())
        .unwrap_or(scheduled_at);
    db::scheduled_statuses::lock_account(&mut *tx, author.id).await?;
    let (total, that_day) =
        db::scheduled_statuses::counts(&mut *tx, author.id, day, day + Duration::days(1), except)
            .await?;
    if total >= TOTAL_LIMIT {
        return Err(Error::Validation(format!(
            "Validation failed: You have exceeded the limit of {TOTAL_LIMIT} scheduled posts"
        )));
    }
    if that_day >= DAILY_LIMIT {
        return Err(Error::Validation(format!(
            "Validation failed: You have exceeded the limit of {DAILY_LIMIT} scheduled posts for today"
        )));
    }
    Ok(())
}

/// A post to schedule, as the client API received it.
pub struct Request<'a> {
    pub params: Params,
    pub scheduled_at: DateTime<Utc>,
    /// The post replied to, found visible to the author.
    pub in_reply_to: Option<&'a db::posts::Post>,
    /// The post quoted, found visible to the author.
    pub quote_of: Option<&'a db::posts::Post>,
    /// The app scheduling it, credited on the post.
    pub app_id: Option<i64>,
}

/// Schedules a post by `author` for `scheduled_at`: checked now as a post
/// is written (text, media, poll, language; the post replied to and the one
/// quoted were found visible by the caller), kept with its parameters,
/// its uploads reserved for it.
pub async fn schedule(
    state: &AppState,
    user: &User,
    author: &Actor,
    request: Request<'_>,
) -> Result<Scheduled> {
    let Request {
        params,
        scheduled_at,
        in_reply_to,
        quote_of,
        app_id,
    } = request;
    if scheduled_at <= state.clock.now() + MINIMUM_OFFSET {
        return Err(too_soon());
    }
    let media_ids = params.media_ids()?;
    let draft = draft_of(user, &params, &media_ids, in_reply_to, quote_of)?;
    let (uploads, _) = posts::check(state, author, &draft, None).await?;
    let params = Params {
        in_reply_to_id: in_reply_to.map(|p| p.id),
        quoted_status_id: quote_of.map(|p| p.id),
        scheduled_at: None,
        idempotency: None,
        with_rate_limit: false,
        ..params
    };
    let json = serde_json::to_value(&params)
        .map_err(|e| Error::Internal(anyhow::anyhow!("scheduled params: {e}")))?;
    let mut tx = state.db.begin().await?;
    check_limits(&mut tx, state, author, scheduled_at, None).await?;
    let row = db::scheduled_statuses::insert(
        &mut *tx,
        author.id,
        scheduled_at,
        &json,
        app_id,
        state.clock.now(),
    )
    .await?;
    let ids: Vec<i64> = uploads.iter().map(|u| u.id).collect();
    if db::scheduled_statuses::reserve_uploads(&mut *tx, author.id, row.id, &ids).await?
        != ids.len() as u64
    {
        return Err(Error::Validation(
            "some media were attached to another post meanwhile".into(),
        ));
    }
    tx.commit().await?;
    present_one(state, row).await
}

async fn present_one(state: &AppState, row: ScheduledStatus) -> Result<Scheduled> {
    Ok(present(state, vec![row]).await?.remove(0))
}

/// The scheduled statuses with their media, as the API shows them.
async fn present(state: &AppState, rows: Vec<ScheduledStatus>) -> Result<Vec<Scheduled>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let uploads = db::scheduled_statuses::uploads_of(&state.db, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let order: Vec<String> = row
                .params
                .0
                .get("media_ids")
                .and_then(|m| m.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            let mut media: Vec<&db::uploads::Upload> = uploads
                .iter()
                .filter(|u| u.scheduled_status_id == Some(row.id))
                .collect();
            media.sort_by_key(|u| {
                order
                    .iter()
                    .position(|o| *o == u.id.to_string())
                    .unwrap_or(usize::MAX)
            });
            let mut params = row.params.0;
            // Mastodon leaves the application out of what it shows.
            if let Some(map) = params.as_object_mut() {
                map.remove("application_id");
            }
            Scheduled {
                id: row.id,
                scheduled_at: row.scheduled_at,
                params,
                media: media
                    .into_iter()
                    .map(|u| media::attachment_entity(state, u))
                    .collect(),
            }
        })
        .collect())
}

/// A page of `author`'s scheduled statuses, newest first by id.
pub async fn list(
    state: &AppState,
    author: &Actor,
    page: db::timelines::Page,
) -> Result<Vec<Scheduled>> {
    let rows = db::scheduled_statuses::page(&state.db, author.id, page).await?;
    present(state, rows).await
}

/// One of `author`'s scheduled statuses; another's is not found.
pub async fn find(state: &AppState, author: &Actor, id: i64) -> Result<Scheduled> {
    let row = db::scheduled_statuses::find_owned(&state.db, author.id, id)
        .await?
        .ok_or(Error::NotFound)?;
    present_one(state, row).await
}

/// Moves one of `author`'s scheduled statuses to another time, held to the
/// same rules as scheduling; None leaves it as it is.
pub async fn reschedule(
    state: &AppState,
    author: &Actor,
    id: i64,
    scheduled_at: Option<DateTime<Utc>>,
) -> Result<Scheduled> {
    let Some(scheduled_at) = scheduled_at else {
        return find(state, author, id).await;
    };
    let mut tx = state.db.begin().await?;
    db::scheduled_statuses::find_owned(&mut *tx, author.id, id)
        .await?
        .ok_or(Error::NotFound)?;
    check_limits(&mut tx, state, author, scheduled_at, Some(id)).await?;
    let row = db::scheduled_statuses::reschedule(&mut *tx, author.id, id, scheduled_at)
        .await?
        .ok_or(Error::NotFound)?;
    tx.commit().await?;
    present_one(state, row).await
}

/// Cancels one of `author`'s scheduled statuses; its uploads wait for
/// another post as fresh ones do.
pub async fn cancel(state: &AppState, author: &Actor, id: i64) -> Result<()> {
    if !db::scheduled_statuses::delete_owned(&state.db, author.id, id).await? {
        return Err(Error::NotFound);
    }
    Ok(())
}

/// Publishes the scheduled statuses due by the state's clock; returns how
/// many were published. One that can no longer be posted (its author
/// disabled or suspended, the post it answers or quotes gone, its text
/// refused) is dropped, as Mastodon drops it; one that fails for a passing
/// reason (the database) stays for the next run.
pub async fn publish_due(state: &AppState) -> Result<usize> {
    let due = db::scheduled_statuses::due(&state.db, state.clock.now(), BATCH).await?;
    let mut published = 0;
    for row in due {
        let id = row.id;
        match publish(state, row).await {
            Ok(true) => published += 1,
            Ok(false) => {}
            Err(e @ (Error::Validation(_) | Error::Forbidden(_) | Error::NotFound)) => {
                tracing::info!(scheduled_status = id, error = %e, "a scheduled post was dropped");
                db::scheduled_statuses::take(&state.db, id).await?;
            }
            Err(e) => {
                tracing::warn!(scheduled_status = id, error = %e, "publishing a scheduled post failed");
            }
        }
    }
    Ok(published)
}

/// Publishes one scheduled status; false if its author may no longer post
/// (it is dropped).
async fn publish(state: &AppState, row: ScheduledStatus) -> Result<bool> {
    let author = db::actors::find_by_id(&state.db, row.account_id)
        .await?
        .ok_or(Error::NotFound)?;
    let user = db::users::find_by_actor(&state.db, author.id)
        .await?
        .ok_or(Error::NotFound)?;
    if user.disabled || author.suspended_at.is_some() {
        db::scheduled_statuses::take(&state.db, row.id).await?;
        return Ok(false);
    }
    let params: Params = serde_json::from_value(row.params.0.clone())
        .map_err(|e| Error::Validation(format!("unreadable scheduled params: {e}")))?;
    let in_reply_to = match params.in_reply_to_id {
        Some(id) => Some(posts::visible(state, Some(&author), id).await?),
        None => None,
    };
    let quote_of = match params.quoted_status_id {
        Some(id) => Some(posts::visible(state, Some(&author), id).await?),
        None => None,
    };
    let media_ids = params.media_ids()?;
    let draft = draft_of(
        &user,
        &params,
        &media_ids,
        in_reply_to.as_ref(),
        quote_of.as_ref(),
    )?;
    posts::publish_scheduled(
        state,
        &author,
        draft,
        FromSchedule {
            id: row.id,
            app_id: row.app_id,
        },
    )
    .await?;
    Ok(true)
}
