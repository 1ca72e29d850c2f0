//! `/api/v1/accounts/...`, `/api/v1/follow_requests`, `/api/v1/blocks`,
//! `/api/v1/mutes` (<https://docs.joinmastodon.org/methods/accounts/>).

use axum::extract::{OriginalUri, Path, State};
use axum::response::Response;
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use serde::Deserialize;

use crate::db::{self, actors::Actor, views::Listing};
use crate::domain::filters::Context as FilterContext;
use crate::domain::visibility::Visibility;
use crate::error::{Error, Result};
use crate::http::api::params::WithFiles;
use crate::http::api::{MaybeToken, PageParams, Params, Token, id, paged, params::lenient};
use crate::http::client_ip::ClientIp;
use crate::mastodon::Presenter;
use crate::mastodon::entities as e;
use crate::service::{
    accounts, blocks, deletion, follows, moves, mutes, profiles, remote_actors, timelines,
};
use crate::state::AppState;

pub fn routes(max_image_bytes: usize) -> Router<AppState> {
    Router::new()
        .route("/api/v1/accounts", get(many).post(register))
        .route(
            "/api/v1/accounts/verify_credentials",
            get(verify_credentials),
        )
        .route(
            "/api/v1/accounts/update_credentials",
            // An avatar and a header in one form.
            patch(update_credentials).layer(axum::extract::DefaultBodyLimit::max(
                2 * max_image_bytes + crate::http::api::media::FORM_OVERHEAD,
            )),
        )
        .route("/api/v1/accounts/delete", post(delete_account))
        .route(
            "/api/v1/profile/{picture}",
            axum::routing::delete(delete_picture),
        )
        .route("/api/v1/accounts/alias", post(set_aliases))
        .route("/api/v1/accounts/move", post(move_account))
        .route("/api/v1/accounts/relationships", get(relationships))
        .route("/api/v1/accounts/lookup", get(lookup))
        .route("/api/v1/accounts/search", get(search))
        .route("/api/v1/accounts/{id}", get(show))
        .route("/api/v1/accounts/{id}/statuses", get(statuses))
        .route("/api/v1/accounts/{id}/followers", get(followers))
        .route("/api/v1/accounts/{id}/following", get(following))
        .route("/api/v1/accounts/{id}/follow", post(follow))
        .route("/api/v1/accounts/{id}/unfollow", post(unfollow))
        .route("/api/v1/accounts/{id}/block", post(block))
        .route("/api/v1/accounts/{id}/unblock", post(unblock))
        .route("/api/v1/accounts/{id}/mute", post(mute))
        .route("/api/v1/accounts/{id}/unmute", post(unmute))
        .route(
            "/api/v1/accounts/{id}/remove_from_followers",
            post(remove_from_followers),
        )
        .route("/api/v1/follow_requests", get(follow_requests))
        .route(
            "/api/v1/follow_requests/{id}/authorize",
            post(authorize_follow),
        )
        .route("/api/v1/follow_requests/{id}/reject", post(reject_follow))
        .route("/api/v1/blocks", get(blocked))
        .route("/api/v1/mutes", get(muted))
}

/// An account by id: any known account (Mastodon shows blocked and
/// blocking accounts too), but not the instance actor nor a local actor
/// without a user.
pub async fn account(state: &AppState, raw: &str) -> Result<Actor> {
    let actor = db::actors::find_by_id(&state.db, id(raw)?)
        .await?
        .ok_or(Error::NotFound)?;
    if actor.kind == "Application" && actor.is_local() {
        return Err(Error::NotFound);
    }
    if actor.is_local()
        && db::users::find_by_actor(&state.db, actor.id)
            .await?
            .is_none()
    {
        return Err(Error::NotFound);
    }
    Ok(actor)
}

async fn verify_credentials(
    State(state): State<AppState>,
    token: Token,
) -> Result<Json<e::CredentialAccount>> {
    let (user, actor) = token
        .account
        .as_ref()
        .ok_or_else(|| Error::Validation("This method requires an authenticated user".into()))?;
    if !token.scopes.allows("read:accounts") && !token.scopes.allows("profile") {
        token.require("read:accounts")?;
    }
    let presenter = Presenter::new(&state, Some(actor));
    Ok(Json(presenter.credential_account(user, actor).await?))
}

#[derive(Deserialize, Default)]
struct CredentialsUpdate {
    display_name: Option<String>,
    note: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    locked: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    bot: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    discoverable: Option<bool>,
    #[serde(default, deserialize_with = "lenient::objects")]
    fields_attributes: Option<Vec<serde_json::Map<String, serde_json::Value>>>,
    #[serde(default)]
    source: Option<SourceUpdate>,
}

