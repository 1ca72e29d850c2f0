//! `POST /api/v1/statuses`, `PUT` and `DELETE /api/v1/statuses/{id}`: posting,
//! editing and deleting, with Mastodon's parameters and GoToSocial's
//! `interaction_policy`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::domain::interaction::ReplyPolicy;
use crate::domain::visibility::Visibility;
use crate::error::{Error, Result};
use crate::http::api::scheduled_statuses::{self, parse_time};
use crate::http::api::{Params, Token, params::lenient};
use crate::mastodon::Presenter;
use crate::mastodon::entities as e;
use crate::service::posts::draft;
use crate::service::{compose, media, posts, scheduled};
use crate::state::AppState;

use super::visible_post;

#[derive(Deserialize, Default)]
pub(super) struct PollParams {
    #[serde(default, deserialize_with = "lenient::list")]
    options: Vec<String>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    expires_in: Option<i64>,
    #[serde(default, deserialize_with = "lenient::bool")]
    multiple: bool,
    #[serde(default, deserialize_with = "lenient::bool")]
    hide_totals: bool,
}

/// GoToSocial's rules for one kind of interaction, as a client sends them.
#[derive(Deserialize, Default)]
pub(super) struct PolicyRulesParams {
    #[serde(default, deserialize_with = "lenient::list")]
    always: Vec<String>,
    #[serde(default, deserialize_with = "lenient::list")]
    automatic_approval: Vec<String>,
    #[serde(default, deserialize_with = "lenient::list")]
    with_approval: Vec<String>,
    #[serde(default, deserialize_with = "lenient::list")]
    manual_approval: Vec<String>,
}

impl PolicyRulesParams {
    fn automatic(&self) -> impl Iterator<Item = &str> {
        self.always
            .iter()
            .chain(&self.automatic_approval)
            .map(String::as_str)
    }

    fn needs_approval(&self) -> bool {
        !(self.with_approval.is_empty() && self.manual_approval.is_empty())
    }
}

/// GoToSocial's `interaction_policy` when writing a status.
#[derive(Deserialize, Default)]
pub(super) struct InteractionPolicyParams {
    #[serde(default)]
    can_reply: Option<PolicyRulesParams>,
    #[serde(default)]
    can_favourite: Option<PolicyRulesParams>,
    #[serde(default)]
    can_reblog: Option<PolicyRulesParams>,
}

impl InteractionPolicyParams {
    /// The reply control these rules amount to. Skein offers everyone, the
    /// accounts the author follows, or mentioned accounts only, approved at
    /// once; likes and reposts stay open to whoever may see the post.
    fn reply_policy(&self, visibility: Visibility) -> Result<ReplyPolicy> {
        for (name, rules) in [
            ("can_favourite", &self.can_favourite),
            ("can_reblog", &self.can_reblog),
        ] {
            let Some(rules) = rules else { continue };
            let open = rules.automatic().any(|v| v == "public");
            let own_only = rules.automatic().all(|v| matches!(v, "author" | "me"));
            if rules.needs_approval()
                || !(open || (name == "can_reblog" && !visibility.is_public() && own_only))
            {
                return Err(Error::Validation(format!(
                    "interaction_policy[{name}]: on this server anyone who can see a post may {}; give [\"public\"]",
                    if name == "can_favourite" {
                        "favourite it"
                    } else {
                        "boost it"
                    }
                )));
            }
        }
        let Some(rules) = &self.can_reply else {
            return Ok(ReplyPolicy::Everyone);
        };
        if rules.needs_approval() {
            return Err(Error::Validation(
                "interaction_policy[can_reply]: replies are not held for approval here; list who may reply in automatic_approval".into(),
            ));
        }
        let values: Vec<&str> = rules.automatic().collect();
        if values.contains(&"public") {
            return Ok(ReplyPolicy::Everyone);
        }
        if let Some(other) = values
            .iter()
            .find(|v| !matches!(**v, "following" | "author" | "me" | "mentioned"))
        {
            return Err(Error::Validation(format!(
                "interaction_policy[can_reply]: `{other}` is not offered here; give public, following or mentioned"
            )));
        }
        Ok(if values.contains(&"following") {
            ReplyPolicy::Following
        } else {
            ReplyPolicy::Mentioned
        })
    }
}

