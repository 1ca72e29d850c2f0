//! Local posts: writing (text rendered with links, mentions and hashtags,
//! uploaded media attached), deleting, and the Notes other servers receive;
//! and who may read a post.

use sqlx::PgConnection;

use crate::db::{self, actors::Actor, posts::Post};
use crate::domain::interaction::{Interaction, ReplyPolicy};
use crate::domain::notifications::NotificationKind;
use crate::domain::text::{self, Token};
use crate::domain::visibility::{QuotePolicy, QuoteState, Visibility};
use crate::error::{Error, Result};
use crate::federation::note::{self, NoteParts};
use crate::service::media::{self, MediaAttributes};
use crate::service::{outbox, quotes, remote_actors, reply_controls};
use crate::state::AppState;

pub mod draft;
pub mod store;

/// A post as its author writes it.
#[derive(Debug, Clone)]
pub struct Draft<'a> {
    /// Plain text, as typed.
    pub text: &'a str,
    /// Content warning (plain text); empty for none.
    pub spoiler: &'a str,
    pub sensitive: bool,
    pub language: Option<&'a str>,
    pub visibility: Visibility,
    /// The post replied to: its ActivityPub id or URL.
    pub in_reply_to: Option<&'a str>,
    /// Makes the post a poll.
    pub poll: Option<PollDraft>,
    /// The post quoted: its ActivityPub id or URL.
    pub quote_of: Option<&'a str>,
    /// Who may quote this post.
    pub quote_policy: QuotePolicy,
    /// Who may reply to this post (kept as it was when editing).
    pub reply_policy: ReplyPolicy,
    /// Uploads (`service::media::upload`) the post carries, in order, at
    /// most four. When writing, None is none; when editing, None keeps the
    /// post's media and a list replaces them (uploads left out are deleted).
    pub media_ids: Option<&'a [i64]>,
    /// Alt text and focal points to set on the post's media as it is
    /// written or edited (Mastodon's `media_attributes[]` on edits).
    pub media_attributes: &'a [MediaAttributes<'a>],
}

/// A poll as its author sets it up.
#[derive(Debug, Clone)]
pub struct PollDraft {
    pub options: Vec<String>,
    /// Several choices (anyOf) rather than one (oneOf).
    pub multiple: bool,
    pub expires_in: chrono::Duration,
}

/// Mastodon's limits for polls.
pub const MAX_POLL_OPTIONS: usize = crate::domain::limits::POLL_OPTIONS;
pub const MAX_POLL_OPTION_CHARS: usize = crate::domain::limits::POLL_OPTION;
pub const MIN_POLL_DURATION: chrono::Duration = chrono::Duration::minutes(5);
pub const MAX_POLL_DURATION: chrono::Duration = chrono::Duration::days(30);

fn validate_poll(poll: &PollDraft) -> Result<()> {
    if poll.options.len() < 2 || poll.options.len() > MAX_POLL_OPTIONS {
        return Err(Error::Validation(format!(
            "a poll has 2 to {MAX_POLL_OPTIONS} options"
        )));
    }
    let mut seen: Vec<&str> = Vec::new();
    for option in &poll.options {
        let option = option.trim();
        if option.is_empty() || option.chars().count() > MAX_POLL_OPTION_CHARS {
            return Err(Error::Validation(format!(
                "poll options have 1 to {MAX_POLL_OPTION_CHARS} characters"
            )));
        }
        if seen.contains(&option) {
            return Err(Error::Validation("poll options must differ".into()));
        }
        seen.push(option);
    }
    if poll.expires_in < MIN_POLL_DURATION || poll.expires_in > MAX_POLL_DURATION {
        return Err(Error::Validation(
            "a poll lasts from 5 minutes to 30 days".into(),
        ));
    }
    Ok(())
}

/// The draft's text, trimmed, when it is within the limit (counted as
/// Mastodon counts, content warning included) and not empty, unless the post
/// has media.
fn checked_text<'a>(state: &AppState, draft: &Draft<'a>, has_media: bool) -> Result<&'a str> {
    let text = draft.text.trim();
    if text.is_empty() && !has_media {
        return Err(Error::Validation("a post needs text or media".into()));
    }
    let limit = state.config.posts.max_characters;
    let length = text::count_characters(text) + draft.spoiler.chars().count();
    if length > limit {
        return Err(Error::Validation(format!(
            "a post has at most {limit} characters (this one has {length})"
        )));
    }
    Ok(text)
}

