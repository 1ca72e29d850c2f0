//! Loading: everything a page of accounts, statuses or notifications shows,
//! read in a fixed number of batch queries whatever the page's size (never
//! one per row), the independent ones side by side. `mastodon::present` turns what is loaded into entities
//! without further I/O.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use crate::db::custom_emojis::CustomEmoji;
use crate::db::{self, actors::Actor, posts::Post};
use crate::domain::filters::Context as FilterContext;
use crate::error::{Error, Result};
use crate::mastodon::entities as e;
use crate::mastodon::filtering::PageFilter;
use crate::service::custom_emoji;
use crate::service::remote_media::{self, Shown};
use crate::state::AppState;

/// What accounts show besides their rows: counts, the accounts they
/// moved to, the cached copies of remote avatars, headers and emoji, the
/// custom emoji of names and bios, and local accounts' search-engine
/// preference.
#[derive(Debug, Default)]
pub struct AccountFacts {
    pub stats: HashMap<i64, db::views::AccountStats>,
    /// The accounts moved to, by ActivityPub id (those Skein knows).
    pub moved: HashMap<String, Actor>,
    /// Remote avatars, headers and emoji cached here, by remote URL.
    pub media: HashMap<String, Shown>,
    /// The custom emoji of accounts' names, bios and fields, by actor id:
    /// for local accounts the instance's own that they use, for remote
    /// ones those their actor documents carry (the cached copy when there
    /// is one, as for posts' emoji).
    pub emojis: HashMap<i64, Vec<e::CustomEmoji>>,
    /// Whether search engines may index each local account's pages (its
    /// user's preference), by actor id; Mastodon's `noindex` is the
    /// opposite.
    pub indexed: HashMap<i64, bool>,
}

/// One of the instance's own custom emoji as Mastodon's entity.
pub fn local_emoji(state: &AppState, emoji: &CustomEmoji) -> e::CustomEmoji {
    let (url, static_url) = custom_emoji::urls(state, emoji);
    e::CustomEmoji {
        shortcode: emoji.shortcode.clone(),
        url,
        static_url,
        visible_in_picker: emoji.visible_in_picker,
        category: emoji.category.clone(),
    }
}

/// The emoji among `found` that `texts` use.
fn emojis_in(state: &AppState, found: &[CustomEmoji], texts: &[&str]) -> Vec<e::CustomEmoji> {
    let codes: HashSet<String> = texts
        .iter()
        .flat_map(|t| crate::domain::emoji::shortcodes_in(t))
        .collect();
    found
        .iter()
        .filter(|emoji| codes.contains(&emoji.shortcode))
        .map(|emoji| local_emoji(state, emoji))
        .collect()
}

