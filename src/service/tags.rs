//! Hashtags an account follows (their public posts enter its home
//! timeline, see `db::timelines::home`) and features on its profile (the
//! actor's `featuredTags` collection, changes sent to followers as
//! Add/Remove of a Hashtag, as Mastodon does); a hashtag's use over the
//! last week.

use chrono::Duration;
use serde_json::json;

use crate::db::{self, actors::Actor, tags::Featured, timelines::Page};
use crate::domain::trends as rules;
use crate::domain::{limits, text};
use crate::error::{Error, Result};
use crate::federation::activities;
use crate::service::outbox;
use crate::state::AppState;

pub use crate::domain::trends::{Day, HISTORY_DAYS};

/// A hashtag as the client API shows it.
#[derive(Debug, Clone)]
pub struct TagView {
    /// The hashtag's id, when it has a row (a hashtag never used, followed
    /// or featured has none, as in Mastodon).
    pub id: Option<i64>,
    /// Lower case, as posts store it.
    pub tag: String,
    /// As first written.
    pub name: String,
    /// For a signed-in viewer: whether it follows and features the hashtag.
    pub following: Option<bool>,
    pub featuring: Option<bool>,
    /// The last `HISTORY_DAYS` days, today first.
    pub history: Vec<Day>,
}

/// A hashtag named in a path: (as stored, as written); anything that is
/// not a hashtag's name is "not found", as Mastodon answers.
fn parse(raw: &str) -> Result<(String, String)> {
    let name = text::hashtag_name(raw).ok_or(Error::NotFound)?;
    Ok((name.to_lowercase(), name.to_string()))
}

/// One hashtag as `viewer` sees it.
pub async fn show(state: &AppState, viewer: Option<&Actor>, raw: &str) -> Result<TagView> {
    let (tag, name) = parse(raw)?;
    let row = match db::tags::find(&state.db, &tag).await? {
        Some(row) => Some(row),
        // A hashtag used in posts gets its id when first asked for.
        None if db::tags::used(&state.db, &tag).await? => {
            Some(db::tags::ensure(&state.db, &tag, &name).await?)
        }
        None => None,
    };
    let (id, name) = match row {
        Some(row) => (Some(row.id), row.name),
        None => (None, name),
    };
    let mut views = views(state, viewer, vec![(id, tag, name)]).await?;
    views.pop().ok_or(Error::NotFound)
}

/// Hashtags by name (as posts store them) as `viewer` sees them, in the
/// order given; those without a row have no id.
pub async fn many(
    state: &AppState,
    viewer: Option<&Actor>,
    tags: Vec<String>,
) -> Result<Vec<TagView>> {
    let rows = db::tags::find_many(&state.db, &tags).await?;
    let named = tags
        .into_iter()
        .map(|tag| match rows.iter().find(|r| r.tag == tag) {
            Some(row) => (Some(row.id), row.tag.clone(), row.name.clone()),
            None => (None, tag.clone(), tag),
        })
        .collect();
    views(state, viewer, named).await
}

/// Builds the views of these hashtags: the viewer's flags, the history.
async fn views(
    state: &AppState,
    viewer: Option<&Actor>,
    tags: Vec<(Option<i64>, String, String)>,
) -> Result<Vec<TagView>> {
    let names: Vec<String> = tags.iter().map(|(_, t, _)| t.clone()).collect();
    let flags = match viewer {
        Some(v) => db::tags::flags(&state.db, v.id, &names).await?,
        None => Vec::new(),
    };
    let today = rules::day_start(state.clock.now());
    let since = today - Duration::days(HISTORY_DAYS - 1);
    let used = db::tags::history(&state.db, &names, since).await?;
    Ok(tags
        .into_iter()
        .map(|(id, tag, name)| {
            let flag = flags.iter().find(|(t, _, _)| *t == tag);
            let history = rules::history(
                today,
                used.iter()
                    .filter(|u| u.tag == tag)
                    .map(|u| (u.day, u.uses, u.accounts)),
            );
            TagView {
                id,
                following: viewer.map(|_| flag.is_some_and(|f| f.1)),
                featuring: viewer.map(|_| flag.is_some_and(|f| f.2)),
                tag,
                name,
                history,
            }
        })
        .collect())
}

pub async fn follow(state: &AppState, viewer: &Actor, raw: &str) -> Result<TagView> {
    let (tag, name) = parse(raw)?;
    let mut tx = state.db.begin().await?;
    db::tags::ensure(&mut *tx, &tag, &name).await?;
    db::tags::follow(&mut *tx, viewer.id, &tag).await?;
    tx.commit().await?;
    show(state, Some(viewer), raw).await
}

pub async fn unfollow(state: &AppState, viewer: &Actor, raw: &str) -> Result<TagView> {
    let (tag, _) = parse(raw)?;
    db::tags::unfollow(&state.db, viewer.id, &tag).await?;
    show(state, Some(viewer), raw).await
}

/// The hashtags the viewer follows, newest follow first, with the ids of
/// the follows that page the list (first, last).
pub async fn followed(
    state: &AppState,
    viewer: &Actor,
    page: Page,
) -> Result<(Vec<TagView>, Option<(i64, i64)>)> {
    let rows = db::tags::followed(&state.db, viewer.id, page).await?;
    let bounds = rows
        .first()
        .zip(rows.last())
        .map(|(f, l)| (f.cursor, l.cursor));
    let tags = rows
        .into_iter()
        .map(|r| (Some(r.tag.id), r.tag.tag, r.tag.name))
        .collect();
    Ok((views(state, Some(viewer), tags).await?, bounds))
}

