//! Profiles: `/@{username}` for local accounts (also served at the actor
//! URL to browsers) and `/@{user}@{host}` for remote ones, looked up over
//! federation for signed-in visitors. Tabs for posts, replies and reposts,
//! follower and following counts linking to the lists of followers and
//! followed accounts, profile fields, the follow button, and a menu to
//! block or mute the account or block its server.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;

use super::cards::{self, AccountView, PostCard};
use super::search::{AccountRow, account_rows};
use super::{Chrome, SignedIn, Web, WebError, WebResult, local_path, render, see_other};
use crate::domain::filters::Context as FilterContext;
use crate::error::Error;
use crate::federation::rel_me;
use crate::http::negotiate::{Representation, negotiate};
use crate::http::vary_accept;
use crate::mastodon::Presenter;
use crate::service::types::{Actor, Listing, ProfileField};
use crate::service::{accounts, blocks, domain_blocks, follows, mutes, profiles, timelines};
use crate::state::AppState;

/// A profile field as shown: a link shows its full host (so that a link
/// cannot pass for another site), marked when rel=me verified it.
#[derive(Debug, Clone)]
pub struct FieldView {
    pub name: String,
    /// Sanitised HTML, shown when the field is not a link.
    pub value: String,
    /// (href, host, rest of the address) of a link.
    pub link: Option<(String, String, String)>,
    pub verified: bool,
}

/// The longest part of a link's path shown after its host.
const MAX_LINK_PATH: usize = 30;