#[derive(Deserialize, Default)]
struct SourceUpdate {
    privacy: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    sensitive: Option<bool>,
    language: Option<String>,
}

async fn update_credentials(
    State(state): State<AppState>,
    token: Token,
    form: WithFiles<CredentialsUpdate>,
) -> Result<Json<e::CredentialAccount>> {
    let (user, actor) = token.user("write:accounts")?;
    let WithFiles {
        params: p,
        mut files,
    } = form;
    if p.bot == Some(true) {
        // Local accounts are people; automated accounts are not offered yet.
        return Err(Error::Validation(
            "bot accounts are not supported on this server".into(),
        ));
    }
    let fields = p.fields_attributes.map(|list| {
        list.into_iter()
            .map(|f| {
                let text = |k: &str| {
                    f.get(k)
                        .and_then(|v| v.as_str())
                        .unwrap_or_default()
                        .to_string()
                };
                (text("name"), text("value"))
            })
            .collect()
    });
    let mut updated = profiles::update(
        &state,
        actor,
        profiles::ProfileUpdate {
            display_name: p.display_name,
            bio: p.note,
            locked: p.locked,
            discoverable: p.discoverable,
            fields,
            avatar: files.remove("avatar"),
            header: files.remove("header"),
            ..Default::default()
        },
    )
    .await?;
    let mut user = user.clone();
    if let Some(source) = p.source {
        let visibility = match source.privacy.as_deref() {
            None | Some("") => None,
            Some(v) => Some(
                Visibility::parse(v)
                    .ok_or_else(|| Error::Validation(format!("`{v}` is not a visibility")))?,
            ),
        };
        user = accounts::set_preferences(
            &state,
            &user,
            accounts::Preferences {
                visibility,
                sensitive: source.sensitive,
                language: source.language,
            },
        )
        .await?;
    }
    updated = db::actors::find_by_id(&state.db, updated.id)
        .await?
        .unwrap_or(updated);
    let presenter = Presenter::new(&state, Some(&updated));
    Ok(Json(presenter.credential_account(&user, &updated).await?))
}

async fn show(
    State(state): State<AppState>,
    token: MaybeToken,
    Path(raw): Path<String>,
) -> Result<Json<e::Account>> {
    let viewer = token.viewer("read:accounts")?;
    let actor = account(&state, &raw).await?;
    Ok(Json(Presenter::new(&state, viewer).account(&actor).await?))
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
) -> Result<Json<Vec<e::Account>>> {
    let viewer = token.viewer("read:accounts")?;
    let ids: Vec<i64> =
        p.id.iter()
            .filter_map(|i| i.parse().ok())
            .take(40)
            .collect();
    let mut actors = db::views::actors(&state.db, &ids).await?;
    actors.retain(|a| !(a.is_local() && a.kind == "Application"));
    actors.sort_by_key(|a| ids.iter().position(|i| *i == a.id));
    Ok(Json(
        Presenter::new(&state, viewer).accounts(&actors).await?,
    ))
}

#[derive(Deserialize)]
struct Registration {
    #[serde(default)]
    username: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default, deserialize_with = "lenient::bool")]
    agreement: bool,
    #[serde(default)]
    reason: String,
}

/// Sign-up by an app (with an app token), as the registration mode allows;
/// answers with a token for the new account (usable once approved).
async fn register(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    token: Token,
    Params(p): Params<Registration>,
) -> Result<Json<serde_json::Value>> {
    token.require("write:accounts")?;
    let app = token.app.as_ref().ok_or(Error::Forbidden(
        "This method requires an application token".into(),
    ))?;
    if !p.agreement {
        return Err(Error::Validation(
            "agreement must be accepted to sign up".into(),
        ));
    }
    let created = accounts::sign_up(
        &state,
        accounts::SignUp {
            username: &p.username,
            email: &p.email,
            password: &p.password,
            reason: &p.reason,
            ip: &ip,
            accepted_rules: p.agreement,
        },
    )
    .await?;
    let grant =
        crate::service::oauth::issue_for_user(&state, app, &created.user, &token.scopes).await?;
    Ok(Json(crate::http::oauth::token_json(&grant)))
}

#[derive(Deserialize)]
struct Lookup {
    acct: String,
}