/// A text rendered to HTML, with the accounts it mentions and its hashtags.
struct Rendered {
    html: String,
    mentioned: Vec<Actor>,
    tags: Vec<String>,
}

async fn render(state: &AppState, text: &str) -> Rendered {
    let tokens = text::tokenize(text);
    let resolved = resolve_mentions(state, &tokens).await;
    let html = text::render(
        &tokens,
        |user, host| {
            resolved
                .iter()
                .find(|(u, h, _)| u.eq_ignore_ascii_case(user) && h.as_deref() == host)
                .map(|(_, _, actor)| actor.url.clone().unwrap_or_else(|| actor.ap_id.clone()))
        },
        |tag| tag_url(state, tag),
    );
    Rendered {
        html,
        mentioned: resolved.into_iter().map(|(_, _, a)| a).collect(),
        tags: text::hashtags(&tokens),
    }
}

/// The longest language tag accepted (BCP 47 tags are short).
const MAX_LANGUAGE: usize = 16;

/// Writes a post and sends it where it belongs: followers (once per server),
/// mentioned accounts and the author of the post replied to.
pub async fn create(state: &AppState, author: &Actor, draft: Draft<'_>) -> Result<Post> {
    write(state, author, draft, None, None).await
}

/// As [`create`], for a post written through an OAuth application: the
/// application is recorded in the post's own transaction.
pub async fn create_with_app(
    state: &AppState,
    author: &Actor,
    draft: Draft<'_>,
    app_id: Option<i64>,
) -> Result<Post> {
    write(state, author, draft, app_id, None).await
}

/// A scheduled status being published (`service::scheduled`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct FromSchedule {
    pub id: i64,
    pub app_id: Option<i64>,
}

/// Publishes a scheduled status as [`create`] writes a post: the scheduled
/// status is taken (deleted) in the transaction that stores the post, so it
/// is published once; gone meanwhile (cancelled, or published by another
/// run), nothing is written and the answer is `NotFound`.
pub(crate) async fn publish_scheduled(
    state: &AppState,
    author: &Actor,
    draft: Draft<'_>,
    scheduled: FromSchedule,
) -> Result<Post> {
    write(state, author, draft, scheduled.app_id, Some(scheduled)).await
}

/// What a draft is checked against before a post is written or scheduled:
/// the author may post, the media, the text, the language and the poll.
/// Returns the uploads the post will carry, and the language tag.
pub(crate) async fn check(
    state: &AppState,
    author: &Actor,
    draft: &Draft<'_>,
    scheduled: Option<i64>,
) -> Result<(Vec<db::uploads::Upload>, Option<String>)> {
    if !author.is_local() {
        return Err(Error::Forbidden(
            "only local accounts post from here".into(),
        ));
    }
    // As on Mastodon, an account that moved away no longer posts: its
    // followers went to the new account.
    if let Some(target) = &author.moved_to {
        return Err(Error::Forbidden(format!(
            "this account has moved to {target} and no longer posts"
        )));
    }
    let uploads = media::check_for_post(
        state,
        author,
        draft.media_ids.unwrap_or_default(),
        draft.media_attributes,
        None,
        scheduled,
    )
    .await?;
    checked_text(state, draft, !uploads.is_empty())?;
    let language = match draft.language.map(str::trim).filter(|l| !l.is_empty()) {
        Some(l)
            if l.len() <= MAX_LANGUAGE
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') =>
        {
            Some(l.to_string())
        }
        Some(l) => return Err(Error::Validation(format!("`{l}` is not a language tag"))),
        None => None,
    };
    if let Some(poll) = &draft.poll {
        validate_poll(poll)?;
        if !uploads.is_empty() {
            // As in Mastodon: a Question has no room for media.
            return Err(Error::Validation(
                "a post has either a poll or media".into(),
            ));
        }
    }
    Ok((uploads, language))
}