/// Reads a field; a link verified by rel=me is marked.
pub fn field_view(field: &ProfileField) -> FieldView {
    // Only a field that is a link and nothing else is shown as one.
    let link = rel_me::field_link(&field.value).and_then(|url| {
        let host = match url.port() {
            Some(port) => format!("{}:{port}", url.host_str()?),
            None => url.host_str()?.to_string(),
        };
        let mut rest = url.path().trim_end_matches('/').to_string();
        if let Some(q) = url.query() {
            rest.push('?');
            rest.push_str(q);
        }
        if rest.chars().count() > MAX_LINK_PATH {
            rest = rest.chars().take(MAX_LINK_PATH).collect::<String>() + "…";
        }
        Some((url.to_string(), host, rest))
    });
    FieldView {
        name: field.name.clone(),
        value: field.value.clone(),
        link,
        verified: field.verified_at.is_some(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tab {
    Posts,
    Replies,
    Reposts,
}

/// The follow button's state.
pub struct FollowButton {
    pub action: &'static str,
    pub label: &'static str,
}

/// The button for following `account` as `relationship` stands.
pub fn follow_button(
    relationship: &crate::mastodon::entities::Relationship,
    locked: bool,
) -> FollowButton {
    match (relationship.following, relationship.requested) {
        (true, _) => FollowButton {
            action: "unfollow",
            label: "Unfollow",
        },
        (false, true) => FollowButton {
            action: "unfollow",
            label: "Cancel follow request",
        },
        (false, false) if locked => FollowButton {
            action: "follow",
            label: "Request to follow",
        },
        _ => FollowButton {
            action: "follow",
            label: "Follow",
        },
    }
}

#[derive(Template)]
#[template(path = "web/profile.html")]
struct ProfilePage {
    chrome: Chrome,
    account: AccountView,
    actor_id: String,
    fields: Vec<FieldView>,
    is_me: bool,
    follow: Option<FollowButton>,
    follows_you: bool,
    /// The account this one moved to, when known.
    moved: Option<AccountView>,
    /// "posts", "replies" or "reposts".
    tab: &'static str,
    posts: Vec<PostCard>,
    older: Option<i64>,
    og_url: String,
    noindex: bool,
    /// What the viewer has done about this account (block, mute, its domain).
    controls: Option<Controls>,
    /// The bio as plain text, for link previews.
    description: String,
    mute_durations: &'static [(i64, &'static str)],
}

/// A signed-in viewer's block, mute and domain block of an account, as the
/// profile's menu offers to change them.
pub struct Controls {
    pub blocking: bool,
    pub muting: bool,
    /// The account's server, for a remote account.
    pub domain: Option<String>,
    pub domain_blocking: bool,
}

/// How long a mute lasts, as Mastodon's web offers it (seconds; 0 is for
/// good).
pub const MUTE_DURATIONS: [(i64, &str); 8] = [
    (0, "Indefinitely"),
    (300, "5 minutes"),
    (1800, "30 minutes"),
    (3600, "1 hour"),
    (21600, "6 hours"),
    (86400, "1 day"),
    (259200, "3 days"),
    (604800, "7 days"),
];

#[derive(Deserialize, Default)]
pub struct ProfileQuery {
    #[serde(default)]
    tab: String,
    #[serde(default)]
    max_id: Option<String>,
}

/// `GET /@{username}` and `GET /@{user}@{host}`; ActivityPub clients are
/// sent to the actor's id.
pub async fn profile(
    State(state): State<AppState>,
    web: Web,
    Path(at_acct): Path<String>,
    Query(q): Query<ProfileQuery>,
    headers: HeaderMap,
) -> WebResult {
    let Some(acct) = at_acct.strip_prefix('@') else {
        // Not a profile's address: answered as any unknown path is.
        return Ok(Error::NotFound.into_response());
    };
    match negotiate(&headers) {
        Representation::ActivityJson => {
            let actor = if acct.contains('@') {
                profiles::by_acct(&state, acct, false).await?
            } else {
                profiles::shared_person(&state.db, acct).await?
            };
            Ok(vary_accept(Redirect::to(&actor.ap_id).into_response()))
        }
        Representation::Html => {
            let resolve = web.session.is_some();
            let actor = profiles::for_page(&state, web.viewer(), acct, resolve).await?;
            profile_page(&state, web, &actor, q).await
        }
    }
}

/// The HTML profile of an account, also served at a local actor's URL.
pub async fn profile_page(state: &AppState, web: Web, actor: &Actor, q: ProfileQuery) -> WebResult {
    let viewer = web.viewer();
    let tab = match q.tab.as_str() {
        "replies" => Tab::Replies,
        "reposts" => Tab::Reposts,
        _ => Tab::Posts,
    };
    let max_id = match q.max_id.as_deref() {
        None | Some("") => None,
        Some(raw) => Some(
            raw.parse::<i64>()
                .map_err(|_| Error::BadRequest("max_id must be an integer".into()))?,
        ),
    };
    let page = timelines::page(max_id, None, None, None);
    let filter = match tab {
        Tab::Posts => timelines::ProfileTab::Posts,
        Tab::Replies => timelines::ProfileTab::Replies,
        Tab::Reposts => timelines::ProfileTab::Reposts,
    };
    let presenter = Presenter::new(state, viewer);
    let is_me = viewer.is_some_and(|v| v.id == actor.id);
    // The page's parts depend on the account alone: read side by side.
    let (found, entity, relationship, indexing) = tokio::try_join!(
        timelines::profile(state, viewer, actor, filter, page),
        presenter.account(actor),
        async {
            match viewer {
                Some(_) if !is_me => Ok(Some(presenter.relationship(actor.id).await?)),
                _ => Ok::<_, Error>(None),
            }
        },
        crate::service::accounts::search_engine_indexing(state, actor),
    )?;
    let older = super::older(&found, page.limit, |p| p.id);
    let posts = cards::posts(state, viewer, &found, Some(FilterContext::Account)).await?;
    let cards = cards::Cards::new(state);
    let moved = entity.moved.as_deref().map(|m| cards.account(m));
    let account = cards.account(&entity);
    let (follow, follows_you, controls) = match relationship {
        Some(relationship) => {
            let controls = Controls {
                blocking: relationship.blocking,
                muting: relationship.muting,
                domain: actor.domain.clone(),
                domain_blocking: relationship.domain_blocking,
            };
            // A blocked account cannot be followed: its button is Unblock.
            let follow = (!relationship.blocking)
                .then(|| follow_button(&relationship, actor.manually_approves_followers));
            (follow, relationship.followed_by, Some(controls))
        }
        None => (None, false, None),
    };
    let og_url = match &account.remote_url {
        Some(remote) => remote.clone(),
        None => format!("{}{}", state.urls.origin(), account.href),
    };
    let page = ProfilePage {
        chrome: web.chrome,
        actor_id: actor.ap_id.clone(),
        fields: actor.fields.0.iter().map(field_view).collect(),
        is_me,
        follow,
        follows_you,
        moved,
        tab: match tab {
            Tab::Posts => "posts",
            Tab::Replies => "replies",
            Tab::Reposts => "reposts",
        },
        posts,
        older,
        og_url,
        noindex: !indexing,
        controls,
        description: cards::excerpt(&cards::text_of(&account.note)),
        mute_durations: &MUTE_DURATIONS,
        account,
    };
    Ok(vary_accept(render(&page)?))
}

/// Who an account's followers or followed accounts are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relations {
    Followers,
    Following,
}

#[derive(Template)]
#[template(path = "web/relations.html")]
struct RelationsPage {
    chrome: Chrome,
    account: AccountView,
    /// "followers" or "following".
    which: &'static str,
    accounts: Vec<AccountRow>,
    older: Option<i64>,
    /// A remote account: only the relations this server knows are listed.
    remote: bool,
}

/// Accounts listed on a page of followers or following.
const RELATIONS_PAGE: i64 = 40;

