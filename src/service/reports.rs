//! Reports, as Mastodon handles them: a local user reports an account and
//! some of its posts, with a category and a comment; for a remote account
//! the report may be forwarded to its server as a `Flag` from the instance
//! actor (so the reporter stays anonymous). A `Flag` from another server
//! about local accounts becomes a report in the same queue, unless the
//! domain policy rejects that server's reports. Moderators resolve and
//! reopen reports; each of those actions is audit-logged.

use sqlx::PgConnection;

use crate::db::{self, actors::Actor, reports::Report};
use crate::error::{Error, Result};
use crate::federation::activities;
use crate::mail::messages::Mail;
use crate::service::audit::{self, Staff};
use crate::service::{instance, outbox, posts, rules};
use crate::state::AppState;

/// Mastodon's report categories.
pub const CATEGORIES: [&str; 4] = ["spam", "legal", "violation", "other"];
/// Mastodon's limit on a report's comment.
pub const MAX_COMMENT: usize = crate::domain::limits::REPORT_COMMENT;

/// A report as a user files it.
pub struct NewReport {
    pub target_id: i64,
    pub post_ids: Vec<i64>,
    pub comment: String,
    pub category: Option<String>,
    /// The instance rules broken; kept for the "violation" category only.
    pub rule_ids: Vec<i64>,
    pub forward: bool,
}

/// How many recent posts the report form offers.
pub const POSTS_OFFERED: i64 = 20;

/// The recent posts of `target` that `reporter` may attach to a report,
/// newest first: its own posts (not its reposts, which are other people's
/// posts), not deleted, that the reporter may see.
pub async fn offered_posts(
    state: &AppState,
    reporter: &Actor,
    target: &Actor,
) -> Result<Vec<db::posts::Post>> {
    let page = db::timelines::Page {
        max_id: None,
        since_id: None,
        min_id: None,
        limit: POSTS_OFFERED,
    };
    Ok(
        db::timelines::reportable(&state.db, reporter.id, target.id, page, state.clock.now())
            .await?,
    )
}

/// Splits the posts named for a report of `target_id` into those that can
/// be attached (in the order named, once each) and the ids of those that
/// cannot: another account's post or a repost, deleted, unknown, or one the
/// reporter may not see.
pub async fn attachable(
    state: &AppState,
    reporter: &Actor,
    target_id: i64,
    ids: &[i64],
) -> Result<(Vec<db::posts::Post>, Vec<i64>)> {
    let mut posts: Vec<db::posts::Post> = Vec::new();
    let mut refused = Vec::new();
    for id in ids {
        if posts.iter().any(|p| p.id == *id) || refused.contains(id) {
            continue;
        }
        match db::posts::find_by_id(&state.db, *id).await? {
            Some(p)
                if p.author_id == target_id
                    && p.reblog_of_id.is_none()
                    && p.deleted_at.is_none()
                    && posts::can_see(state, &p, Some(reporter)).await? =>
            {
                posts.push(p)
            }
            _ => refused.push(*id),
        }
    }
    Ok((posts, refused))
}

/// Files a report by a local account; forwards it as a Flag when asked and
/// the account is remote.
pub async fn create(state: &AppState, reporter: &Actor, new: NewReport) -> Result<Report> {
    let target = db::actors::find_by_id(&state.db, new.target_id)
        .await?
        .ok_or_else(|| Error::NotFound)?;
    if target.id == reporter.id {
        return Err(Error::Validation("You cannot report yourself".into()));
    }
    let category = new.category.unwrap_or_else(|| "other".into());
    if !CATEGORIES.contains(&category.as_str()) {
        return Err(Error::Validation(format!(
            "Validation failed: Category {category:?} is not valid"
        )));
    }
    if new.comment.chars().count() > MAX_COMMENT {
        return Err(Error::Validation(format!(
            "Validation failed: Comment is too long (maximum is {MAX_COMMENT} characters)"
        )));
    }
    // A post that cannot be attached is not found, as in Mastodon.
    let (posts, refused) = attachable(state, reporter, target.id, &new.post_ids).await?;
    if !refused.is_empty() {
        return Err(Error::NotFound);
    }
    let post_ids: Vec<i64> = posts.iter().map(|p| p.id).collect();
    let rule_ids = if category == "violation" {
        rules::check_ids(&state.db, &new.rule_ids).await?
    } else {
        Vec::new()
    };
    let forward = new.forward && !target.is_local();
    // Read before the transaction: a Flag comes from the instance actor.
    let instance = if forward {
        Some(instance::ensure_actor(&state.db, &state.urls).await?)
    } else {
        None
    };
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let report = db::reports::insert(
        &mut *tx,
        &db::reports::NewReport {
            reporter_id: reporter.id,
            target_id: target.id,
            post_ids: &post_ids,
            rule_ids: &rule_ids,
            comment: new.comment.trim(),
            category: &category,
            forwarded: forward,
            ap_id: None,
        },
        now,
    )
    .await?
    .ok_or_else(|| Error::Internal(anyhow::anyhow!("a new report has no Flag id")))?;
    if let Some(instance) = &instance {
        forward_flag(&mut tx, state, instance, &target, &posts, &report).await?;
    }
    tell_staff(&mut tx, state, &report).await?;
    tx.commit().await?;
    Ok(report)
}