async fn write(
    state: &AppState,
    author: &Actor,
    draft: Draft<'_>,
    app_id: Option<i64>,
    scheduled: Option<FromSchedule>,
) -> Result<Post> {
    let (uploads, language) = check(state, author, &draft, scheduled.map(|s| s.id)).await?;
    let text = checked_text(state, &draft, !uploads.is_empty())?;
    let parent = match draft.in_reply_to {
        Some(id) => Some(
            db::posts::find_by_ap_id_or_url(&state.db, id)
                .await?
                .filter(|p| p.deleted_at.is_none())
                .ok_or_else(|| Error::Validation("the post replied to is unknown".into()))?,
        ),
        None => None,
    };
    if let Some(parent) = &parent {
        reply_controls::require(state, parent, author, Interaction::Reply).await?;
    }

    let quoted = match draft.quote_of {
        Some(id) => Some(
            db::posts::find_by_ap_id_or_url(&state.db, id)
                .await?
                .filter(|p| {
                    p.deleted_at.is_none() && p.reblog_of_id.is_none() && p.visibility.is_public()
                })
                .ok_or_else(|| {
                    Error::Validation("the quoted post is unknown or not public".into())
                })?,
        ),
        None => None,
    };
    let quoted_author = match &quoted {
        Some(q) => Some(
            db::actors::find_by_id(&state.db, q.author_id)
                .await?
                .ok_or(Error::NotFound)?,
        ),
        None => None,
    };
    if let (Some(q), Some(qa)) = (&quoted, &quoted_author)
        && qa.is_local()
        && !quotes::allowed(state, q, qa, author).await?
    {
        return Err(Error::Validation(
            "the author of that post does not allow quotes".into(),
        ));
    }
    let Rendered {
        html,
        mentioned,
        tags,
    } = render(state, text).await;
    let mut mentioned = mentioned;
    if let Some(parent) = &parent {
        // The author replied to is addressed as if mentioned.
        if parent.author_id != author.id
            && !mentioned.iter().any(|a| a.id == parent.author_id)
            && let Some(parent_author) = db::actors::find_by_id(&state.db, parent.author_id).await?
        {
            mentioned.push(parent_author);
        }
    }
    mentioned.retain(|a| a.id != author.id);
    mentioned.sort_by_key(|a| a.id);
    mentioned.dedup_by_key(|a| a.id);
    let html = match &quoted {
        Some(q) => with_quote_fallback(html, q),
        None => html,
    };

    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    if let Some(scheduled) = scheduled
        && !db::scheduled_statuses::take(&mut *tx, scheduled.id).await?
    {
        return Err(Error::NotFound);
    }
    let id = db::posts::next_id(&mut *tx, now).await?;
    let ap_id = state.urls.post(&author.username, id);
    let url = state.urls.post_page(&author.username, id);
    let poll = draft.poll.as_ref().map(|poll| store::NewPoll {
        multiple: poll.multiple,
        options: poll
            .options
            .iter()
            .map(|o| db::polls::PollOption {
                title: o.trim().to_string(),
                votes: 0,
            })
            .collect(),
        expires_at: Some(now + poll.expires_in),
        voters_count: 0,
    });
    let post = store::store(
        &mut tx,
        state,
        store::NewPost {
            author,
            row: db::posts::NewPost {
                id: Some(id),
                ap_id: &ap_id,
                author_id: author.id,
                url: Some(&url),
                content: &html,
                source: Some(text),
                summary: draft.spoiler.trim(),
                sensitive: draft.sensitive || !draft.spoiler.trim().is_empty(),
                language: language.as_deref(),
                visibility: draft.visibility,
                in_reply_to_ap_id: parent.as_ref().map(|p| p.ap_id.as_str()),
                published: now,
                quote_policy: draft.quote_policy,
                reply_policy: draft.reply_policy,
                interaction_policy: None,
            },
            parent: parent.as_ref(),
            mentioned: &mentioned,
            hashtags: &tags,
            poll,
            follower_notices: store::FollowerNotices::LookUp,
        },
    )
    .await?;
    if !uploads.is_empty() {
        media::set_for_post(&mut tx, state, author, post.id, &uploads).await?;
    }
    if let Some(app) = app_id {
        db::posts::set_app(&mut *tx, post.id, app).await?;
    }
    let mut quote_request = None;
    if let (Some(q), Some(qa)) = (&quoted, &quoted_author) {
        if qa.is_local() {
            // A new post: no earlier approval of it can have been revoked.
            let grant = db::posts::authorize_quote(&mut *tx, q.id, &post.ap_id, author.id)
                .await?
                .ok_or(Error::Conflict("this quote's approval was revoked".into()))?;
            let grant = state.urls.quote_authorization(&qa.username, grant);
            db::posts::set_quote(
                &mut *tx,
                post.id,
                &q.ap_id,
                QuoteState::Accepted,
                None,
                Some(&grant),
            )
            .await?;
            if qa.id != author.id {
                db::notifications::notify(
                    &mut tx,
                    qa.id,
                    NotificationKind::Quote,
                    author.id,
                    Some(post.id),
                    state.clock.now(),
                )
                .await?;
            }
        } else {
            let request = crate::federation::activities::new_id(&state.urls);
            db::posts::set_quote(
                &mut *tx,
                post.id,
                &q.ap_id,
                QuoteState::Pending,
                Some(&request),
                None,
            )
            .await?;
            quote_request = Some((request, q.ap_id.clone(), qa.clone()));
        }
    }
    let post = db::posts::find_by_id(&mut *tx, post.id)
        .await?
        .ok_or(Error::NotFound)?;
    let poll = db::polls::find(&mut *tx, post.id).await?;
    if let Some((request, quoted_id, qa)) = &quote_request {
        let activity = crate::federation::activities::quote_request(
            request,
            &author.ap_id,
            quoted_id,
            &post.ap_id,
        );
        outbox::queue_for(&mut tx, state, author, qa, &activity).await?;
    }
    if db::users::is_federating(&mut *tx, author.id).await? {
        let attachments = db::media::attachments(&mut *tx, post.id).await?;
        let mut parts = parts_for(state, &post, &mentioned, &tags, poll, attachments);
        parts.emojis = emoji_tags(&mut tx, state, &post).await?;
        let activity = note::create(&post, author, &parts);
        let audience = audience(&mut tx, &post, &mentioned).await?;
        outbox::queue_to(&mut tx, state, author.id, &activity, audience).await?;
    }
    tx.commit().await?;
    Ok(post)
}