/// `GET /@{acct}/followers` and `/@{acct}/following`: accepted relations,
/// newest first, 40 a page. For a remote account, the ones this server
/// knows of.
pub async fn relations_page(
    state: &AppState,
    web: Web,
    acct: &str,
    which: Relations,
    max_id: Option<&str>,
) -> WebResult {
    let actor = profiles::by_acct(state, acct, false).await?;
    let max_id = match max_id {
        None | Some("") => None,
        Some(raw) => Some(
            raw.parse::<i64>()
                .map_err(|_| Error::BadRequest("max_id must be an integer".into()))?,
        ),
    };
    let listing = match which {
        Relations::Followers => Listing::Followers,
        Relations::Following => Listing::Following,
    };
    let page = timelines::page(max_id, None, None, Some(RELATIONS_PAGE));
    let rows = accounts::listing(state, listing, actor.id, page).await?;
    let older = super::older(&rows, page.limit, |r| r.cursor);
    let actors: Vec<Actor> = rows.into_iter().map(|r| r.actor).collect();
    let viewer = web.viewer();
    let accounts = account_rows(state, viewer, &actors).await?;
    let presenter = Presenter::new(state, viewer);
    let account = cards::Cards::new(state).account(&presenter.account(&actor).await?);
    render(&RelationsPage {
        chrome: web.chrome,
        remote: !actor.is_local(),
        which: match which {
            Relations::Followers => "followers",
            Relations::Following => "following",
        },
        account,
        accounts,
        older,
    })
}

#[derive(Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    back: String,
    /// Mutes: whether the account's notifications are hidden too (a
    /// checkbox, sent only when ticked).
    #[serde(default)]
    notifications: Option<String>,
    /// Mutes: seconds, 0 (or none) for good.
    #[serde(default)]
    duration: Option<i64>,
}

/// `POST /web/accounts/{id}/{action}`: follow, unfollow, block, unblock,
/// mute, unmute, block_domain or unblock_domain (the account's server, for
/// the signed-in person alone); then back to the page the button was on.
pub async fn act(
    State(state): State<AppState>,
    me: SignedIn,
    Path((raw, action)): Path<(String, String)>,
    axum::Form(form): axum::Form<ActionForm>,
) -> WebResult {
    me.check(&form.csrf_token)?;
    let target = profiles::by_id(&state.db, super::id(&raw)?).await?;
    let domain = || {
        target
            .domain
            .clone()
            .ok_or_else(|| Error::Validation("a local account has no server to block".into()))
    };
    match action.as_str() {
        "follow" => {
            follows::follow(&state, me.actor(), &target).await?;
        }
        "unfollow" => follows::unfollow(&state, me.actor(), &target).await?,
        "block" => blocks::block(&state, me.actor(), &target).await?,
        "unblock" => blocks::unblock(&state, me.actor(), &target).await?,
        "mute" => {
            let seconds = form.duration.unwrap_or(0);
            if !MUTE_DURATIONS.iter().any(|(s, _)| *s == seconds) {
                return Err(Error::Validation("that is not a mute duration offered".into()).into());
            }
            let duration = (seconds > 0).then(|| chrono::Duration::seconds(seconds));
            mutes::mute(
                &state,
                me.actor(),
                &target,
                form.notifications.is_some(),
                duration,
            )
            .await?
        }
        "unmute" => mutes::unmute(&state, me.actor(), &target).await?,
        "block_domain" => domain_blocks::block(&state, me.actor(), &domain()?).await?,
        "unblock_domain" => domain_blocks::unblock(&state, me.actor(), &domain()?).await?,
        _ => return Err(WebError(Error::NotFound)),
    }
    let page = match &target.domain {
        None => format!("/@{}", target.username),
        Some(host) => format!("/@{}@{host}", target.username),
    };
    Ok(see_other(local_path(&form.back, &page)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(value: &str) -> FieldView {
        field_view(&ProfileField {
            name: "Site".into(),
            value: value.into(),
            verified_at: None,
        })
    }

    #[test]
    fn a_link_field_shows_its_whole_host() {
        let remote = field(
            r#"<a href="https://very-long-subdomain.example.com/some/long/path/that/goes/on/and/on" rel="me nofollow noopener noreferrer"><span class="invisible">https://</span><span class="ellipsis">very-long-subdomain.example.c</span><span class="invisible">om/some/long/path/that/goes/on/and/on</span></a>"#,
        );
        let (href, host, rest) = remote.link.unwrap();
        assert_eq!(host, "very-long-subdomain.example.com");
        assert!(href.starts_with("https://very-long-subdomain.example.com/some/"));
        assert!(rest.ends_with('…'), "{rest}");
        assert!(!remote.verified);
        // Local fields are escaped plain text.
        let local = field("https://alice.example/about?a=1&amp;b=2");
        let (_, host, rest) = local.link.unwrap();
        assert_eq!(host, "alice.example");
        assert_eq!(rest, "/about?a=1&b=2");
        assert!(field("just words").link.is_none());
        // A link whose text is not its target is shown as written, never
        // by the host it hides.
        assert!(
            field(r#"<a href="https://evil.example/">https://alice.example/</a>"#)
                .link
                .is_none()
        );
        assert!(field("javascript:alert(1)").link.is_none());
    }
}