async fn lookup(
    State(state): State<AppState>,
    token: MaybeToken,
    Params(p): Params<Lookup>,
) -> Result<Json<e::Account>> {
    let viewer = token.viewer("read:accounts")?;
    let acct = p.acct.trim().trim_start_matches('@');
    let local_domain = state.urls.domain();
    let actor = match acct.split_once('@') {
        None => db::actors::find_local_person(&state.db, acct).await?,
        Some((user, host)) if host.eq_ignore_ascii_case(&local_domain) => {
            db::actors::find_local_person(&state.db, user).await?
        }
        Some((user, host)) => {
            db::actors::find_remote_by_handle(&state.db, user, &host.to_lowercase()).await?
        }
    }
    .ok_or(Error::NotFound)?;
    Ok(Json(Presenter::new(&state, viewer).account(&actor).await?))
}

#[derive(Deserialize)]
struct RelationshipsQuery {
    #[serde(default, deserialize_with = "lenient::list")]
    id: Vec<String>,
}

async fn relationships(
    State(state): State<AppState>,
    token: Token,
    Params(p): Params<RelationshipsQuery>,
) -> Result<Json<Vec<e::Relationship>>> {
    let (_, actor) = token.user("read:follows")?;
    let ids: Vec<i64> =
        p.id.iter()
            .filter_map(|i| i.parse().ok())
            .take(40)
            .collect();
    Ok(Json(
        Presenter::new(&state, Some(actor))
            .relationships(&ids)
            .await?,
    ))
}

#[derive(Deserialize)]
struct SearchQuery {
    q: String,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    limit: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    offset: Option<i64>,
    #[serde(default, deserialize_with = "lenient::bool")]
    resolve: bool,
    #[serde(default, deserialize_with = "lenient::bool")]
    following: bool,
}

async fn search(
    State(state): State<AppState>,
    token: Token,
    Params(p): Params<SearchQuery>,
) -> Result<Json<Vec<e::Account>>> {
    let (_, viewer) = token.user("read:accounts")?;
    let found = accounts::search(
        &state,
        Some(viewer),
        &p.q,
        p.resolve,
        p.following,
        p.limit.unwrap_or(40).clamp(1, 80),
        p.offset.unwrap_or(0).max(0),
    )
    .await?;
    Ok(Json(
        Presenter::new(&state, Some(viewer))
            .accounts(&found)
            .await?,
    ))
}

#[derive(Deserialize)]
struct StatusesQuery {
    #[serde(flatten)]
    page: PageParams,
    #[serde(default, deserialize_with = "lenient::bool")]
    only_media: bool,
    #[serde(default, deserialize_with = "lenient::bool")]
    exclude_replies: bool,
    #[serde(default, deserialize_with = "lenient::bool")]
    exclude_reblogs: bool,
    #[serde(default, deserialize_with = "lenient::bool")]
    pinned: bool,
    tagged: Option<String>,
}

async fn statuses(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    token: MaybeToken,
    Path(raw): Path<String>,
    Params(p): Params<StatusesQuery>,
) -> Result<Response> {
    let viewer = token.viewer("read:statuses")?;
    let author = account(&state, &raw).await?;
    let presenter = Presenter::new(&state, viewer).in_context(FilterContext::Account);
    if p.pinned {
        // Pins are few and not paged.
        let pinned = crate::service::posts::pinned(&state, &author).await?;
        let shown: std::collections::HashSet<i64> =
            crate::service::posts::visible(&state, &pinned, viewer)
                .await?
                .into_iter()
                .collect();
        let visible: Vec<_> = pinned
            .into_iter()
            .filter(|p| shown.contains(&p.id))
            .collect();
        let statuses = presenter.statuses(&visible).await?;
        return Ok(paged(&state, &uri, statuses, None));
    }
    let filter = timelines::AccountFilter {
        exclude_replies: p.exclude_replies,
        exclude_reblogs: p.exclude_reblogs,
        only_media: p.only_media,
        tagged: p.tagged.map(|t| t.trim_start_matches('#').to_lowercase()),
        ..Default::default()
    };
    let posts = timelines::profile(
        &state,
        viewer,
        &author,
        filter,
        p.page.page(timelines::DEFAULT_LIMIT, timelines::MAX_LIMIT),
    )
    .await?;
    let bounds = bounds(&posts, |p| p.id);
    let statuses = presenter.statuses(&posts).await?;
    Ok(paged(&state, &uri, statuses, bounds))
}

/// The ids that page a list: (first, last).
pub fn bounds<T>(items: &[T], id: impl Fn(&T) -> i64) -> Option<(i64, i64)> {
    Some((id(items.first()?), id(items.last()?)))
}