/// Followers who asked to be notified of an account's posts get a `status`
/// notification of a new one (the caller leaves out direct posts and
/// replies to others, as Mastodon does); mentioned ones already got a
/// mention.
pub async fn notify_followers(
    tx: &mut PgConnection,
    state: &AppState,
    post: &Post,
    author_id: i64,
    followers: &[i64],
    mentioned: &[Actor],
) -> Result<()> {
    for &follower in followers {
        if mentioned.iter().any(|a| a.id == follower) {
            continue;
        }
        db::notifications::notify(
            &mut *tx,
            follower,
            NotificationKind::Status,
            author_id,
            Some(post.id),
            state.clock.now(),
        )
        .await?;
    }
    Ok(())
}

/// A quote post's HTML with a link to the quoted post after it, which
/// servers that do not show quotes show instead (Mastodon's
/// `quote-inline` paragraph; left out where the quote itself is shown,
/// `federation::html::without_quote_fallback`).
fn with_quote_fallback(html: String, quoted: &Post) -> String {
    let link = quoted.url.as_deref().unwrap_or(&quoted.ap_id);
    format!(
        "{html}<p class=\"{}\"><br>RE: <a href=\"{1}\">{1}</a></p>",
        crate::federation::html::QUOTE_INLINE,
        crate::federation::html::escape(link)
    )
}