/// Six queries at most, in two rounds: the accounts moved to (only when
/// one has moved), then, side by side, each on a connection of its own:
/// the counts of all of them, remote accounts' custom emoji and the cached
/// copies of their avatars and headers (only when there are remote ones),
/// the custom emoji local accounts use (only when one writes a
/// `:shortcode:`) and local accounts' search-engine preference (only when
/// there are local ones); then the cached copies of remote emoji, when
/// there are any.
pub async fn accounts(state: &AppState, actors: &[Actor]) -> Result<AccountFacts> {
    let targets: Vec<String> = unique_by(actors.iter().filter_map(|a| a.moved_to.clone()));
    let moved = if targets.is_empty() {
        Vec::new()
    } else {
        db::views::actors_by_ap_id(&state.db, &targets).await?
    };
    let ids = unique_by(actors.iter().chain(&moved).map(|a| a.id));
    let remote: Vec<&Actor> = actors
        .iter()
        .chain(&moved)
        .filter(|a| !a.is_local())
        .collect();
    let remote_ids = unique_by(remote.iter().map(|a| a.id));
    let images = unique_by(
        remote
            .iter()
            .flat_map(|a| a.avatar_url.iter().chain(&a.header_url).cloned()),
    );
    let local: Vec<&Actor> = actors
        .iter()
        .chain(&moved)
        .filter(|a| a.is_local())
        .collect();
    let local_ids = unique_by(local.iter().map(|a| a.id));
    let texts: Vec<&str> = local
        .iter()
        .flat_map(|a| custom_emoji::account_texts(a))
        .collect();
    let (stats, remote_emojis, indexed, mut media, found) = tokio::try_join!(
        async {
            if ids.is_empty() {
                return Ok(HashMap::new());
            }
            Ok::<_, Error>(db::views::account_stats(&state.db, &ids).await?)
        },
        async {
            if remote_ids.is_empty() {
                return Ok(Vec::new());
            }
            Ok::<_, Error>(db::views::actor_emojis(&state.db, &remote_ids).await?)
        },
        async {
            if local_ids.is_empty() {
                return Ok(HashMap::new());
            }
            let indexed = db::users::search_engine_indexing_of(&state.db, &local_ids).await?;
            Ok::<_, Error>(indexed.into_iter().collect::<HashMap<i64, bool>>())
        },
        remote_media::shown(state, images),
        custom_emoji::used_in(&state.db, &texts),
    )?;
    if !remote_emojis.is_empty() {
        let urls = unique_by(remote_emojis.iter().map(|(_, _, url)| url.clone()));
        media.extend(remote_media::shown(state, urls).await?);
    }
    let mut emojis: HashMap<i64, Vec<e::CustomEmoji>> = if found.is_empty() {
        HashMap::new()
    } else {
        local
            .iter()
            .map(|a| {
                let texts = custom_emoji::account_texts(a);
                (a.id, emojis_in(state, &found, &texts))
            })
            .filter(|(_, emojis)| !emojis.is_empty())
            .collect()
    };
    for (actor_id, shortcode, url) in remote_emojis {
        let url = media.get(&url).map_or(url, |m| m.url.clone());
        emojis.entry(actor_id).or_default().push(e::CustomEmoji {
            shortcode,
            static_url: url.clone(),
            url,
            visible_in_picker: false,
            category: None,
        });
    }
    Ok(AccountFacts {
        stats,
        moved: moved.into_iter().map(|a| (a.ap_id.clone(), a)).collect(),
        media,
        emojis,
        indexed,
    })
}

/// Everything a page of statuses shows.
#[derive(Default)]
pub struct StatusFacts {
    /// The page's posts, the posts they repost and the posts quoted by
    /// either, by id.
    pub posts: HashMap<i64, Post>,
    /// The author of each post replied to.
    pub parent_authors: HashMap<i64, i64>,
    pub authors: HashMap<i64, Actor>,
    pub accounts: AccountFacts,
    pub attachments: HashMap<i64, Vec<db::views::PostAttachment>>,
    pub mentions: HashMap<i64, Vec<Actor>>,
    pub tags: HashMap<i64, Vec<String>>,
    /// (shortcode, url) of the custom emoji of each post.
    pub emojis: HashMap<i64, Vec<(String, String)>>,
    /// The instance's own custom emoji each local post uses (looked up
    /// when shown, so a disabled one is gone at once).
    pub local_emojis: HashMap<i64, Vec<e::CustomEmoji>>,
    /// Remote posts' attachments and custom emoji cached here, by remote
    /// URL.
    pub media: HashMap<String, Shown>,
    pub polls: HashMap<i64, db::polls::Poll>,
    /// (name, website) of the app each local post was written with.
    pub applications: HashMap<i64, (String, Option<String>)>,
    /// The viewer's likes, reposts, bookmarks, pins and votes (None signed
    /// out).
    pub flags: Option<db::views::ViewerFlags>,
    /// The quoted posts the viewer may see.
    pub visible_quotes: HashSet<i64>,
    /// The viewer's filters in the page's context.
    pub filter: Option<PageFilter>,
    /// The link preview of each post that has one.
    pub cards: HashMap<i64, crate::mastodon::entities::PreviewCard>,
}