async fn forward_flag(
    tx: &mut PgConnection,
    state: &AppState,
    instance: &Actor,
    target: &Actor,
    posts: &[db::posts::Post],
    report: &Report,
) -> Result<()> {
    let mut objects = vec![target.ap_id.clone()];
    objects.extend(posts.iter().map(|p| p.ap_id.clone()));
    let flag = activities::flag(
        &activities::new_id(&state.urls),
        &instance.ap_id,
        &objects,
        &report.comment,
    );
    let inbox = target
        .shared_inbox_url
        .clone()
        .unwrap_or_else(|| target.inbox_url.clone());
    outbox::queue(tx, state, instance.id, &flag, &[inbox]).await?;
    Ok(())
}

/// A `Flag` from another server: a report about the local accounts (and
/// their posts) it names, from the actor that sent it. Returns whether a
/// report was filed.
pub async fn receive_flag(
    tx: &mut PgConnection,
    state: &AppState,
    sender: &Actor,
    id: &str,
    objects: &[String],
    content: &str,
) -> Result<bool> {
    let host = sender.domain.clone().unwrap_or_default();
    let rejected = db::domain_policy::covering(&mut *tx, &host)
        .await?
        .iter()
        .any(|b| b.reject_reports);
    if rejected {
        return Ok(false);
    }
    let local_prefix = format!("{}/", state.urls.origin());
    let mut target: Option<Actor> = None;
    let mut post_ids = Vec::new();
    for id in objects.iter().take(100) {
        if let Some(actor) = db::actors::find_by_ap_id(&mut *tx, id).await?
            && actor.is_local()
        {
            target.get_or_insert(actor);
        } else if let Some(post) = db::posts::find_by_ap_id(&mut *tx, id).await?
            && post.ap_id.starts_with(&local_prefix)
        {
            post_ids.push((post.id, post.author_id));
        }
    }
    // Mastodon's Flags name the account; some servers name only posts.
    let target = match target {
        Some(t) => t,
        None => match post_ids.first() {
            Some((_, author)) => match db::actors::find_by_id(&mut *tx, *author).await? {
                Some(a) => a,
                None => return Ok(false),
            },
            None => return Ok(false),
        },
    };
    let post_ids: Vec<i64> = post_ids
        .into_iter()
        .filter(|(_, author)| *author == target.id)
        .map(|(id, _)| id)
        .collect();
    let comment: String = content.chars().take(MAX_COMMENT).collect();
    let stored = db::reports::insert(
        &mut *tx,
        &db::reports::NewReport {
            reporter_id: sender.id,
            target_id: target.id,
            post_ids: &post_ids,
            rule_ids: &[],
            comment: &comment,
            category: "other",
            forwarded: false,
            ap_id: Some(id),
        },
        state.clock.now(),
    )
    .await?;
    if let Some(report) = &stored {
        tell_staff(tx, state, report).await?;
    }
    Ok(stored.is_some())
}