/// Edits a local post: the earlier version goes to its history, mentions and
/// hashtags follow the new text, media and their alt text change as the
/// draft says, and an Update (with `updated`) goes wherever the post went.
pub async fn edit(state: &AppState, author: &Actor, post: &Post, draft: Draft<'_>) -> Result<Post> {
    if post.author_id != author.id || !author.is_local() {
        return Err(Error::Forbidden("only the author may edit a post".into()));
    }
    if post.deleted_at.is_some() || post.reblog_of_id.is_some() {
        return Err(Error::NotFound);
    }
    let media_ids = match draft.media_ids {
        Some(ids) => ids.to_vec(),
        None => db::media::attachment_ids(&state.db, post.id).await?,
    };
    let uploads = media::check_for_post(
        state,
        author,
        &media_ids,
        draft.media_attributes,
        Some(post.id),
        None,
    )
    .await?;
    if !uploads.is_empty() && db::polls::find(&state.db, post.id).await?.is_some() {
        return Err(Error::Validation(
            "a post has either a poll or media".into(),
        ));
    }
    let text = checked_text(state, &draft, !uploads.is_empty())?;
    let Rendered {
        html,
        mentioned: resolved,
        tags,
    } = render(state, text).await;
    // A quote stays a quote: its link for servers without quotes too.
    let quoted = match post.quote_of_id {
        Some(id) => db::posts::find_by_id(&state.db, id).await?,
        None => None,
    };
    let html = match &quoted {
        Some(q) => with_quote_fallback(html, q),
        None => html,
    };
    let mut tx = state.db.begin().await?;
    let removed = media::set_for_post(&mut tx, state, author, post.id, &uploads).await?;
    let edited = db::posts::edit(
        &mut tx,
        post,
        &html,
        Some(text),
        draft.spoiler.trim(),
        draft.sensitive || !draft.spoiler.trim().is_empty(),
        draft.language,
        state.clock.now(),
    )
    .await?;
    let new_mentions: Vec<i64> = resolved
        .iter()
        .map(|a| a.id)
        .filter(|id| *id != author.id)
        .collect();
    db::posts::add_mentions(&mut *tx, post.id, &new_mentions).await?;
    db::posts::set_tags(&mut tx, post.id, &tags).await?;
    crate::service::cards::queue_edited(&mut tx, state, &edited).await?;
    let mentioned = db::posts::mentions(&mut *tx, post.id).await?;
    if db::users::is_federating(&mut *tx, author.id).await? {
        let poll = db::polls::find(&mut *tx, post.id).await?;
        let attachments = db::media::attachments(&mut *tx, post.id).await?;
        let mut parts = parts_for(state, &edited, &mentioned, &tags, poll, attachments);
        parts.emojis = emoji_tags(&mut tx, state, &edited).await?;
        let activity = note::update(
            &crate::federation::activities::new_id(&state.urls),
            &edited,
            author,
            &parts,
        );
        let audience = audience(&mut tx, &edited, &mentioned).await?;
        outbox::queue_to(&mut tx, state, author.id, &activity, audience).await?;
    }
    tx.commit().await?;
    media::remove_files(state, &removed).await;
    Ok(edited)
}

/// Deletes a local post: it becomes a tombstone here, its media and their
/// files are removed, and a Delete goes wherever its Create went.
pub async fn delete(state: &AppState, author: &Actor, post: &Post) -> Result<()> {
    if post.author_id != author.id || !author.is_local() {
        return Err(Error::Forbidden("only the author may delete a post".into()));
    }
    if post.deleted_at.is_some() {
        return Ok(());
    }
    let mut tx = state.db.begin().await?;
    let removed = delete_in(&mut tx, state, author, post).await?;
    tx.commit().await?;
    // After the commit: a failed transaction must not lose the files. A
    // crash here leaves files without rows, which are never served.
    media::remove_files(state, &removed).await;
    Ok(())
}

/// Deletes a local post inside the caller's transaction and queues its
/// Delete; the caller removes the returned files once it has committed.
pub async fn delete_in(
    tx: &mut PgConnection,
    state: &AppState,
    author: &Actor,
    post: &Post,
) -> Result<Vec<String>> {
    let mentioned = db::posts::mentions(&mut *tx, post.id).await?;
    let tags = db::posts::tags(&mut *tx, post.id).await?;
    db::posts::mark_deleted(&mut *tx, post.id, state.clock.now()).await?;
    let removed = media::delete_for_post(&mut *tx, post.id).await?;
    if let Some(parent) = post.in_reply_to_id {
        db::posts::add_replies(&mut *tx, parent, -1).await?;
    }
    if db::users::is_federating(&mut *tx, author.id).await? {
        let poll = db::polls::find(&mut *tx, post.id).await?;
        let parts = parts_for(state, post, &mentioned, &tags, poll, Vec::new());
        let activity = note::delete(post, author, &parts);
        let audience = audience(&mut *tx, post, &mentioned).await?;
        outbox::queue_to(&mut *tx, state, author.id, &activity, audience).await?;
    }
    Ok(removed)
}

