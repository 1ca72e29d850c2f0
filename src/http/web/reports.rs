//! Reporting an account from the web (`/web/accounts/{id}/report`): pick
//! some of its recent posts (its own, not its reposts, that the reporter
//! may see), a category, the rules broken and a comment, and, for a
//! remote account, whether to forward the report to its server
//! (anonymously, from this instance). The same service as
//! `POST /api/v1/reports`. A form that cannot be filed as sent (a post
//! deleted meanwhile, a rule missing) comes back with everything typed and
//! ticked still there, and says why.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;

use super::cards::{self, AccountView, PostCard};
use super::{Chrome, SignedIn, WebResult, checked, id, render_with, see_other};
use crate::error::Error;
use crate::mastodon::Presenter;
use crate::service::reports::{self, NewReport};
use crate::service::types::Actor;
use crate::service::{profiles, rules};
use crate::state::AppState;

/// The categories offered, with what the form calls them.
const CATEGORIES: [(&str, &str); 4] = [
    ("spam", "Spam"),
    ("violation", "It breaks this server's rules"),
    ("legal", "It is illegal"),
    ("other", "Something else"),
];

/// A post offered for the report, ticked or not.
pub struct OfferedPost {
    pub card: PostCard,
    pub checked: bool,
}

/// A rule offered for the report, ticked or not.
pub struct OfferedRule {
    pub id: i64,
    pub text: String,
    pub checked: bool,
}

/// A category of the form's menu.
pub struct CategoryOption {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "web/report.html")]
struct ReportPage {
    chrome: Chrome,
    account: AccountView,
    posts: Vec<OfferedPost>,
    rules: Vec<OfferedRule>,
    categories: Vec<CategoryOption>,
    comment: String,
    forward: bool,
    remote: bool,
    sent: bool,
    error: Option<String>,
}

/// What the form holds: empty at first, what was sent when it comes back.
#[derive(Debug, Default)]
struct Filled {
    category: String,
    comment: String,
    rule_ids: Vec<i64>,
    post_ids: Vec<i64>,
    forward: bool,
}

impl Filled {
    fn fresh() -> Filled {
        Filled {
            category: "other".into(),
            ..Filled::default()
        }
    }
}

#[derive(Deserialize, Default)]
pub struct Sent {
    #[serde(default)]
    sent: Option<String>,
    /// The post the report was opened from (a post's menu): ticked.
    #[serde(default)]
    status_id: Option<String>,
}

async fn page(
    state: &AppState,
    me: SignedIn,
    target: &Actor,
    sent: bool,
    filled: Filled,
    error: Option<String>,
) -> WebResult {
    let reporter = me.actor();
    let mut offered = reports::offered_posts(state, reporter, target).await?;
    // Posts ticked that are no longer among the latest stay offered, ticked.
    let missing: Vec<i64> = filled
        .post_ids
        .iter()
        .copied()
        .filter(|id| !offered.iter().any(|p| p.id == *id))
        .collect();
    if !missing.is_empty() {
        let (more, _) = reports::attachable(state, reporter, target.id, &missing).await?;
        offered.extend(more);
        offered.sort_by_key(|p| std::cmp::Reverse(p.id));
    }
    let cards = cards::posts(state, Some(reporter), &offered, None).await?;
    let posts = cards
        .into_iter()
        .map(|card| OfferedPost {
            checked: filled.post_ids.iter().any(|id| id.to_string() == card.id),
            card,
        })
        .collect();
    let rules = rules::list(&state.db)
        .await?
        .into_iter()
        .map(|r| OfferedRule {
            checked: filled.rule_ids.contains(&r.id),
            id: r.id,
            text: r.text,
        })
        .collect();
    let known = CATEGORIES.iter().any(|(v, _)| *v == filled.category);
    let categories = CATEGORIES
        .iter()
        .map(|(value, label)| CategoryOption {
            value,
            label,
            selected: *value == filled.category || (!known && *value == "other"),
        })
        .collect();
    let account = cards::Cards::new(state).account(
        &Presenter::new(state, Some(reporter))
            .account(target)
            .await?,
    );
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render_with(
        status,
        &ReportPage {
            chrome: me.chrome,
            remote: !target.is_local(),
            account,
            posts,
            rules,
            categories,
            comment: filled.comment,
            forward: filled.forward,
            sent,
            error,
        },
    )
}

