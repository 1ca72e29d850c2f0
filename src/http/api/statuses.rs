//! `/api/v1/statuses/...`, `/api/v1/polls/...`, `/api/v1/bookmarks`,
//! `/api/v1/favourites` (<https://docs.joinmastodon.org/methods/statuses/>).

use axum::extract::{OriginalUri, Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use crate::domain::filters::Context as FilterContext;
use crate::domain::interaction::ReplyPolicy;
use crate::domain::visibility::Visibility;
use crate::error::{Error, Result};
use crate::http::api::accounts::bounds;
use crate::http::api::{MaybeToken, PageParams, Params, Token, id, paged, params::lenient};
use crate::mastodon::Presenter;
use crate::mastodon::entities::{self as e, time};
use crate::service::posts::draft;
use crate::service::types::{Actor, Listing, Post};
use crate::service::{accounts, compose, interactions, media, polls, posts, timelines};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/statuses", post(create).get(many))
        .route("/api/v1/statuses/{id}", get(show).delete(delete).put(edit))
        .route("/api/v1/statuses/{id}/context", get(context))
        .route("/api/v1/statuses/{id}/history", get(history))
        .route("/api/v1/statuses/{id}/source", get(source))
        .route("/api/v1/statuses/{id}/favourite", post(favourite))
        .route("/api/v1/statuses/{id}/unfavourite", post(unfavourite))
        .route("/api/v1/statuses/{id}/reblog", post(reblog))
        .route("/api/v1/statuses/{id}/unreblog", post(unreblog))
        .route("/api/v1/statuses/{id}/bookmark", post(bookmark))
        .route("/api/v1/statuses/{id}/unbookmark", post(unbookmark))
        .route("/api/v1/statuses/{id}/hide_reply", post(hide_reply))
        .route("/api/v1/statuses/{id}/unhide_reply", post(unhide_reply))
        .route("/api/v1/statuses/{id}/pin", post(pin))
        .route("/api/v1/statuses/{id}/unpin", post(unpin))
        .route("/api/v1/statuses/{id}/favourited_by", get(favourited_by))
        .route("/api/v1/statuses/{id}/reblogged_by", get(reblogged_by))
        .route("/api/v1/polls/{id}", get(poll))
        .route("/api/v1/polls/{id}/votes", post(vote))
        .route("/api/v1/bookmarks", get(bookmarks))
        .route("/api/v1/favourites", get(favourites))
}

/// A live post the viewer may see; anything else is "not found", as
/// Mastodon answers (so that private posts do not betray themselves).
pub async fn visible_post(state: &AppState, viewer: Option<&Actor>, raw: &str) -> Result<Post> {
    posts::visible(state, viewer, id(raw)?).await
}

#[derive(Deserialize, Default)]
struct PollParams {
    #[serde(default, deserialize_with = "lenient::list")]
    options: Vec<String>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    expires_in: Option<i64>,
    #[serde(default, deserialize_with = "lenient::bool")]
    multiple: bool,
}

