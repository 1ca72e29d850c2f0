//! Link previews (Mastodon's preview cards), as Mastodon 4.5 makes them.
//!
//! - Which posts: public and unlisted ones, local or remote, not reposts.
//!   A post is queued (`preview_card_fetches`) in the transaction that
//!   stores it (`service::posts::store`) when its HTML has a candidate
//!   link, and again when it is edited (`posts::edit`, the inbox's Update).
//! - Which link: the first http(s) link that is not a mention, a hashtag,
//!   the quote's link or a page of this instance
//!   (`domain::link_details::first_link`), and not on an excluded domain.
//! - The work: `run_due`, run every few seconds by `jobs::cards` in worker
//!   processes (and by tests), claims due posts with `for update skip
//!   locked` and a lease. One card is kept per URL and shared by every post
//!   linking to it; a card older than two weeks is fetched again (the old
//!   one stays when the refresh finds nothing). The page comes through
//!   `net` (address rules on every hop, `link_previews.timeout_seconds`,
//!   the first 1 MiB read), its oEmbed endpoint first, then its OpenGraph,
//!   Twitter and JSON-LD data. The picture is fetched through `net`
//!   (`link_previews.max_image_bytes`), re-encoded by `imaging` (at most
//!   640x360 worth, with a blurhash) and stored in the media store; it is
//!   served by `/media/NAME` like uploads.
//! - A card that arrives is announced as a change of its post, so streams
//!   send `status.update`.
//! - The author may remove a post's preview (the web post menu, or the
//!   edit form): the removal is kept for that link, edits included, and
//!   lifted by asking for the preview back. Mastodon 4.5 has no API for it.
//! - Admins exclude domains (and their subdomains): their pages get no
//!   card, and the cards already shown for them are taken off.

use std::time::Duration as StdDuration;

use bytes::Bytes;
use chrono::Duration;
use futures::StreamExt;
use reqwest::header::{ACCEPT, ACCEPT_LANGUAGE, HeaderMap, HeaderValue};
use sqlx::PgConnection;
use url::Url;

use crate::db::{self, actors::Actor, posts::Post};
use crate::domain::domain_name;
use crate::domain::link_details::{self, CardKind, LinkRules, OEmbed, PageDetails};
use crate::domain::media as media_rules;
use crate::domain::visibility::Visibility;
use crate::error::{Error, Result};
use crate::imaging;
use crate::net::BodyCap;
use crate::service::audit::{self, Staff};
use crate::singleflight::SingleFlight;
use crate::state::AppState;

/// A card older than this is fetched again (Mastodon: two weeks).
pub const STALE: Duration = Duration::weeks(2);
/// How long a claimed post is left to its worker before another may take it.
const LEASE: Duration = Duration::minutes(5);
/// Posts claimed at once by one worker.
const BATCH: i64 = 16;
/// Pages fetched at once by one worker.
const CONCURRENCY: usize = 8;
/// The most of a page that is read (Mastodon: 1 MiB, the rest cut off).
pub const MAX_HTML_BYTES: usize = 1024 * 1024;
/// The largest oEmbed answer read.
const MAX_OEMBED_BYTES: usize = 256 * 1024;
/// A claim that failed this many times is dropped.
const MAX_ATTEMPTS: i32 = 3;

/// Whether a post may have a card: public or unlisted, not a repost, not
/// deleted.
pub fn eligible(post: &Post) -> bool {
    post.reblog_of_id.is_none()
        && post.deleted_at.is_none()
        && matches!(post.visibility, Visibility::Public | Visibility::Unlisted)
}

fn mention_urls(mentioned: &[Actor]) -> Vec<String> {
    mentioned
        .iter()
        .flat_map(|a| [Some(a.ap_id.clone()), a.url.clone()])
        .flatten()
        .collect()
}

/// Queues a post just stored for its preview, in the storing transaction,
/// when it may have one and its HTML has a candidate link.
pub async fn queue_new(
    tx: &mut PgConnection,
    state: &AppState,
    post: &Post,
    mentioned: &[Actor],
) -> Result<()> {
    if !state.config.link_previews.enabled || !eligible(post) {
        return Ok(());
    }
    let mentions = mention_urls(mentioned);
    let local = state.urls.domain();
    let rules = LinkRules {
        local_authority: &local,
        mention_urls: &mentions,
        quote_urls: &[],
    };
    if link_details::first_link(&post.content, &rules).is_some() {
        db::cards::queue(&mut *tx, post.id, state.clock.now()).await?;
    }
    Ok(())
}