/// An account's featured hashtags, most used first.
pub async fn featured(state: &AppState, actor: &Actor) -> Result<Vec<Featured>> {
    Ok(db::tags::featured(&state.db, actor.id).await?)
}

/// Features a hashtag on the viewer's profile (`name` with or without
/// `#`); featuring it again changes nothing. Followers' servers are sent
/// an Add of the Hashtag to the `featuredTags` collection.
pub async fn feature(state: &AppState, viewer: &Actor, raw: &str) -> Result<Featured> {
    let Some(name) = text::hashtag_name(raw.trim()) else {
        return Err(Error::Validation(
            "Validation failed: Tag is invalid".into(),
        ));
    };
    let tag = name.to_lowercase();
    let mut tx = state.db.begin().await?;
    if db::tags::featured_by_tag(&mut *tx, viewer.id, &tag)
        .await?
        .is_none()
    {
        if db::tags::count_featured(&mut *tx, viewer.id).await? >= limits::FEATURED_TAGS as i64 {
            return Err(Error::Validation(format!(
                "Validation failed: You can't feature more than {} hashtags",
                limits::FEATURED_TAGS
            )));
        }
        let row = db::tags::ensure(&mut *tx, &tag, name).await?;
        if db::tags::feature(&mut *tx, viewer.id, &tag, state.clock.now()).await? {
            federate(state, &mut tx, viewer, &row, true).await?;
        }
    }
    let featured = db::tags::featured_by_tag(&mut *tx, viewer.id, &tag)
        .await?
        .ok_or(Error::NotFound)?;
    tx.commit().await?;
    Ok(featured)
}

/// Stops featuring the hashtag `raw`; nothing when it was not featured.
pub async fn unfeature(state: &AppState, viewer: &Actor, raw: &str) -> Result<()> {
    let (tag, _) = parse(raw)?;
    remove_featured(state, viewer, &tag).await
}

/// Stops featuring the viewer's featured hashtag `id` (404 when it has
/// none by that id).
pub async fn delete_featured(state: &AppState, viewer: &Actor, id: i64) -> Result<()> {
    let featured = db::tags::featured_by_id(&state.db, viewer.id, id)
        .await?
        .ok_or(Error::NotFound)?;
    remove_featured(state, viewer, &featured.tag).await
}

async fn remove_featured(state: &AppState, viewer: &Actor, tag: &str) -> Result<()> {
    let mut tx = state.db.begin().await?;
    if db::tags::unfeature(&mut *tx, viewer.id, tag).await?
        && let Some(row) = db::tags::find(&mut *tx, tag).await?
    {
        federate(state, &mut tx, viewer, &row, false).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Queues Add (or Remove) of the Hashtag to the viewer's followers.
async fn federate(
    state: &AppState,
    tx: &mut sqlx::PgConnection,
    viewer: &Actor,
    tag: &db::tags::Tag,
    added: bool,
) -> Result<()> {
    if !db::users::is_federating(&mut *tx, viewer.id).await? {
        return Ok(());
    }
    let Some(target) = featured_tags_url(viewer) else {
        return Ok(());
    };
    let object = hashtag(state, tag);
    let id = activities::new_id(&state.urls);
    let activity = activities::hashtag_collection(
        if added { "Add" } else { "Remove" },
        &id,
        &viewer.ap_id,
        object,
        &target,
    );
    outbox::queue_to(
        tx,
        state,
        viewer.id,
        &activity,
        outbox::Audience::followers_and(Vec::new()),
    )
    .await
}

/// The `featuredTags` collection of a local actor: beside its `featured`.
pub fn featured_tags_url(actor: &Actor) -> Option<String> {
    crate::federation::actor::featured_tags_url(actor)
}

/// A hashtag as ActivityPub shows it.
pub fn hashtag(state: &AppState, tag: &db::tags::Tag) -> serde_json::Value {
    json!({
        "type": "Hashtag",
        "href": state.urls.tag(&tag.tag),
        "name": format!("#{}", tag.name),
    })
}

/// The viewer's featured hashtags as ActivityPub's Hashtags, most used first.
pub async fn featured_hashtags(state: &AppState, actor: &Actor) -> Result<Vec<serde_json::Value>> {
    Ok(featured(state, actor)
        .await?
        .iter()
        .map(|f| {
            hashtag(
                state,
                &db::tags::Tag {
                    id: f.id,
                    tag: f.tag.clone(),
                    name: f.name.clone(),
                },
            )
        })
        .collect())
}

/// Hashtags the viewer used most in its latest posts and does not feature.
pub async fn suggestions(state: &AppState, viewer: &Actor) -> Result<Vec<TagView>> {
    let tags = db::tags::suggestions(&state.db, viewer.id, 10).await?;
    let mut rows = Vec::with_capacity(tags.len());
    for tag in tags {
        let row = db::tags::ensure(&state.db, &tag, &tag).await?;
        rows.push((Some(row.id), row.tag, row.name));
    }
    views(state, Some(viewer), rows).await
}