/// GoToSocial's rules for one kind of interaction, as a client sends them.
#[derive(Deserialize, Default)]
struct PolicyRulesParams {
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
struct InteractionPolicyParams {
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
struct StatusParams {
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
type MediaAttributesParam = (i64, Option<String>, Option<String>);

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

async fn create(
    State(state): State<AppState>,
    token: Token,
    headers: HeaderMap,
    Params(p): Params<StatusParams>,
) -> Result<Json<e::Status>> {
    let (user, author) = token.user("write:statuses")?;
    if p.scheduled_at.as_deref().is_some_and(|s| !s.is_empty()) {
        return Err(Error::Validation(
            "scheduled posts are not supported on this server".into(),
        ));
    }
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
    let post = compose::create(
        &state,
        user,
        author,
        draft,
        key,
        token.app.as_ref().map(|a| a.id),
    )
    .await?;
    Ok(Json(
        Presenter::new(&state, Some(author)).status(&post).await?,
    ))
}

async fn show(
    State(state): State<AppState>,
    token: MaybeToken,
    Path(raw): Path<String>,
) -> Result<Json<e::Status>> {
    let viewer = token.viewer("read:statuses")?;
    let post = visible_post(&state, viewer, &raw).await?;
    Ok(Json(Presenter::new(&state, viewer).status(&post).await?))
}

#[derive(Deserialize)]
struct IdList {
    #[serde(default, deserialize_with = "lenient::list")]
    id: Vec<String>,
}

async fn many(
    State(state): State<AppState>,
    token: MaybeToken,
    Params(p): Params<IdList>,
) -> Result<Json<Vec<e::Status>>> {
    let viewer = token.viewer("read:statuses")?;
    let mut found = Vec::new();
    for raw in p.id.iter().take(20) {
        if let Ok(post) = visible_post(&state, viewer, raw).await {
            found.push(post);
        }
    }
    Ok(Json(Presenter::new(&state, viewer).statuses(&found).await?))
}

async fn delete(
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

async fn edit(
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

async fn context(
    State(state): State<AppState>,
    token: MaybeToken,
    Path(raw): Path<String>,
) -> Result<Json<e::Context>> {
    let viewer = token.viewer("read:statuses")?;
    let post = visible_post(&state, viewer, &raw).await?;
    let thread = timelines::thread(&state, viewer, &post).await?;
    // One page for both sides, so the viewer's filters are read once.
    let above: std::collections::HashSet<String> =
        thread.ancestors.iter().map(|p| p.id.to_string()).collect();
    let both: Vec<Post> = thread
        .ancestors
        .into_iter()
        .chain(thread.descendants)
        .collect();
    let (ancestors, descendants) = Presenter::new(&state, viewer)
        .in_context(FilterContext::Thread)
        .statuses(&both)
        .await?
        .into_iter()
        .partition(|s| above.contains(&s.id));
    Ok(Json(e::Context {
        ancestors,
        descendants,
    }))
}

async fn history(
    State(state): State<AppState>,
    token: MaybeToken,
    Path(raw): Path<String>,
) -> Result<Json<Vec<e::StatusEdit>>> {
    let viewer = token.viewer("read:statuses")?;
    let post = visible_post(&state, viewer, &raw).await?;
    let presenter = Presenter::new(&state, viewer);
    let current = presenter.status(&post).await?;
    let mut versions: Vec<e::StatusEdit> = posts::history(&state, &post)
        .await?
        .into_iter()
        .map(|(content, summary, sensitive, at)| e::StatusEdit {
            content,
            spoiler_text: summary,
            sensitive,
            created_at: time(at),
            account: current.account.clone(),
            poll: None,
            media_attachments: Vec::new(),
            emojis: Vec::new(),
        })
        .collect();
    versions.push(e::StatusEdit {
        content: current.content.clone(),
        spoiler_text: current.spoiler_text.clone(),
        sensitive: current.sensitive,
        created_at: current
            .edited_at
            .clone()
            .unwrap_or(current.created_at.clone()),
        account: current.account.clone(),
        poll: None,
        media_attachments: current.media_attachments.clone(),
        emojis: current.emojis.clone(),
    });
    Ok(Json(versions))
}

async fn source(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<e::StatusSource>> {
    let (_, author) = token.user("read:statuses")?;
    let post = visible_post(&state, Some(author), &raw).await?;
    if post.author_id != author.id {
        return Err(Error::NotFound);
    }
    Ok(Json(e::StatusSource {
        id: post.id.to_string(),
        text: post.source.clone().unwrap_or_default(),
        spoiler_text: post.summary.clone(),
    }))
}

async fn present(state: &AppState, viewer: &Actor, post: &Post) -> Result<Json<e::Status>> {
    let fresh = posts::by_id(state, post.id)
        .await?
        .unwrap_or_else(|| post.clone());
    Ok(Json(
        Presenter::new(state, Some(viewer)).status(&fresh).await?,
    ))
}

async fn favourite(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<e::Status>> {
    let (_, viewer) = token.user("write:favourites")?;
    let post = visible_post(&state, Some(viewer), &raw).await?;
    interactions::like(&state, viewer, &post).await?;
    present(&state, viewer, &post).await
}

/// Hides a reply to one of the caller's posts from the thread (as on
/// Threads): others no longer see it in the post's context; its author
/// still does. A Skein extension.
async fn hide_reply(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<e::Status>> {
    let (_, viewer) = token.user("write:statuses")?;
    let post = visible_post(&state, Some(viewer), &raw).await?;
    crate::service::reply_controls::set_hidden(&state, viewer, &post, true).await?;
    present(&state, viewer, &post).await
}

/// Shows a hidden reply in the thread again.
async fn unhide_reply(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<e::Status>> {
    let (_, viewer) = token.user("write:statuses")?;
    let post = visible_post(&state, Some(viewer), &raw).await?;
    crate::service::reply_controls::set_hidden(&state, viewer, &post, false).await?;
    present(&state, viewer, &post).await
}

async fn unfavourite(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<e::Status>> {
    let (_, viewer) = token.user("write:favourites")?;
    let post = visible_post(&state, Some(viewer), &raw).await?;
    interactions::unlike(&state, viewer, &post).await?;
    present(&state, viewer, &post).await
}

async fn reblog(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<e::Status>> {
    let (_, viewer) = token.user("write:statuses")?;
    let post = visible_post(&state, Some(viewer), &raw).await?;
    let target = match post.reblog_of_id {
        Some(original) => posts::by_id(&state, original)
            .await?
            .ok_or(Error::NotFound)?,
        None => post,
    };
    let repost = interactions::repost(&state, viewer, &target).await?;
    present(&state, viewer, &repost).await
}

async fn unreblog(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<e::Status>> {
    let (_, viewer) = token.user("write:statuses")?;
    let post = visible_post(&state, Some(viewer), &raw).await?;
    interactions::unrepost(&state, viewer, &post).await?;
    present(&state, viewer, &post).await
}

async fn bookmark(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<e::Status>> {
    let (_, viewer) = token.user("write:bookmarks")?;
    let post = visible_post(&state, Some(viewer), &raw).await?;
    compose::bookmark(&state, viewer, &post).await?;
    present(&state, viewer, &post).await
}

async fn unbookmark(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<e::Status>> {
    let (_, viewer) = token.user("write:bookmarks")?;
    let post = visible_post(&state, Some(viewer), &raw).await?;
    compose::unbookmark(&state, viewer, &post).await?;
    present(&state, viewer, &post).await
}

async fn pin(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<e::Status>> {
    let (_, viewer) = token.user("write:accounts")?;
    let post = visible_post(&state, Some(viewer), &raw).await?;
    posts::pin(&state, viewer, &post).await?;
    present(&state, viewer, &post).await
}

async fn unpin(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<e::Status>> {
    let (_, viewer) = token.user("write:accounts")?;
    let post = visible_post(&state, Some(viewer), &raw).await?;
    posts::unpin(&state, viewer, &post).await?;
    present(&state, viewer, &post).await
}

async fn listed_by(
    state: &AppState,
    uri: &axum::http::Uri,
    token: &MaybeToken,
    raw: &str,
    listing: Listing,
    page: &PageParams,
) -> Result<Response> {
    let viewer = token.viewer("read:accounts")?;
    let post = visible_post(state, viewer, raw).await?;
    let rows = accounts::listing(state, listing, post.id, page.page(40, 80)).await?;
    let bounds = bounds(&rows, |r| r.cursor);
    let actors: Vec<Actor> = rows.into_iter().map(|r| r.actor).collect();
    let accounts = Presenter::new(state, viewer).accounts(&actors).await?;
    Ok(paged(state, uri, accounts, bounds))
}

async fn favourited_by(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    token: MaybeToken,
    Path(raw): Path<String>,
    Params(page): Params<PageParams>,
) -> Result<Response> {
    listed_by(&state, &uri, &token, &raw, Listing::FavouritedBy, &page).await
}

async fn reblogged_by(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    token: MaybeToken,
    Path(raw): Path<String>,
    Params(page): Params<PageParams>,
) -> Result<Response> {
    listed_by(&state, &uri, &token, &raw, Listing::RebloggedBy, &page).await
}

async fn poll(
    State(state): State<AppState>,
    token: MaybeToken,
    Path(raw): Path<String>,
) -> Result<Json<e::Poll>> {
    let viewer = token.viewer("read:statuses")?;
    let post = visible_post(&state, viewer, &raw).await?;
    let status = Presenter::new(&state, viewer).status(&post).await?;
    status.poll.map(Json).ok_or(Error::NotFound)
}

#[derive(Deserialize)]
struct VoteParams {
    #[serde(default, deserialize_with = "lenient::list")]
    choices: Vec<String>,
}

async fn vote(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
    Params(p): Params<VoteParams>,
) -> Result<Json<e::Poll>> {
    let (_, viewer) = token.user("write:statuses")?;
    let post = visible_post(&state, Some(viewer), &raw).await?;
    let choices: Vec<usize> = p
        .choices
        .iter()
        .map(|c| {
            c.parse()
                .map_err(|_| Error::Validation(format!("`{c}` is not a choice")))
        })
        .collect::<Result<_>>()?;
    polls::vote(&state, viewer, &post, &choices).await?;
    let status = Presenter::new(&state, Some(viewer)).status(&post).await?;
    status.poll.map(Json).ok_or(Error::NotFound)
}

async fn marked(
    state: &AppState,
    uri: &axum::http::Uri,
    viewer: &Actor,
    favourites: bool,
    page: &PageParams,
) -> Result<Response> {
    let (visible, bounds, _) = compose::marked(
        state,
        viewer,
        favourites,
        page.page(timelines::DEFAULT_LIMIT, timelines::MAX_LIMIT),
    )
    .await?;
    let statuses = Presenter::new(state, Some(viewer))
        .statuses(&visible)
        .await?;
    Ok(paged(state, uri, statuses, bounds))
}

async fn bookmarks(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    token: Token,
    Params(page): Params<PageParams>,
) -> Result<Response> {
    let (_, viewer) = token.user("read:bookmarks")?;
    marked(&state, &uri, viewer, false, &page).await
}

async fn favourites(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    token: Token,
    Params(page): Params<PageParams>,
) -> Result<Response> {
    let (_, viewer) = token.user("read:favourites")?;
    marked(&state, &uri, viewer, true, &page).await
}