async fn listing(
    state: &AppState,
    uri: &axum::http::Uri,
    viewer: Option<&Actor>,
    listing: Listing,
    subject: i64,
    page: &PageParams,
) -> Result<Response> {
    let rows = db::views::list_actors(
        &state.db,
        listing,
        subject,
        page.page(40, 80),
        state.clock.now(),
    )
    .await?;
    let bounds = bounds(&rows, |r| r.cursor);
    let actors: Vec<Actor> = rows.into_iter().map(|r| r.actor).collect();
    let accounts = Presenter::new(state, viewer).accounts(&actors).await?;
    Ok(paged(state, uri, accounts, bounds))
}

async fn followers(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    token: MaybeToken,
    Path(raw): Path<String>,
    Params(page): Params<PageParams>,
) -> Result<Response> {
    let viewer = token.viewer("read:accounts")?;
    let actor = account(&state, &raw).await?;
    listing(&state, &uri, viewer, Listing::Followers, actor.id, &page).await
}

async fn following(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    token: MaybeToken,
    Path(raw): Path<String>,
    Params(page): Params<PageParams>,
) -> Result<Response> {
    let viewer = token.viewer("read:accounts")?;
    let actor = account(&state, &raw).await?;
    listing(&state, &uri, viewer, Listing::Following, actor.id, &page).await
}

async fn relationship(
    state: &AppState,
    viewer: &Actor,
    target: &Actor,
) -> Result<Json<e::Relationship>> {
    Ok(Json(
        Presenter::new(state, Some(viewer))
            .relationship(target.id)
            .await?,
    ))
}

/// Mastodon's follow options.
#[derive(Deserialize, Default)]
struct FollowParams {
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    reblogs: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    notify: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_list")]
    languages: Option<Vec<String>>,
}

/// `POST /api/v1/accounts/{id}/follow`: follows (or asks to), or changes
/// the options of a follow that exists.
async fn follow(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
    Params(p): Params<FollowParams>,
) -> Result<Json<e::Relationship>> {
    let (_, viewer) = token.user("write:follows")?;
    let target = account(&state, &raw).await?;
    follows::follow(&state, viewer, &target).await?;
    let change = follows::OptionsChange {
        reblogs: p.reblogs,
        notify: p.notify,
        languages: p.languages.map(|l| Some(l).filter(|l| !l.is_empty())),
    };
    follows::set_options(&state, viewer, &target, &change).await?;
    relationship(&state, viewer, &target).await
}

/// `DELETE /api/v1/profile/avatar` and `/header` (Mastodon 4.2): back to
/// the default picture; the account as it then is.
async fn delete_picture(
    State(state): State<AppState>,
    token: Token,
    Path(picture): Path<String>,
) -> Result<Json<e::CredentialAccount>> {
    let (user, actor) = token.user("write:accounts")?;
    let change = match picture.as_str() {
        "avatar" => profiles::ProfileUpdate {
            remove_avatar: true,
            ..Default::default()
        },
        "header" => profiles::ProfileUpdate {
            remove_header: true,
            ..Default::default()
        },
        _ => return Err(Error::NotFound),
    };
    let updated = profiles::update(&state, actor, change).await?;
    let presenter = Presenter::new(&state, Some(&updated));
    Ok(Json(presenter.credential_account(user, &updated).await?))
}

#[derive(Deserialize)]
struct AliasParams {
    /// Accounts that may move here (`user@host` or their URLs); empty
    /// clears them.
    #[serde(default)]
    also_known_as_uris: Vec<String>,
}

/// `POST /api/v1/accounts/alias`: GoToSocial's (Mastodon's is web only):
/// the old accounts that may move to this one, as the web's account
/// aliases; the updated account.
async fn set_aliases(
    State(state): State<AppState>,
    token: Token,
    Params(p): Params<AliasParams>,
) -> Result<Json<e::CredentialAccount>> {
    let (user, actor) = token.user("write:accounts")?;
    let updated = moves::set_aliases(&state, actor, &p.also_known_as_uris).await?;
    let presenter = Presenter::new(&state, Some(&updated));
    Ok(Json(presenter.credential_account(user, &updated).await?))
}

#[derive(Deserialize)]
struct MoveParams {
    #[serde(default)]
    password: String,
    #[serde(default)]
    moved_to_uri: String,
}

/// `POST /api/v1/accounts/move`: GoToSocial's: moves this account's
/// followers to `moved_to_uri` (which must list this account among its
/// aliases), confirmed by the password; 202 once the Move is queued.
async fn move_account(
    State(state): State<AppState>,
    token: Token,
    Params(p): Params<MoveParams>,
) -> Result<(axum::http::StatusCode, Json<serde_json::Value>)> {
    let (user, actor) = token.user("write:accounts")?;
    moves::move_to(&state, user, actor, &p.moved_to_uri, &p.password).await?;
    Ok((
        axum::http::StatusCode::ACCEPTED,
        Json(serde_json::json!({ "message": "accepted" })),
    ))
}