/// The inboxes a post goes to: followers' servers (unless direct), every
/// mentioned remote account and the author of a quoted remote post, one
/// request per shared inbox.
async fn audience(
    tx: &mut PgConnection,
    post: &Post,
    mentioned: &[Actor],
) -> Result<outbox::Audience> {
    let mut inboxes = Vec::new();
    for actor in mentioned.iter().filter(|a| !a.is_local()) {
        let inbox = if post.visibility == Visibility::Direct {
            actor.inbox_url.clone()
        } else {
            actor.server_inbox()
        };
        inboxes.push(inbox);
    }
    if let Some(quoted) = post.quote_of_id
        && let Some(quoted) = db::posts::find_by_id(&mut *tx, quoted).await?
        && let Some(quoted_author) = db::actors::find_by_id(&mut *tx, quoted.author_id).await?
        && !quoted_author.is_local()
    {
        inboxes.push(quoted_author.server_inbox());
    }
    // Public posts go to the relays the instance subscribes to.
    inboxes.extend(crate::service::relays::inboxes_for(&mut *tx, post.visibility).await?);
    Ok(outbox::Audience {
        inboxes,
        followers: post.visibility != Visibility::Direct,
    })
}

fn tag_url(state: &AppState, tag: &str) -> String {
    state.urls.tag(tag)
}

fn parts_for(
    state: &AppState,
    post: &Post,
    mentioned: &[Actor],
    tags: &[String],
    poll: Option<db::polls::Poll>,
    attachments: Vec<db::media::Attachment>,
) -> NoteParts {
    NoteParts {
        attachments,
        poll_closed: poll
            .as_ref()
            .is_some_and(|p| p.is_closed(state.clock.now())),
        poll,
        mentions: mentioned
            .iter()
            .map(|a| {
                let host = a.domain.clone().unwrap_or_else(|| state.urls.domain());
                (a.ap_id.clone(), format!("@{}@{host}", a.username))
            })
            .collect(),
        tags: tags
            .iter()
            .map(|t| (t.clone(), tag_url(state, t)))
            .collect(),
        in_reply_to: post.in_reply_to_ap_id.clone(),
        replies: Some(format!("{}/replies", post.ap_id)),
        emojis: Vec::new(),
    }
}

/// The Note parts of a stored post (its mentions and tags).
pub async fn note_parts(state: &AppState, post: &Post) -> Result<NoteParts> {
    let mentioned = db::posts::mentions(&state.db, post.id).await?;
    let tags = db::posts::tags(&state.db, post.id).await?;
    let poll = db::polls::find(&state.db, post.id).await?;
    let attachments = db::media::attachments(&state.db, post.id).await?;
    let mut parts = parts_for(state, post, &mentioned, &tags, poll, attachments);
    parts.emojis = emoji_tags(&mut *state.db.acquire().await?, state, post).await?;
    Ok(parts)
}

/// The `Emoji` tags of the instance's enabled custom emoji a local post
/// uses (its text and content warning).
async fn emoji_tags(
    conn: &mut PgConnection,
    state: &AppState,
    post: &Post,
) -> Result<Vec<serde_json::Value>> {
    crate::service::custom_emoji::tags_for(
        &mut *conn,
        state,
        &[post.content.as_str(), post.summary.as_str()],
    )
    .await
}

/// Resolves the accounts a text mentions: `@user` is local, `@user@host`
/// local or remote over WebFinger. Unknown accounts stay plain text, as in
/// Mastodon.
async fn resolve_mentions(
    state: &AppState,
    tokens: &[Token],
) -> Vec<(String, Option<String>, Actor)> {
    let mut found = Vec::new();
    for (user, host) in text::mentions(tokens) {
        let query = match &host {
            Some(host) => format!("{user}@{host}"),
            None => format!("{user}@{}", state.urls.domain()),
        };
        match remote_actors::resolve(state, &query).await {
            Ok(actor) => found.push((user, host, actor)),
            Err(e) => tracing::debug!(mention = %query, error = %e, "mention left as text"),
        }
    }
    found
}