/// Queues an edited post, in the editing transaction: its first link may
/// have changed (the worker keeps the card when it did not).
pub async fn queue_edited(tx: &mut PgConnection, state: &AppState, post: &Post) -> Result<()> {
    if !eligible(post) {
        return Ok(());
    }
    if state.config.link_previews.enabled {
        db::cards::queue(&mut *tx, post.id, state.clock.now()).await?;
    }
    Ok(())
}

/// Fetches in flight in one worker, by URL: posts of one batch linking the
/// same page share one fetch (another process may fetch it too; the card
/// is stored once by its URL all the same).
type Fetches = SingleFlight<String, std::result::Result<Option<db::cards::Card>, String>>;

/// Makes the cards of the posts due, batch after batch, until none is due.
/// Returns how many posts were handled.
pub async fn run_due(state: &AppState) -> anyhow::Result<usize> {
    let fetches = Fetches::default();
    let fetches = &fetches;
    let mut handled = 0;
    loop {
        let now = state.clock.now();
        let claimed = db::cards::claim_due(&state.db, now, now + LEASE, BATCH).await?;
        if claimed.is_empty() {
            return Ok(handled);
        }
        handled += claimed.len();
        let results: Vec<(db::cards::Claimed, Result<()>)> = futures::stream::iter(claimed)
            .map(|claim| async move { (claim, for_post(state, fetches, claim.0).await) })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        for ((post_id, attempts, queued_at), result) in results {
            match result {
                Ok(()) => db::cards::done(&state.db, post_id, queued_at).await?,
                Err(e) if attempts >= MAX_ATTEMPTS => {
                    tracing::warn!(post = post_id, error = %e, "gave up on a link preview");
                    db::cards::done(&state.db, post_id, queued_at).await?;
                }
                // Tried again when the lease ends.
                Err(e) => tracing::info!(post = post_id, error = %e, "a link preview failed"),
            }
        }
    }
}

/// The link of a post that gets a preview now, if any.
async fn link_of(state: &AppState, post: &Post) -> Result<Option<Url>> {
    let mentioned = db::posts::mentions(&state.db, post.id).await?;
    let mentions = mention_urls(&mentioned);
    let mut quotes: Vec<String> = post.quote_ap_id.iter().cloned().collect();
    if let Some(id) = post.quote_of_id
        && let Some(quoted) = db::posts::find_by_id(&state.db, id).await?
    {
        quotes.push(quoted.ap_id.clone());
        quotes.extend(quoted.url.clone());
    }
    let local = state.urls.domain();
    Ok(link_details::first_link(
        &post.content,
        &LinkRules {
            local_authority: &local,
            mention_urls: &mentions,
            quote_urls: &quotes,
        },
    ))
}

/// Whether `url`'s host is `domain` or under it, for one of `domains`.
fn excluded_in(domains: &[String], url: &Url) -> bool {
    let host = domain_name::authority(url);
    crate::domain::domain_policy::covering_domains(&host)
        .any(|d| domains.iter().any(|x| x.as_str() == d))
}