/// Reads what `posts` show to `viewer`: the reposted and quoted posts (two
/// queries), the authors of the posts replied to, the authors and their
/// counts, attachments, mentions, tags, emoji, polls, apps, the viewer's
/// flags, which quoted posts the viewer may see, and the viewer's filters
/// in `context`: a fixed number of queries whatever the page's size. Past
/// the reposted and quoted posts, the reads are independent and run side
/// by side (each on a pooled connection of its own), so a page waits for
/// about the slowest read instead of the sum of a dozen round trips.
pub async fn statuses(
    state: &AppState,
    viewer: Option<&Actor>,
    context: Option<FilterContext>,
    posts: &[Post],
) -> Result<StatusFacts> {
    if posts.is_empty() {
        return Ok(StatusFacts::default());
    }
    let db = &state.db;
    let mut all: HashMap<i64, Post> = posts.iter().map(|p| (p.id, p.clone())).collect();
    let reblogged = unique_by(
        posts
            .iter()
            .filter_map(|p| p.reblog_of_id)
            .filter(|id| !all.contains_key(id)),
    );
    if !reblogged.is_empty() {
        for p in db::views::posts(db, &reblogged).await? {
            all.insert(p.id, p);
        }
    }
    let quoted = unique_by(
        all.values()
            .filter_map(|p| p.quote_of_id)
            .filter(|id| !all.contains_key(id)),
    );
    if !quoted.is_empty() {
        for p in db::views::posts(db, &quoted).await? {
            all.insert(p.id, p);
        }
    }
    let ids: Vec<i64> = all.keys().copied().collect();
    let parents = unique_by(all.values().filter_map(|p| p.in_reply_to_id));
    let author_ids = unique_by(all.values().map(|p| p.author_id));
    // Quoted posts are shown only to those who may see them.
    let quoted_live = unique_by(
        all.values()
            .filter_map(|p| p.quote_of_id)
            .filter(|id| all.get(id).is_some_and(|q| q.deleted_at.is_none())),
    );
    // What follows depends on the posts alone: read side by side, each read
    // on a connection of its own, so that a page waits for the slowest of
    // them rather than for their sum.
    let (
        parent_authors,
        (authors, accounts),
        (attachments, emojis),
        mentions,
        tags,
        polls,
        applications,
        flags,
        visible_quotes,
        filter,
        cards,
    ) = tokio::try_join!(
        async {
            if parents.is_empty() {
                return Ok(HashMap::new());
            }
            Ok::<_, Error>(
                db::views::authors_of(db, &parents)
                    .await?
                    .into_iter()
                    .collect::<HashMap<i64, i64>>(),
            )
        },
        async {
            let authors = db::views::actors(db, &author_ids).await?;
            let accounts = self::accounts(state, &authors).await?;
            Ok::<_, Error>((authors, accounts))
        },
        async {
            let (attached, used) = tokio::try_join!(
                db::views::attachments(db, &ids),
                db::views::emojis(db, &ids)
            )?;
            let mut attachments: HashMap<i64, Vec<db::views::PostAttachment>> = HashMap::new();
            for a in attached {
                attachments.entry(a.post_id).or_default().push(a);
            }
            let mut emojis: HashMap<i64, Vec<(String, String)>> = HashMap::new();
            for (post_id, shortcode, url) in used {
                emojis.entry(post_id).or_default().push((shortcode, url));
            }
            Ok::<_, Error>((attachments, emojis))
        },
        async {
            let mut mentions: HashMap<i64, Vec<Actor>> = HashMap::new();
            for (post_id, actor) in db::views::mentions(db, &ids).await? {
                mentions.entry(post_id).or_default().push(actor);
            }
            Ok::<_, Error>(mentions)
        },
        async {
            let mut tags: HashMap<i64, Vec<String>> = HashMap::new();
            for (post_id, tag) in db::views::tags(db, &ids).await? {
                tags.entry(post_id).or_default().push(tag);
            }
            Ok::<_, Error>(tags)
        },
        async {
            Ok::<_, Error>(
                db::views::polls(db, &ids)
                    .await?
                    .into_iter()
                    .map(|p| (p.post_id, p))
                    .collect::<HashMap<_, _>>(),
            )
        },
        async {
            Ok::<_, Error>(
                db::views::applications(db, &ids)
                    .await?
                    .into_iter()
                    .map(|(id, name, website)| (id, (name, website)))
                    .collect::<HashMap<_, _>>(),
            )
        },
        async {
            Ok::<_, Error>(match viewer {
                Some(viewer) => Some(db::views::viewer_flags(db, viewer.id, &ids).await?),
                None => None,
            })
        },
        async {
            if quoted_live.is_empty() {
                return Ok(HashSet::new());
            }
            Ok::<_, Error>(
                db::views::visible(db, viewer.map(|v| v.id), &quoted_live)
                    .await?
                    .into_iter()
                    .collect::<HashSet<i64>>(),
            )
        },
        async {
            Ok::<_, Error>(match (viewer, context) {
                (Some(viewer), Some(context)) => PageFilter::load(state, viewer, context).await?,
                _ => None,
            })
        },
        async {
            Ok::<_, Error>(
                db::cards::for_posts(db, &ids)
                    .await?
                    .into_iter()
                    .map(|(post_id, card)| {
                        let image = card
                            .image_file
                            .as_deref()
                            .map(|name| crate::service::media::media_url(state, name));
                        (
                            post_id,
                            crate::mastodon::present::preview_card(&card, image),
                        )
                    })
                    .collect::<HashMap<_, _>>(),
            )
        },
    )?;

    let remote_authors: HashSet<i64> = authors
        .iter()
        .filter(|a| !a.is_local())
        .map(|a| a.id)
        .collect();
    let remote_files = unique_by(
        all.values()
            .filter(|p| remote_authors.contains(&p.author_id))
            .flat_map(|p| {
                let attached = attachments
                    .get(&p.id)
                    .into_iter()
                    .flatten()
                    .map(|a| a.attachment.url.clone());
                let emoji = emojis
                    .get(&p.id)
                    .into_iter()
                    .flatten()
                    .map(|(_, url)| url.clone());
                attached.chain(emoji).collect::<Vec<_>>()
            }),
    );
    let local_posts: Vec<&Post> = all
        .values()
        .filter(|p| !remote_authors.contains(&p.author_id) && p.reblog_of_id.is_none())
        .collect();
    let texts: Vec<&str> = local_posts
        .iter()
        .flat_map(|p| [p.content.as_str(), p.summary.as_str()])
        .collect();
    let (media, found) = tokio::try_join!(
        remote_media::shown(state, remote_files),
        custom_emoji::used_in(db, &texts)
    )?;
    let local_emojis = if found.is_empty() {
        HashMap::new()
    } else {
        local_posts
            .iter()
            .map(|p| {
                (
                    p.id,
                    emojis_in(state, &found, &[p.content.as_str(), p.summary.as_str()]),
                )
            })
            .filter(|(_, emojis)| !emojis.is_empty())
            .collect()
    };
    Ok(StatusFacts {
        posts: all,
        parent_authors,
        authors: authors.into_iter().map(|a| (a.id, a)).collect(),
        accounts,
        attachments,
        mentions,
        tags,
        emojis,
        local_emojis,
        media,
        polls,
        applications,
        flags,
        visible_quotes,
        filter,
        cards,
    })
}

/// The reports a page of notifications is about, with their target
/// accounts: two queries (and the targets' counts).
pub async fn reports(
    state: &AppState,
    ids: &[i64],
) -> Result<(Vec<db::reports::Report>, Vec<Actor>, AccountFacts)> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let reports = db::views::reports(&state.db, ids).await?;
    let targets = unique_by(reports.iter().map(|r| r.target_id));
    let actors = db::views::actors(&state.db, &targets).await?;
    let facts = accounts(state, &actors).await?;
    Ok((reports, actors, facts))
}

/// The time presenting is done at (polls' expiry).
pub fn now(state: &AppState) -> DateTime<Utc> {
    state.clock.now()
}

/// The values once each, in the order first seen.
pub fn unique_by<T: std::hash::Hash + Eq + Clone>(values: impl Iterator<Item = T>) -> Vec<T> {
    let mut seen = HashSet::new();
    values.filter(|v| seen.insert(v.clone())).collect()
}