/// A post by id, live or a tombstone (callers look at `deleted_at`).
pub async fn by_id(state: &AppState, id: i64) -> Result<Option<Post>> {
    Ok(db::posts::find_by_id(&state.db, id).await?)
}

/// A live post `viewer` may see; anything else is "not found", as
/// Mastodon answers (so that private posts do not betray themselves).
pub async fn visible(state: &AppState, viewer: Option<&Actor>, id: i64) -> Result<Post> {
    let post = by_id(state, id)
        .await?
        .filter(|p| p.deleted_at.is_none())
        .ok_or(Error::NotFound)?;
    if !can_see(state, &post, viewer).await? {
        return Err(Error::NotFound);
    }
    Ok(post)
}

/// A post's earlier versions, oldest first: (content, summary, sensitive,
/// when it was replaced).
pub async fn history(
    state: &AppState,
    post: &Post,
) -> Result<Vec<(String, String, bool, chrono::DateTime<chrono::Utc>)>> {
    Ok(db::posts::history(&state.db, post.id).await?)
}

/// A local post by its author's username and id, for its URL.
pub async fn local_post(state: &AppState, username: &str, id: i64) -> Result<(Actor, Post)> {
    let author = db::actors::find_local_person(&state.db, username)
        .await?
        .ok_or(Error::NotFound)?;
    let post = db::posts::find_by_id(&state.db, id)
        .await?
        .filter(|p| p.author_id == author.id && p.reblog_of_id.is_none())
        .ok_or(Error::NotFound)?;
    Ok((author, post))
}

/// A post by its web page's address, `/@{acct}/{id}`: local or remote
/// (stored), by its author (not a repost). Deleted posts are returned too,
/// so that their page can say they are gone.
pub async fn by_acct(state: &AppState, acct: &str, id: i64) -> Result<(Actor, Post)> {
    let author = crate::service::profiles::by_acct(state, acct, false).await?;
    let post = db::posts::find_by_id(&state.db, id)
        .await?
        .filter(|p| p.author_id == author.id && p.reblog_of_id.is_none())
        .ok_or(Error::NotFound)?;
    Ok((author, post))
}

/// Whether `viewer` (None: anyone) may read `post`: public and unlisted
/// posts anyone; followers-only posts accepted followers and mentioned
/// accounts; mentioned-only posts mentioned accounts.
pub async fn can_see(state: &AppState, post: &Post, viewer: Option<&Actor>) -> Result<bool> {
    Ok(!visible_ids(state, std::slice::from_ref(post), viewer)
        .await?
        .is_empty())
}

/// The posts of `posts` that `viewer` may see (by `can_see`'s rules), in
/// the order given: one query whatever their number.
pub async fn visible_ids(
    state: &AppState,
    posts: &[Post],
    viewer: Option<&Actor>,
) -> Result<Vec<i64>> {
    if posts.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = posts.iter().map(|p| p.id).collect();
    let seen: std::collections::HashSet<i64> =
        db::views::visible(&state.db, viewer.map(|v| v.id), &ids)
            .await?
            .into_iter()
            .collect();
    Ok(ids.into_iter().filter(|id| seen.contains(id)).collect())
}

/// The most posts an account pins, as in Mastodon.
pub const MAX_PINS: i64 = 5;

/// Pins one of the author's own posts to its profile and tells followers
/// (Add to the featured collection).
pub async fn pin(state: &AppState, author: &Actor, post: &Post) -> Result<()> {
    set_pinned(state, author, post, true).await
}

pub async fn unpin(state: &AppState, author: &Actor, post: &Post) -> Result<()> {
    set_pinned(state, author, post, false).await
}