/// Decides and stores the card of one post.
async fn for_post(state: &AppState, fetches: &Fetches, post_id: i64) -> Result<()> {
    let Some(post) = db::posts::find_by_id(&state.db, post_id).await? else {
        return Ok(());
    };
    if !eligible(&post) || !state.config.link_previews.enabled {
        return Ok(());
    }
    let link = link_of(state, &post).await?;
    let removed = db::cards::removed_url(&state.db, post.id).await?;
    let excluded = db::cards::excluded_domains(&state.db).await?;
    let link =
        link.filter(|l| removed.as_deref() != Some(l.as_str()) && !excluded_in(&excluded, l));
    let Some(link) = link else {
        let mut connection = state.db.acquire().await?;
        db::cards::detach(&mut connection, post.id).await?;
        return Ok(());
    };
    let card = fetches
        .run(link.to_string(), || async {
            card_for(state, &link, &excluded)
                .await
                .map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| Error::Internal(anyhow::anyhow!(e)))?;
    let mut tx = state.db.begin().await?;
    // The post may have changed meanwhile (its next fetch is queued): it
    // is only given the card of the link it still has.
    let unchanged = db::posts::find_by_id(&mut *tx, post.id)
        .await?
        .is_some_and(|p| p.content == post.content && eligible(&p));
    match card {
        Some(card) if unchanged => {
            let shown = db::cards::for_posts(&mut *tx, &[post.id]).await?;
            let same = shown
                .first()
                .is_some_and(|(_, c)| c.id == card.id && c.url == link.as_str());
            let same = same
                && db::cards::card_url_of(&mut *tx, post.id).await?.as_deref()
                    == Some(link.as_str());
            if !same {
                db::cards::attach(&mut tx, post.id, card.id, link.as_str()).await?;
            }
        }
        Some(_) => {}
        None => {
            db::cards::detach(&mut tx, post.id).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// The card of a link: the stored one while it is fresh, else fetched
/// again (the stale one stays when the page gives nothing now).
async fn card_for(
    state: &AppState,
    link: &Url,
    excluded: &[String],
) -> Result<Option<db::cards::Card>> {
    let now = state.clock.now();
    let known = db::cards::find_by_url(&state.db, link.as_str()).await?;
    Ok(match known {
        Some(card) if card.fetched_at > now - STALE => Some(card),
        known => match fetch(state, link, excluded).await {
            Some(new) => Some(store(state, &new).await?),
            None => match known {
                Some(old) => {
                    db::cards::touch(&state.db, old.id, now).await?;
                    Some(old)
                }
                None => None,
            },
        },
    })
}

/// Stores a fetched card; the picture it replaced is removed after the
/// commit.
async fn store(state: &AppState, new: &db::cards::NewCard) -> Result<db::cards::Card> {
    let mut tx = state.db.begin().await?;
    let stored = db::cards::upsert(&mut tx, new, state.clock.now()).await;
    let (card, replaced) = match stored {
        Ok(done) => done,
        Err(e) => {
            drop(tx);
            if let Some(file) = &new.image_file {
                crate::service::media::remove_files(state, std::slice::from_ref(file)).await;
            }
            return Err(e.into());
        }
    };
    tx.commit().await?;
    if let Some(old) = replaced {
        crate::service::media::remove_files(state, &[old]).await;
    }
    Ok(card)
}

fn timeout(state: &AppState) -> StdDuration {
    StdDuration::from_secs(state.config.link_previews.timeout_seconds)
}

/// Fetches a page and makes its card; None when it has none (not HTML,
/// not 200, nothing to show, a network failure, an excluded domain at the
/// end of its redirects).
async fn fetch(state: &AppState, link: &Url, excluded: &[String]) -> Option<db::cards::NewCard> {
    let mut headers = HeaderMap::new();
    headers.insert(
        ACCEPT,
        HeaderValue::from_static("text/html, application/xhtml+xml;q=0.9"),
    );
    headers.insert(ACCEPT_LANGUAGE, HeaderValue::from_static("en, *;q=0.5"));
    let page = match state
        .http
        .get_capped(
            link,
            headers,
            BodyCap::Truncate(MAX_HTML_BYTES),
            timeout(state),
        )
        .await
    {
        Ok(page) => page,
        Err(e) => {
            tracing::info!(url = %link, error = %e, "a linked page could not be fetched");
            return None;
        }
    };
    let content_type = page
        .headers
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    if page.status != reqwest::StatusCode::OK
        || !link_details::is_html(content_type)
        || excluded_in(excluded, &page.url)
    {
        return None;
    }
    let html = link_details::decode(&page.body, content_type);
    let details = link_details::extract(&page.url, &html);
    let embed = match &details.oembed {
        Some(endpoint) if !excluded_in(excluded, endpoint) => oembed(state, endpoint).await,
        _ => None,
    };
    let mut card = match embed {
        Some(embed) => from_oembed(link, embed, &details),
        None if details.is_usable() => from_page(link, &details),
        None => return None,
    };
    if let Some(image) = card_image(state, &card) {
        match picture(state, &image).await {
            Some(stored) => {
                card.image_file = Some(stored.name);
                card.image_content_type = Some(stored.content_type);
                card.image_width = Some(stored.width);
                card.image_height = Some(stored.height);
                card.blurhash = Some(stored.blurhash);
                if card.kind == CardKind::Link.as_str() {
                    // Mastodon gives a link card its picture's size.
                    card.width = stored.width;
                    card.height = stored.height;
                }
            }
            None => card.image_description.clear(),
        }
    } else {
        card.image_description.clear();
    }
    Some(card)
}

/// Where a card's picture is fetched from (kept aside in `embed_url` for
/// photos, in `image_remote` otherwise).
fn card_image(state: &AppState, card: &db::cards::NewCard) -> Option<Url> {
    let url = Url::parse(card.image_remote.as_deref()?).ok()?;
    (!crate::service::domain_policy::rejects_media_of(state, &domain_name::authority(&url)))
        .then_some(url)
}

async fn oembed(state: &AppState, endpoint: &Url) -> Option<OEmbed> {
    let mut headers = HeaderMap::new();
    headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
    let answer = state
        .http
        .get_capped(
            endpoint,
            headers,
            BodyCap::Refuse(MAX_OEMBED_BYTES),
            timeout(state),
        )
        .await
        .map_err(|e| tracing::info!(url = %endpoint, error = %e, "an oEmbed endpoint failed"))
        .ok()?;
    if answer.status != reqwest::StatusCode::OK {
        return None;
    }
    link_details::oembed(&answer.url, &answer.body)
}

fn from_page(link: &Url, d: &PageDetails) -> db::cards::NewCard {
    db::cards::NewCard {
        url: link.to_string(),
        title: d.title.clone(),
        description: d.description.clone(),
        kind: if d.video {
            CardKind::Video.as_str()
        } else {
            CardKind::Link.as_str()
        },
        author_name: d.author_name.clone(),
        author_url: d.author_url.clone(),
        provider_name: d.provider_name.clone(),
        provider_url: d.provider_url.clone(),
        width: d.width,
        height: d.height,
        image_remote: d.image.as_ref().map(Url::to_string),
        image_description: d.image_description.clone(),
        embed_url: d.embed_url.clone(),
        language: d.language.clone(),
        published_at: d.published_at,
        ..Default::default()
    }
}

/// A card from an oEmbed answer; what oEmbed lacks (a description, the
/// language) comes from the page.
fn from_oembed(link: &Url, e: OEmbed, d: &PageDetails) -> db::cards::NewCard {
    db::cards::NewCard {
        url: link.to_string(),
        title: if e.title.is_empty() {
            d.title.clone()
        } else {
            e.title
        },
        description: d.description.clone(),
        kind: e.kind.as_str(),
        author_name: e.author_name,
        author_url: e.author_url,
        provider_name: e.provider_name,
        provider_url: e.provider_url,
        width: e.width,
        height: e.height,
        image_remote: e.image.as_ref().map(Url::to_string),
        image_description: d.image_description.clone(),
        embed_url: e.embed_url,
        language: d.language.clone(),
        published_at: d.published_at,
        ..Default::default()
    }
}

/// A card's picture as stored.
struct StoredPicture {
    name: String,
    content_type: &'static str,
    width: i32,
    height: i32,
    blurhash: String,
}

/// Fetches a picture, re-encodes it (at most 640x360 worth, no metadata)
/// and stores it; None when any of it fails.
async fn picture(state: &AppState, url: &Url) -> Option<StoredPicture> {
    let mut headers = HeaderMap::new();
    headers.insert(ACCEPT, HeaderValue::from_static("image/*"));
    let fetched = state
        .http
        .get_capped(
            url,
            headers,
            BodyCap::Refuse(state.config.link_previews.max_image_bytes),
            timeout(state),
        )
        .await
        .map_err(
            |e| tracing::info!(url = %url, error = %e, "a preview picture could not be fetched"),
        )
        .ok()?;
    if fetched.status != reqwest::StatusCode::OK
        || imaging::InputType::detect(&fetched.body).is_none()
    {
        return None;
    }
    let permit = state.image_work.clone().acquire_owned().await.ok()?;
    let body = fetched.body;
    let processed = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        imaging::process(&body)
    })
    .await
    .ok()?
    .map_err(|e| tracing::info!(url = %url, error = %e, "a preview picture could not be read"))
    .ok()?;
    // The preview size ("small") is what a card shows.
    let small = processed.small;
    let name = media_rules::new_file_name(small.kind.extension());
    let content_type = small.kind.content_type();
    state
        .media
        .put(&name, Bytes::from(small.bytes), content_type)
        .await
        .map_err(|e| tracing::warn!(error = %e, "a preview picture could not be stored"))
        .ok()?;
    Some(StoredPicture {
        name,
        content_type,
        width: i32::try_from(small.width).unwrap_or(i32::MAX),
        height: i32::try_from(small.height).unwrap_or(i32::MAX),
        blurhash: processed.blurhash,
    })
}

/// The link whose preview `post` shows, for its author's menu.
pub async fn shown_link(state: &AppState, post_id: i64) -> Result<Option<String>> {
    Ok(db::cards::card_url_of(&state.db, post_id).await?)
}

/// The author removes a post's preview: it goes now and does not come
/// back for that link, edits included.
pub async fn remove(state: &AppState, author: &Actor, post: &Post) -> Result<()> {
    if post.author_id != author.id || !author.is_local() {
        return Err(Error::Forbidden(
            "only the author may remove a post's preview".into(),
        ));
    }
    let mut tx = state.db.begin().await?;
    // The link the post has now (an edit may have changed it since its
    // card was made), else the one its card is for.
    let url = match link_of(state, post).await? {
        Some(url) => Some(String::from(url)),
        None => db::cards::card_url_of(&mut *tx, post.id).await?,
    };
    if let Some(url) = url {
        db::cards::remove_for(&mut *tx, post.id, &url, state.clock.now()).await?;
    }
    db::cards::detach(&mut tx, post.id).await?;
    tx.commit().await?;
    Ok(())
}

/// The author wants a removed preview back: it is made again.
pub async fn restore(state: &AppState, author: &Actor, post: &Post) -> Result<()> {
    if post.author_id != author.id || !author.is_local() {
        return Err(Error::Forbidden(
            "only the author may restore a post's preview".into(),
        ));
    }
    let mut tx = state.db.begin().await?;
    if db::cards::unremove(&mut *tx, post.id).await? {
        queue_edited(&mut tx, state, post).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Whether the author removed the preview of the link a post has now.
pub async fn removed(state: &AppState, post: &Post) -> Result<bool> {
    let Some(removed) = db::cards::removed_url(&state.db, post.id).await? else {
        return Ok(false);
    };
    Ok(link_of(state, post)
        .await?
        .is_some_and(|l| l.as_str() == removed))
}

/// The excluded domains, for the admin area.
pub async fn excluded_domains(state: &AppState) -> Result<Vec<String>> {
    Ok(db::cards::excluded_domains(&state.db).await?)
}

/// Excludes a domain (and its subdomains) from link previews; the cards
/// already shown for its pages are taken off. Audit-logged.
pub async fn exclude_domain(state: &AppState, staff: &Staff, raw: &str) -> Result<String> {
    staff.require_admin()?;
    let domain = domain_name::normalize(raw)
        .ok_or_else(|| Error::Validation(format!("`{}` is not a domain name", raw.trim())))?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    if db::cards::exclude(&mut *tx, &domain, now).await? {
        let posts = db::cards::detach_domain(&mut tx, &domain).await?;
        audit::record(
            &mut tx,
            now,
            staff,
            "preview_card_domain.exclude",
            "domain",
            &domain,
            serde_json::json!({ "cards_taken_off": posts.len() }),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(domain)
}

/// Lifts a domain's exclusion (new posts get cards again). Audit-logged.
pub async fn include_domain(state: &AppState, staff: &Staff, domain: &str) -> Result<()> {
    staff.require_admin()?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    if db::cards::include(&mut *tx, domain).await? {
        audit::record(
            &mut tx,
            now,
            staff,
            "preview_card_domain.include",
            "domain",
            domain,
            serde_json::json!({}),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Posts waiting for their preview, for the admin area.
pub async fn waiting(state: &AppState) -> Result<i64> {
    Ok(db::cards::waiting(&state.db).await?)
}