/// Every moderator and admin who can sign in gets an `admin.report`
/// notification of a new report (not its author, when staff reported).
async fn tell_staff(tx: &mut sqlx::PgConnection, state: &AppState, report: &Report) -> Result<()> {
    for staff in db::users::staff_actor_ids(&mut *tx).await? {
        if staff != report.reporter_id {
            db::notifications::notify_report(
                &mut *tx,
                staff,
                report.reporter_id,
                report.id,
                state.clock.now(),
            )
            .await?;
        }
    }
    if crate::service::mail::enabled(state) {
        let name = |actor: Option<Actor>| {
            actor.map_or_else(String::new, |a| {
                let host = a.domain.clone().unwrap_or_else(|| state.urls.domain());
                format!("{}@{host}", a.username)
            })
        };
        let reporter = name(db::actors::find_by_id(&mut *tx, report.reporter_id).await?);
        let target = name(db::actors::find_by_id(&mut *tx, report.target_id).await?);
        let link = format!("{}/admin/reports", state.urls.origin());
        crate::service::mail::queue_to_staff(
            tx,
            state,
            &Mail::NewReport {
                reporter: &reporter,
                target: &target,
                comment: &report.comment,
                link: &link,
            },
            Some(report.reporter_id),
        )
        .await?;
    }
    Ok(())
}

pub async fn list(
    state: &AppState,
    _staff: &Staff,
    resolved: bool,
    max_id: Option<i64>,
    limit: i64,
) -> Result<Vec<Report>> {
    Ok(db::reports::list(&state.db, resolved, max_id, limit.clamp(1, 200)).await?)
}

pub async fn find(state: &AppState, _staff: &Staff, id: i64) -> Result<Report> {
    db::reports::find(&state.db, id)
        .await?
        .ok_or(Error::NotFound)
}

/// What a moderator does to a report (Mastodon's admin report actions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Resolve,
    Reopen,
    AssignToSelf,
    Unassign,
}

impl Action {
    /// The action by its name in Mastodon's admin API path.
    pub fn parse(name: &str) -> Option<Action> {
        match name {
            "resolve" => Some(Action::Resolve),
            "reopen" => Some(Action::Reopen),
            "assign_to_self" => Some(Action::AssignToSelf),
            "unassign" => Some(Action::Unassign),
            _ => None,
        }
    }

    fn audit_name(self) -> &'static str {
        match self {
            Action::Resolve => "report.resolve",
            Action::Reopen => "report.reopen",
            Action::AssignToSelf => "report.assign_to_self",
            Action::Unassign => "report.unassign",
        }
    }
}

/// Files a report under another category (Mastodon's `PUT
/// /api/v1/admin/reports/:id`), audit-logged with the change.
pub async fn set_category(
    state: &AppState,
    staff: &Staff,
    id: i64,
    category: &str,
) -> Result<Report> {
    if !CATEGORIES.contains(&category) {
        return Err(Error::Validation(format!(
            "`{category}` is not a category: give spam, legal, violation or other"
        )));
    }
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let before = db::reports::find(&mut *tx, id)
        .await?
        .ok_or(Error::NotFound)?;
    let report = db::reports::set_category(&mut *tx, id, category, now)
        .await?
        .ok_or(Error::NotFound)?;
    audit::record(
        &mut tx,
        now,
        staff,
        "report.update",
        "report",
        &report.id.to_string(),
        serde_json::json!({ "category": { "from": before.category, "to": category } }),
    )
    .await?;
    tx.commit().await?;
    Ok(report)
}

/// Resolves, reopens, assigns or unassigns a report, audit-logged.
pub async fn act(state: &AppState, staff: &Staff, id: i64, action: Action) -> Result<Report> {
    let me = staff
        .actor_id
        .ok_or_else(|| Error::Validation("reports are handled by a staff account".into()));
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let changed = match action {
        Action::Resolve => db::reports::set_resolved(&mut *tx, id, Some(me?), now).await?,
        Action::Reopen => db::reports::set_resolved(&mut *tx, id, None, now).await?,
        Action::AssignToSelf => db::reports::set_assignee(&mut *tx, id, Some(me?), now).await?,
        Action::Unassign => db::reports::set_assignee(&mut *tx, id, None, now).await?,
    };
    let report = changed.ok_or(Error::NotFound)?;
    audit::record(
        &mut tx,
        now,
        staff,
        action.audit_name(),
        "report",
        &report.id.to_string(),
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(report)
}