async fn set_pinned(state: &AppState, author: &Actor, post: &Post, pinned: bool) -> Result<()> {
    if post.author_id != author.id || !author.is_local() {
        return Err(Error::Forbidden("only the author may pin a post".into()));
    }
    if post.deleted_at.is_some() || post.reblog_of_id.is_some() {
        return Err(Error::NotFound);
    }
    if pinned && post.visibility == Visibility::Direct {
        return Err(Error::Validation(
            "mentioned-only posts cannot be pinned".into(),
        ));
    }
    let mut tx = state.db.begin().await?;
    let changed = if pinned {
        if db::pins::count(&mut *tx, author.id).await? >= MAX_PINS {
            return Err(Error::Validation(format!(
                "at most {MAX_PINS} posts can be pinned"
            )));
        }
        db::pins::pin(&mut *tx, author.id, post.id, state.clock.now()).await?
    } else {
        db::pins::unpin(&mut *tx, author.id, post.id).await?
    };
    if changed && db::users::is_federating(&mut *tx, author.id).await? {
        let featured = author.featured_url.clone().unwrap_or_default();
        let id = crate::federation::activities::new_id(&state.urls);
        let activity = if pinned {
            crate::federation::activities::add(&id, &author.ap_id, &post.ap_id, &featured)
        } else {
            crate::federation::activities::remove(&id, &author.ap_id, &post.ap_id, &featured)
        };
        let audience = outbox::Audience::followers_and(Vec::new());
        outbox::queue_to(&mut tx, state, author.id, &activity, audience).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The author's pinned posts that anyone may read.
pub async fn pinned(state: &AppState, author: &Actor) -> Result<Vec<Post>> {
    Ok(db::pins::public_pins(&state.db, author.id).await?)
}

/// How a post appears in its author's outbox: Create of the Note, or
/// Announce of the reposted post.
pub async fn outbox_item(
    state: &AppState,
    author: &Actor,
    post: &Post,
) -> Result<serde_json::Value> {
    if let Some(original) = post.reblog_of_id {
        let original = db::posts::find_by_id(&state.db, original)
            .await?
            .ok_or(Error::NotFound)?;
        let original_author = db::actors::find_by_id(&state.db, original.author_id)
            .await?
            .ok_or(Error::NotFound)?;
        return Ok(crate::federation::activities::announce(
            &post.ap_id,
            &author.ap_id,
            &original.ap_id,
            &original_author.ap_id,
            author.followers_url.as_deref(),
            &post
                .published
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        ));
    }
    let parts = note_parts(state, post).await?;
    Ok(note::create(post, author, &parts))
}

/// The custom emoji a post uses.
pub async fn emojis(state: &AppState, post: &Post) -> Result<Vec<(String, String)>> {
    Ok(db::media::emojis(&state.db, post.id).await?)
}

/// The media attached to a post.
pub async fn attachments(state: &AppState, post: &Post) -> Result<Vec<db::media::Attachment>> {
    Ok(db::media::attachments(&state.db, post.id).await?)
}

/// Queues an Update of a local post as it stands now (a poll's counts, a
/// quote's approval), to its audience and the servers of remote voters.
pub async fn queue_update(tx: &mut PgConnection, state: &AppState, post: &Post) -> Result<()> {
    let Some(author) = db::actors::find_by_id(&mut *tx, post.author_id).await? else {
        return Ok(());
    };
    if !author.is_local() || !db::users::is_federating(&mut *tx, author.id).await? {
        return Ok(());
    }
    let mentioned = db::posts::mentions(&mut *tx, post.id).await?;
    let tags = db::posts::tags(&mut *tx, post.id).await?;
    let poll = db::polls::find(&mut *tx, post.id).await?;
    let attachments = db::media::attachments(&mut *tx, post.id).await?;
    let mut parts = parts_for(state, post, &mentioned, &tags, poll, attachments);
    parts.emojis = emoji_tags(tx, state, post).await?;
    let activity = note::update(
        &crate::federation::activities::new_id(&state.urls),
        post,
        &author,
        &parts,
    );
    let mut audience = audience(tx, post, &mentioned).await?;
    audience
        .inboxes
        .extend(db::polls::voter_inboxes(&mut *tx, post.id).await?);
    outbox::queue_to(tx, state, author.id, &activity, audience).await?;
    Ok(())
}