#[derive(Deserialize, Default)]
pub(super) struct StatusParams {
    #[serde(default)]
    interaction_policy: Option<InteractionPolicyParams>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default, deserialize_with = "lenient::list")]
    media_ids: Vec<String>,
    #[serde(default, deserialize_with = "lenient::objects")]
    media_attributes: Option<Vec<serde_json::Map<String, serde_json::Value>>>,
    #[serde(default)]
    poll: Option<PollParams>,
    #[serde(default, deserialize_with = "lenient::opt_id")]
    in_reply_to_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_id")]
    quoted_status_id: Option<String>,
    #[serde(default)]
    quote_approval_policy: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    sensitive: Option<bool>,
    #[serde(default)]
    spoiler_text: Option<String>,
    #[serde(default)]
    visibility: Option<String>,
    #[serde(default)]
    language: Option<String>,
    #[serde(default)]
    scheduled_at: Option<String>,
}

/// One of `media_attributes[]`: (id, description, focus).
pub(super) type MediaAttributesParam = (i64, Option<String>, Option<String>);

impl StatusParams {
    fn media_ids(&self) -> Result<Vec<i64>> {
        self.media_ids
            .iter()
            .map(|raw| {
                raw.parse()
                    .map_err(|_| Error::Validation(format!("`{raw}` is not a media id")))
            })
            .collect()
    }

    /// `media_attributes[][id|description|focus]` of an edit.
    fn media_attributes(&self) -> Result<Vec<MediaAttributesParam>> {
        let Some(list) = &self.media_attributes else {
            return Ok(Vec::new());
        };
        list.iter()
            .map(|item| {
                let text = |k: &str| item.get(k).and_then(|v| v.as_str()).map(String::from);
                let id = text("id")
                    .and_then(|i| i.parse().ok())
                    .ok_or_else(|| Error::Validation("media_attributes need an id".into()))?;
                Ok((id, text("description"), text("focus")))
            })
            .collect()
    }

    fn poll(&self) -> Result<Option<posts::PollDraft>> {
        let Some(poll) = &self.poll else {
            return Ok(None);
        };
        if poll.options.is_empty() {
            return Ok(None);
        }
        let seconds = poll
            .expires_in
            .ok_or_else(|| Error::Validation("poll[expires_in] is required".into()))?;
        Ok(Some(posts::PollDraft {
            options: poll.options.clone(),
            multiple: poll.multiple,
            expires_in: chrono::Duration::seconds(seconds),
        }))
    }
}