#[derive(Deserialize)]
struct DeleteAccount {
    #[serde(default)]
    password: String,
}

/// `POST /api/v1/accounts/delete`: GoToSocial's (Mastodon has no API for
/// it), with the account's password; 202 once the account is gone and its
/// Delete queued.
async fn delete_account(
    State(state): State<AppState>,
    token: Token,
    Params(p): Params<DeleteAccount>,
) -> Result<(axum::http::StatusCode, Json<serde_json::Value>)> {
    let (user, actor) = token.user("write:accounts")?;
    deletion::delete_account(&state, user, actor, &p.password).await?;
    Ok((
        axum::http::StatusCode::ACCEPTED,
        Json(serde_json::json!({ "message": "accepted" })),
    ))
}

async fn unfollow(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<e::Relationship>> {
    let (_, viewer) = token.user("write:follows")?;
    let target = account(&state, &raw).await?;
    follows::unfollow(&state, viewer, &target).await?;
    relationship(&state, viewer, &target).await
}

async fn remove_from_followers(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<e::Relationship>> {
    let (_, viewer) = token.user("write:follows")?;
    let target = account(&state, &raw).await?;
    match follows::reject(&state, viewer, &target).await {
        Ok(()) | Err(Error::NotFound) => {}
        Err(other) => return Err(other),
    }
    relationship(&state, viewer, &target).await
}

async fn block(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<e::Relationship>> {
    let (_, viewer) = token.user("write:blocks")?;
    let target = account(&state, &raw).await?;
    blocks::block(&state, viewer, &target).await?;
    relationship(&state, viewer, &target).await
}

async fn unblock(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<e::Relationship>> {
    let (_, viewer) = token.user("write:blocks")?;
    let target = account(&state, &raw).await?;
    blocks::unblock(&state, viewer, &target).await?;
    relationship(&state, viewer, &target).await
}

#[derive(Deserialize)]
struct MuteParams {
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    notifications: Option<bool>,
    /// Seconds; 0 or none: for good.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    duration: Option<i64>,
}

async fn mute(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
    Params(p): Params<MuteParams>,
) -> Result<Json<e::Relationship>> {
    let (_, viewer) = token.user("write:mutes")?;
    let target = account(&state, &raw).await?;
    mutes::mute(
        &state,
        viewer,
        &target,
        p.notifications.unwrap_or(true),
        p.duration.map(chrono::Duration::seconds),
    )
    .await?;
    relationship(&state, viewer, &target).await
}

async fn unmute(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<e::Relationship>> {
    let (_, viewer) = token.user("write:mutes")?;
    let target = account(&state, &raw).await?;
    mutes::unmute(&state, viewer, &target).await?;
    relationship(&state, viewer, &target).await
}

async fn follow_requests(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    token: Token,
    Params(page): Params<PageParams>,
) -> Result<Response> {
    let (_, viewer) = token.user("read:follows")?;
    listing(
        &state,
        &uri,
        Some(viewer),
        Listing::FollowRequests,
        viewer.id,
        &page,
    )
    .await
}

async fn authorize_follow(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<e::Relationship>> {
    let (_, viewer) = token.user("write:follows")?;
    let requester = account(&state, &raw).await?;
    follows::approve(&state, viewer, &requester).await?;
    relationship(&state, viewer, &requester).await
}

async fn reject_follow(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<e::Relationship>> {
    let (_, viewer) = token.user("write:follows")?;
    let requester = account(&state, &raw).await?;
    follows::reject(&state, viewer, &requester).await?;
    relationship(&state, viewer, &requester).await
}

async fn blocked(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    token: Token,
    Params(page): Params<PageParams>,
) -> Result<Response> {
    let (_, viewer) = token.user("read:blocks")?;
    listing(
        &state,
        &uri,
        Some(viewer),
        Listing::Blocks,
        viewer.id,
        &page,
    )
    .await
}

async fn muted(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    token: Token,
    Params(page): Params<PageParams>,
) -> Result<Response> {
    let (_, viewer) = token.user("read:mutes")?;
    listing(&state, &uri, Some(viewer), Listing::Mutes, viewer.id, &page).await
}

/// Resolving a remote account for search, mapping fetch failures to "not
/// found" as Mastodon does.
pub async fn resolve_account(state: &AppState, query: &str) -> Option<Actor> {
    remote_actors::resolve(state, query).await.ok()
}