/// `GET /web/accounts/{id}/report`
pub async fn form(
    State(state): State<AppState>,
    me: SignedIn,
    Path(raw): Path<String>,
    Query(q): Query<Sent>,
) -> WebResult {
    let target = profiles::by_id(&state.db, id(&raw)?).await?;
    let mut filled = Filled::fresh();
    // A post that is not one the form may offer is left unticked by `page`.
    if let Some(id) = q.status_id.as_deref().and_then(|r| r.parse::<i64>().ok()) {
        filled.post_ids.push(id);
    }
    page(&state, me, &target, q.sent.is_some(), filled, None).await
}

/// Ids the form sent under `name` (a checkbox that repeats); what is not an
/// id names nothing and is left out.
fn ids(fields: &[(String, String)], name: &str) -> (Vec<i64>, bool) {
    let mut ids = Vec::new();
    let mut malformed = false;
    for (_, value) in fields.iter().filter(|(k, _)| k == name) {
        match value.parse::<i64>() {
            Ok(id) if !ids.contains(&id) => ids.push(id),
            Ok(_) => {}
            Err(_) => malformed = true,
        }
    }
    (ids, malformed)
}

const POSTS_DROPPED: &str = "A post you chose can no longer be included: it was deleted, or it \
     is not this account's own post, or you may not see it. It was taken out of your report; \
     nothing was sent yet. Check the report and send it again.";

/// `POST /web/accounts/{id}/report`: the form's fields; `post` and `rule`
/// repeat.
pub async fn submit(
    State(state): State<AppState>,
    me: SignedIn,
    Path(raw): Path<String>,
    axum::Form(fields): axum::Form<Vec<(String, String)>>,
) -> WebResult {
    let value = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    me.check(&value("csrf_token").unwrap_or_default())?;
    let target = profiles::by_id(&state.db, id(&raw)?).await?;
    let (post_ids, bad_post) = ids(&fields, "post");
    let (rule_ids, bad_rule) = ids(&fields, "rule");
    let mut filled = Filled {
        category: value("category").unwrap_or_else(|| "other".into()),
        comment: value("comment").unwrap_or_default(),
        rule_ids,
        post_ids,
        forward: checked(&value("forward")),
    };
    // Posts that cannot be attached are dropped from the form shown again,
    // with everything else kept.
    let (_, refused) = reports::attachable(&state, me.actor(), target.id, &filled.post_ids).await?;
    if bad_post || !refused.is_empty() {
        filled.post_ids.retain(|id| !refused.contains(id));
        return page(
            &state,
            me,
            &target,
            false,
            filled,
            Some(POSTS_DROPPED.into()),
        )
        .await;
    }
    let in_force = rules::list(&state.db).await?;
    if bad_rule
        || filled
            .rule_ids
            .iter()
            .any(|r| !in_force.iter().any(|x| x.id == *r))
    {
        filled
            .rule_ids
            .retain(|r| in_force.iter().any(|x| x.id == *r));
        let message = "A rule you chose is no longer one of this server's rules; it was taken \
                       out of your report. Check the report and send it again.";
        return page(&state, me, &target, false, filled, Some(message.into())).await;
    }
    let violation = filled.category == "violation";
    if violation && !in_force.is_empty() && filled.rule_ids.is_empty() {
        let message = "Choose the rules that are broken.";
        return page(&state, me, &target, false, filled, Some(message.into())).await;
    }
    if !violation && !filled.rule_ids.is_empty() {
        let message = "You chose rules that are broken: choose \u{201c}It breaks this server's \
                       rules\u{201d} as what is wrong, or untick the rules.";
        return page(&state, me, &target, false, filled, Some(message.into())).await;
    }
    let report = NewReport {
        target_id: target.id,
        post_ids: filled.post_ids.clone(),
        comment: filled.comment.clone(),
        category: Some(filled.category.clone()),
        rule_ids: filled.rule_ids.clone(),
        forward: filled.forward,
    };
    match reports::create(&state, me.actor(), report).await {
        Ok(_) => Ok(see_other(&format!("/web/accounts/{raw}/report?sent=1"))),
        Err(Error::Validation(message)) => {
            page(&state, me, &target, false, filled, Some(message)).await
        }
        // A post went away between the check above and the report.
        Err(Error::NotFound) => {
            let (_, refused) =
                reports::attachable(&state, me.actor(), target.id, &filled.post_ids).await?;
            filled.post_ids.retain(|id| !refused.contains(id));
            page(
                &state,
                me,
                &target,
                false,
                filled,
                Some(POSTS_DROPPED.into()),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}