/// Posts, or schedules with `scheduled_at` (answering a ScheduledStatus);
/// as on Mastodon, a time already past posts at once.
pub(super) async fn create(
    State(state): State<AppState>,
    token: Token,
    headers: HeaderMap,
    Params(p): Params<StatusParams>,
) -> Result<Response> {
    let (user, author) = token.user("write:statuses")?;
    let scheduled_at = match p.scheduled_at.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(raw) => scheduled::in_future(&state, parse_time(raw)?),
        None => None,
    };
    let media_ids = p.media_ids()?;
    let visibility = draft::visibility(user, p.visibility.as_deref())?;
    let parent = match &p.in_reply_to_id {
        Some(raw) => Some(visible_post(&state, Some(author), raw).await?),
        None => None,
    };
    let quoted = match &p.quoted_status_id {
        Some(raw) => Some(visible_post(&state, Some(author), raw).await?),
        None => None,
    };
    let reply_policy = match &p.interaction_policy {
        Some(policy) => Some(policy.reply_policy(visibility)?),
        None => None,
    };
    let app_id = token.app.as_ref().map(|a| a.id);
    if let Some(at) = scheduled_at {
        let poll = p.poll()?.map(|poll| scheduled::PollParams {
            options: poll.options,
            expires_in: poll.expires_in.num_seconds(),
            multiple: poll.multiple,
            hide_totals: p.poll.as_ref().is_some_and(|p| p.hide_totals),
        });
        let params = scheduled::Params {
            text: p.status.clone().unwrap_or_default(),
            poll,
            media_ids: (!p.media_ids.is_empty()).then(|| p.media_ids.clone()),
            sensitive: p.sensitive,
            spoiler_text: p.spoiler_text.clone(),
            visibility: p.visibility.clone(),
            language: p.language.clone(),
            quote_approval_policy: p.quote_approval_policy.clone(),
            reply_policy: reply_policy.map(|r| r.as_str().to_string()),
            ..scheduled::Params::default()
        };
        let request = scheduled::Request {
            params,
            scheduled_at: at,
            in_reply_to: parent.as_ref(),
            quote_of: quoted.as_ref(),
            app_id,
        };
        let kept = scheduled::schedule(&state, user, author, request).await?;
        return Ok(Json(scheduled_statuses::entity(&kept)).into_response());
    }
    let draft = draft::new_post(
        user,
        draft::Request {
            text: p.status.as_deref().unwrap_or_default(),
            spoiler: p.spoiler_text.as_deref().unwrap_or_default(),
            sensitive: p.sensitive,
            language: p.language.as_deref(),
            visibility: p.visibility.as_deref(),
            reply_policy,
            quote_policy: p.quote_approval_policy.as_deref(),
            in_reply_to: parent.as_ref(),
            quote_of: quoted.as_ref(),
            poll: p.poll()?,
            media_ids: &media_ids,
        },
    )?;
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok());
    let post = compose::create(&state, user, author, draft, key, app_id).await?;
    Ok(Json(Presenter::new(&state, Some(author)).status(&post).await?).into_response())
}

pub(super) async fn delete(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<e::Status>> {
    let (_, author) = token.user("write:statuses")?;
    let post = visible_post(&state, Some(author), &raw).await?;
    if post.author_id != author.id {
        return Err(Error::NotFound);
    }
    let mut status = Presenter::new(&state, Some(author)).status(&post).await?;
    posts::delete(&state, author, &post).await?;
    // For "delete and redraft": the text as typed.
    status.text = Some(post.source.clone().unwrap_or_default());
    Ok(Json(status))
}

pub(super) async fn edit(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
    Params(p): Params<StatusParams>,
) -> Result<Json<e::Status>> {
    let (_, author) = token.user("write:statuses")?;
    let post = visible_post(&state, Some(author), &raw).await?;
    if post.author_id != author.id {
        return Err(Error::NotFound);
    }
    let media_ids = p.media_ids()?;
    let attributes = p.media_attributes()?;
    let attributes: Vec<media::MediaAttributes> = attributes
        .iter()
        .map(|(id, description, focus)| media::MediaAttributes {
            id: *id,
            description: description.as_deref(),
            focus: focus.as_deref(),
        })
        .collect();
    let visibility = post.visibility;
    let quote_policy = post.quote_policy;
    let language = p.language.clone().or_else(|| post.language.clone());
    let draft = posts::Draft {
        text: p.status.as_deref().unwrap_or_default(),
        spoiler: p.spoiler_text.as_deref().unwrap_or_default(),
        sensitive: p.sensitive.unwrap_or(false),
        language: language.as_deref(),
        visibility,
        in_reply_to: None,
        poll: p.poll()?,
        quote_of: None,
        quote_policy,
        reply_policy: post.reply_policy,
        // Mastodon's edit replaces the media with the list given (none
        // given: the post keeps no media).
        media_ids: Some(&media_ids),
        media_attributes: &attributes,
    };
    let edited = posts::edit(&state, author, &post, draft).await?;
    Ok(Json(
        Presenter::new(&state, Some(author)).status(&edited).await?,
    ))
}
