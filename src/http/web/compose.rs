//! The composer: a post with an optional content warning, visibility and
//! reply control, up to four images with their alt text (or one video or
//! audio file), a poll, as a reply or a quote, and the posts that follow it
//! in a thread (each a reply to the one before, written at once). The form
//! is the same on the home page (collapsed to "Start a thread…"), the
//! reply box of a post page and `/compose` (quotes, and the page shown
//! again with what was typed when a post is refused).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::Deserialize;

use super::cards::{self, PostCard};
use super::{Chrome, SignedIn, WebResult, render, render_with, see_other};
use crate::domain::interaction::ReplyPolicy;
use crate::domain::visibility::Visibility;
use crate::error::Error;
use crate::http::api::params::WithFiles;
use crate::http::api::statuses::visible_post;
use crate::ratelimit;
use crate::service::posts::draft;
use crate::service::types::{Actor, Post, User};
use crate::service::{compose, custom_emoji, media, posts};
use crate::state::AppState;

/// The composer form's state.
#[derive(Debug, Clone)]
pub struct Composer {
    pub text: String,
    pub spoiler: String,
    pub media_description: String,
    /// (value, label, selected)
    pub visibilities: Vec<(&'static str, &'static str, bool)>,
    /// Who may reply: (value, label, selected).
    pub reply_policies: Vec<(&'static str, &'static str, bool)>,
    pub in_reply_to_id: String,
    pub quote_id: String,
    /// The post being edited (its text, warning and media are changed; its
    /// audience and reply rule stay).
    pub edit_id: String,
    /// Editing a public or unlisted post: whether its link preview is
    /// shown (unticking the box removes it).
    pub link_preview: Option<bool>,
    /// Whom a reply answers, as a handle.
    pub replying_to: Option<String>,
    pub error: Option<String>,
    pub placeholder: &'static str,
    pub submit_label: &'static str,
    pub autofocus: bool,
    /// The instance's custom emoji the picker offers: (shortcode, image).
    pub emojis: Vec<(String, String)>,
    /// Where the browser returns after posting (the feed the composer is
    /// on, where the new post shows on top); empty: the post's page.
    pub back: String,
    /// Shown closed, as "Start a thread…" (the home page).
    pub collapsed: bool,
    /// The attachment slots: (index, alt text typed).
    pub media_slots: Vec<(usize, String)>,
    /// The posts that follow in the thread, as typed (empty slots
    /// included); none offered when editing or quoting.
    pub thread: Vec<String>,
    /// The poll's options as typed (`POLL_SLOTS` of them).
    pub poll_options: Vec<String>,
    pub poll_multiple: bool,
    /// (seconds, label, selected)
    pub poll_durations: Vec<(i64, &'static str, bool)>,
}

/// Most attachments of a post (Mastodon's: four images, or one video or
/// audio file).
pub const MEDIA_SLOTS: usize = 4;
/// Posts following the first one that the form offers without JavaScript
/// (the script adds more, up to `MAX_THREAD` in all).
pub const THREAD_SLOTS: usize = 2;
/// Most posts written at once as a thread.
pub const MAX_THREAD: usize = 10;
/// Options the form offers for a poll (Mastodon's most).
pub const POLL_SLOTS: usize = crate::service::posts::MAX_POLL_OPTIONS;

const POLL_DURATIONS: [(i64, &str); 7] = [
    (300, "5 minutes"),
    (1800, "30 minutes"),
    (3600, "1 hour"),
    (21_600, "6 hours"),
    (86_400, "1 day"),
    (259_200, "3 days"),
    (604_800, "7 days"),
];
const DEFAULT_POLL_DURATION: i64 = 86_400;

const REPLY_POLICIES: [(ReplyPolicy, &str); 3] = [
    (ReplyPolicy::Everyone, "Replies: anyone"),
    (ReplyPolicy::Following, "Replies: accounts you follow"),
    (ReplyPolicy::Mentioned, "Replies: mentioned only"),
];

const VISIBILITIES: [(Visibility, &str); 4] = [
    (Visibility::Public, "Public"),
    (Visibility::Unlisted, "Quiet public"),
    (Visibility::Private, "Followers only"),
    (Visibility::Direct, "Mentioned only"),
];

fn rank(v: Visibility) -> usize {
    VISIBILITIES.iter().position(|(x, _)| *x == v).unwrap_or(0)
}

impl Composer {
    /// A new post, with the user's default visibility.
    pub fn new(user: &User) -> Composer {
        let visibility = user.default_visibility;
        Composer {
            text: String::new(),
            spoiler: String::new(),
            media_description: String::new(),
            visibilities: Vec::new(),
            reply_policies: Vec::new(),
            in_reply_to_id: String::new(),
            quote_id: String::new(),
            edit_id: String::new(),
            link_preview: None,
            replying_to: None,
            error: None,
            placeholder: "What's new?",
            submit_label: "Post",
            autofocus: false,
            emojis: Vec::new(),
            back: String::new(),
            collapsed: false,
            media_slots: (0..MEDIA_SLOTS).map(|i| (i, String::new())).collect(),
            thread: vec![String::new(); THREAD_SLOTS],
            poll_options: vec![String::new(); POLL_SLOTS],
            poll_multiple: false,
            poll_durations: Vec::new(),
        }
        .with_visibility(visibility)
        .with_reply_policy(ReplyPolicy::Everyone)
        .with_poll_duration(DEFAULT_POLL_DURATION)
    }

    /// The home page's composer: closed until opened, back to `feed` after
    /// posting.
    pub fn on_feed(user: &User, feed: &str) -> Composer {
        let mut composer = Composer::new(user);
        composer.collapsed = true;
        composer.placeholder = "Start a thread…";
        composer.back = feed.to_string();
        composer
    }

    fn with_poll_duration(mut self, seconds: i64) -> Composer {
        self.poll_durations = POLL_DURATIONS
            .iter()
            .map(|(s, label)| (*s, *label, *s == seconds))
            .collect();
        self
    }

    /// Whether the form offers media and a poll (not when editing).
    pub fn full(&self) -> bool {
        self.edit_id.is_empty()
    }

    /// Whether an option of the poll was typed (the poll's part opens).
    pub fn poll_typed(&self) -> bool {
        self.poll_options.iter().any(|o| !o.trim().is_empty())
    }

    /// Most posts of a thread written at once, for the script.
    pub fn thread_max(&self) -> usize {
        MAX_THREAD
    }

    /// The longest poll option.
    pub fn poll_option_max(&self) -> usize {
        crate::service::posts::MAX_POLL_OPTION_CHARS
    }

    fn with_reply_policy(mut self, selected: ReplyPolicy) -> Composer {
        self.reply_policies = REPLY_POLICIES
            .iter()
            .map(|(p, label)| (p.as_str(), *label, *p == selected))
            .collect();
        self
    }

    fn with_visibility(mut self, selected: Visibility) -> Composer {
        self.visibilities = VISIBILITIES
            .iter()
            .map(|(v, label)| (v.as_str(), *label, *v == selected))
            .collect();
        self
    }

    /// A reply to `parent`: addressed to its author, and no more visible
    /// than the parent or the user's default, as Mastodon's composer does.
    pub fn reply(user: &User, viewer: &Actor, parent: &PostCard) -> Composer {
        let default = user.default_visibility;
        let parents = Visibility::parse(&parent.visibility).unwrap_or(Visibility::Public);
        let visibility = if rank(parents) > rank(default) {
            parents
        } else {
            default
        };
        let mut composer = Composer::new(user).with_visibility(visibility);
        composer.in_reply_to_id = parent.id.clone();
        composer.replying_to = Some(parent.author.handle.clone());
        if parent.author.acct != viewer.username {
            composer.text = format!("@{} ", parent.author.acct);
        }
        composer.placeholder = "Reply…";
        composer.submit_label = "Reply";
        composer
    }

    /// An edit of one's own post, filled with what was written.
    pub fn edit(user: &User, post: &Post) -> Composer {
        let mut composer = Composer::new(user);
        composer.edit_id = post.id.to_string();
        composer.text = post.source.clone().unwrap_or_default();
        composer.spoiler = post.summary.clone();
        composer.placeholder = "Edit your post…";
        composer.submit_label = "Save";
        composer.autofocus = true;
        composer.thread.clear();
        composer
    }

    /// The composer with the emoji picker filled: the enabled custom emoji
    /// offered in the picker.
    pub async fn with_emojis(mut self, state: &AppState) -> Result<Composer, Error> {
        self.emojis = custom_emoji::enabled(state)
            .await?
            .into_iter()
            .filter(|e| e.visible_in_picker)
            .map(|e| {
                let (url, _) = custom_emoji::urls(state, &e);
                (e.shortcode, url)
            })
            .collect();
        Ok(self)
    }

    /// A quote of `quoted`.
    pub fn quote(user: &User, quoted: &PostCard) -> Composer {
        let mut composer = Composer::new(user);
        composer.quote_id = quoted.id.clone();
        composer.placeholder = "Say something about this post…";
        composer.autofocus = true;
        composer.thread.clear();
        composer
    }
}

#[derive(Template)]
#[template(path = "web/compose.html")]
struct ComposePage {
    chrome: Chrome,
    /// The post replied to or quoted.
    context: Vec<PostCard>,
    composer: Composer,
}

#[derive(Deserialize, Default)]
pub struct ComposeQuery {
    #[serde(default)]
    edit_id: String,
    #[serde(default)]
    quote_id: String,
    #[serde(default)]
    in_reply_to_id: String,
}

async fn context_card(state: &AppState, viewer: &Actor, raw: &str) -> WebResult<Option<PostCard>> {
    if raw.is_empty() {
        return Ok(None);
    }
    let post = visible_post(state, Some(viewer), raw).await?;
    Ok(cards::posts(state, Some(viewer), &[post], None)
        .await?
        .pop())
}

/// A post of the viewer's own, to edit.
async fn own_post(state: &AppState, viewer: &Actor, raw: &str) -> Result<Post, Error> {
    let post = visible_post(state, Some(viewer), raw).await?;
    if post.author_id != viewer.id || post.reblog_of_id.is_some() {
        return Err(Error::Forbidden("only the author may edit a post".into()));
    }
    Ok(post)
}

/// `GET /compose`: the composer alone, quoting or replying to a post, or
/// editing one (`edit_id`).
pub async fn page(
    State(state): State<AppState>,
    me: SignedIn,
    Query(q): Query<ComposeQuery>,
) -> WebResult {
    let viewer = me.actor();
    if !q.edit_id.is_empty() {
        let post = own_post(&state, viewer, &q.edit_id).await?;
        let mut composer = Composer::edit(me.user(), &post).with_emojis(&state).await?;
        composer.link_preview = preview_choice(&state, &post).await?;
        return render(&ComposePage {
            chrome: me.chrome,
            context: Vec::new(),
            composer,
        });
    }
    let (composer, context) =
        if let Some(parent) = context_card(&state, viewer, &q.in_reply_to_id).await? {
            (Composer::reply(me.user(), viewer, &parent), Some(parent))
        } else if let Some(quoted) = context_card(&state, viewer, &q.quote_id).await? {
            (Composer::quote(me.user(), &quoted), Some(quoted))
        } else {
            let mut composer = Composer::new(me.user());
            composer.autofocus = true;
            (composer, None)
        };
    let composer = composer.with_emojis(&state).await?;
    render(&ComposePage {
        chrome: me.chrome,
        context: context.into_iter().collect(),
        composer,
    })
}

#[derive(Deserialize, Default)]
pub struct ComposeForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    spoiler: String,
    #[serde(default)]
    visibility: String,
    #[serde(default)]
    in_reply_to_id: String,
    #[serde(default)]
    quote_id: String,
    #[serde(default)]
    media_description: String,
    #[serde(default)]
    reply_policy: String,
    #[serde(default)]
    edit_id: String,
    /// The edit form offered the link preview box (`link_preview` is
    /// absent when it is unticked).
    #[serde(default)]
    link_preview_offered: String,
    #[serde(default)]
    link_preview: String,
    /// A button of the emoji picker: the shortcode to add to the text,
    /// the post not being sent yet.
    #[serde(default)]
    insert_emoji: String,
    /// Where to go after posting (a path on this site); empty: the post.
    #[serde(default)]
    back: String,
    /// The posts that follow in the thread (`thread[]`), empty ones left
    /// out.
    #[serde(default)]
    thread: Vec<String>,
    /// The poll's options (`poll[]`), empty ones left out; none: no poll.
    #[serde(default)]
    poll: Vec<String>,
    #[serde(default)]
    poll_expires_in: String,
    #[serde(default)]
    poll_multiple: String,
    #[serde(default)]
    media_description_1: String,
    #[serde(default)]
    media_description_2: String,
    #[serde(default)]
    media_description_3: String,
}

impl ComposeForm {
    /// The alt text typed for attachment slot `i`.
    fn description(&self, i: usize) -> &str {
        match i {
            0 => &self.media_description,
            1 => &self.media_description_1,
            2 => &self.media_description_2,
            _ => &self.media_description_3,
        }
    }

    /// The thread's following posts, trimmed, empty ones left out.
    fn following(&self) -> Vec<&str> {
        self.thread
            .iter()
            .map(|t| t.trim())
            .filter(|t| !t.is_empty())
            .collect()
    }
}

/// The form field of attachment slot `i`'s file.
fn media_field(i: usize) -> String {
    if i == 0 {
        "media".into()
    } else {
        format!("media_{i}")
    }
}

/// `POST /compose`: writes the post and shows it (a reply: in its thread).
/// A refused post comes back in the composer with the reason.
pub async fn submit(
    State(state): State<AppState>,
    me: SignedIn,
    form: Result<WithFiles<ComposeForm>, Error>,
) -> WebResult {
    let WithFiles {
        params: form,
        files,
    } = form?;
    me.check(&form.csrf_token)?;
    let uploads: Vec<(usize, bytes::Bytes)> = (0..MEDIA_SLOTS)
        .filter_map(|i| {
            files
                .get(&media_field(i))
                .filter(|bytes| !bytes.is_empty())
                .map(|bytes| (i, bytes.clone()))
        })
        .collect();
    if !form.insert_emoji.is_empty() {
        return insert_emoji(&state, me, form).await;
    }
    if !form.edit_id.is_empty() {
        return match edit(&state, &me, &form).await {
            Ok(post) => Ok(see_other(&post_path(&state, &post).await?)),
            Err(e) if e.status().is_client_error() => {
                let post = own_post(&state, me.actor(), &form.edit_id).await?;
                let mut composer = Composer::edit(me.user(), &post).with_emojis(&state).await?;
                composer.link_preview = preview_choice(&state, &post).await?;
                composer.text = form.text;
                composer.spoiler = form.spoiler;
                composer.error = Some(e.public_message());
                render_with(
                    e.status(),
                    &ComposePage {
                        chrome: me.chrome,
                        context: Vec::new(),
                        composer,
                    },
                )
            }
            Err(e) => Err(e.into()),
        };
    }
    match write(&state, &me, &form, uploads).await {
        Ok((post, parent)) => {
            let back = super::local_path(&form.back, "");
            let to = if !back.is_empty() && parent.is_none() {
                feed_with(back, post.id)
            } else {
                match parent {
                    Some(parent) => {
                        format!("{}#post-{}", post_path(&state, &parent).await?, post.id)
                    }
                    None => post_path(&state, &post).await?,
                }
            };
            Ok(see_other(&to))
        }
        Err(e) if e.status().is_client_error() => {
            let viewer = me.actor();
            let parent = context_card(&state, viewer, &form.in_reply_to_id)
                .await
                .ok()
                .flatten();
            let quoted = context_card(&state, viewer, &form.quote_id)
                .await
                .ok()
                .flatten();
            let mut composer = match (&parent, &quoted) {
                (Some(p), _) => Composer::reply(me.user(), viewer, p),
                (None, Some(q)) => Composer::quote(me.user(), q),
                (None, None) => Composer::new(me.user()),
            };
            if let Some(v) = Visibility::parse(&form.visibility) {
                composer = composer.with_visibility(v);
            }
            if let Some(p) = ReplyPolicy::parse(&form.reply_policy) {
                composer = composer.with_reply_policy(p);
            }
            composer.back = super::local_path(&form.back, "").to_string();
            composer.collapsed = false;
            composer.media_slots = (0..MEDIA_SLOTS)
                .map(|i| (i, form.description(i).to_string()))
                .collect();
            let mut thread: Vec<String> =
                form.following().into_iter().map(str::to_string).collect();
            thread.resize(thread.len().max(THREAD_SLOTS), String::new());
            if !composer.thread.is_empty() {
                composer.thread = thread;
            }
            let mut options = form.poll.clone();
            options.resize(POLL_SLOTS.max(options.len()), String::new());
            options.truncate(POLL_SLOTS);
            composer.poll_options = options;
            composer.poll_multiple = super::checked(&Some(form.poll_multiple.clone()));
            if let Ok(seconds) = form.poll_expires_in.parse::<i64>() {
                composer = composer.with_poll_duration(seconds);
            }
            composer.text = form.text;
            composer.spoiler = form.spoiler;
            composer.media_description = form.media_description;
            composer = composer.with_emojis(&state).await?;
            composer.error = Some(match &e {
                Error::NotFound => "The post you answer or quote is not there any more.".into(),
                _ => e.public_message(),
            });
            let status = if e.status() == StatusCode::NOT_FOUND {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                e.status()
            };
            render_with(
                status,
                &ComposePage {
                    chrome: me.chrome,
                    context: parent.or(quoted).into_iter().collect(),
                    composer,
                },
            )
        }
        Err(e) => Err(e.into()),
    }
}

/// The emoji picker's button without script: the composer comes back as
/// it was sent, with `:shortcode:` added to its text (an attached file
/// must be chosen again).
async fn insert_emoji(state: &AppState, me: SignedIn, form: ComposeForm) -> WebResult {
    let viewer = me.actor();
    let code = form.insert_emoji.trim_matches(':');
    if !crate::domain::emoji::is_shortcode(code) {
        return Err(Error::Validation("Not an emoji".into()).into());
    }
    let mut text = form.text.clone();
    if !text.is_empty() && !text.ends_with(char::is_whitespace) {
        text.push(' ');
    }
    text.push_str(&format!(":{code}: "));
    let mut context = Vec::new();
    let mut composer = if !form.edit_id.is_empty() {
        let post = own_post(state, viewer, &form.edit_id).await?;
        let mut composer = Composer::edit(me.user(), &post);
        composer.link_preview = preview_choice(state, &post).await?;
        composer
    } else {
        let parent = context_card(state, viewer, &form.in_reply_to_id).await?;
        let quoted = context_card(state, viewer, &form.quote_id).await?;
        let mut composer = match (&parent, &quoted) {
            (Some(p), _) => Composer::reply(me.user(), viewer, p),
            (None, Some(q)) => Composer::quote(me.user(), q),
            (None, None) => Composer::new(me.user()),
        };
        if let Some(v) = Visibility::parse(&form.visibility) {
            composer = composer.with_visibility(v);
        }
        if let Some(p) = ReplyPolicy::parse(&form.reply_policy) {
            composer = composer.with_reply_policy(p);
        }
        composer.media_description = form.media_description;
        context.extend(parent.or(quoted));
        composer
    }
    .with_emojis(state)
    .await?;
    composer.text = text;
    composer.spoiler = form.spoiler;
    composer.autofocus = true;
    render(&ComposePage {
        chrome: me.chrome,
        context,
        composer,
    })
}

/// The web page of a post, local or remote.
pub async fn post_path(state: &AppState, post: &Post) -> Result<String, Error> {
    let author = crate::service::profiles::author_of(&state.db, post).await?;
    let acct = match &author.domain {
        None => author.username.clone(),
        Some(host) => format!("{}@{host}", author.username),
    };
    Ok(format!("/@{acct}/{}", post.id))
}

/// Saves an edit of one's own post: the text and warning change; media,
/// audience and reply rule stay.
async fn edit(state: &AppState, me: &SignedIn, form: &ComposeForm) -> Result<Post, Error> {
    let author = me.actor();
    let post = own_post(state, author, &form.edit_id).await?;
    let draft = posts::Draft {
        text: &form.text,
        spoiler: form.spoiler.trim(),
        // Media marked sensitive stay so; a warning's mark follows the warning.
        sensitive: post.sensitive && post.summary.is_empty(),
        language: post.language.as_deref(),
        visibility: post.visibility,
        in_reply_to: None,
        poll: None,
        quote_of: None,
        quote_policy: post.quote_policy,
        reply_policy: post.reply_policy,
        media_ids: None,
        media_attributes: &[],
    };
    let edited = posts::edit(state, author, &post, draft).await?;
    if !form.link_preview_offered.is_empty() {
        if form.link_preview.is_empty() {
            crate::service::cards::remove(state, author, &edited).await?;
        } else {
            crate::service::cards::restore(state, author, &edited).await?;
        }
    }
    Ok(edited)
}

/// What the edit form's link preview box shows for `post`: None for a post
/// that gets no preview (followers only, mentioned only).
async fn preview_choice(state: &AppState, post: &Post) -> Result<Option<bool>, Error> {
    if !crate::service::cards::eligible(post) {
        return Ok(None);
    }
    Ok(Some(!crate::service::cards::removed(state, post).await?))
}

/// `feed` (a path on this site) with the new post's id, so that the feed
/// shows it on top, and scrolled to it.
fn feed_with(feed: &str, id: i64) -> String {
    let (path, _) = feed.split_once('#').unwrap_or((feed, ""));
    let separator = if path.contains('?') { '&' } else { '?' };
    format!("{path}{separator}posted={id}#post-{id}")
}

/// The poll the form describes, if any option was typed.
fn poll_of(form: &ComposeForm) -> Result<Option<posts::PollDraft>, Error> {
    let options: Vec<String> = form
        .poll
        .iter()
        .map(|o| o.trim().to_string())
        .filter(|o| !o.is_empty())
        .collect();
    if options.is_empty() {
        return Ok(None);
    }
    let seconds = match form.poll_expires_in.trim() {
        "" => DEFAULT_POLL_DURATION,
        raw => raw
            .parse::<i64>()
            .map_err(|_| Error::Validation("the poll's duration is not a number".into()))?,
    };
    Ok(Some(posts::PollDraft {
        options,
        multiple: super::checked(&Some(form.poll_multiple.clone())),
        expires_in: chrono::Duration::seconds(seconds),
    }))
}

/// Refuses a thread whose following posts would be refused, before anything
/// is written: a thread is written whole or not at all (as far as the
/// checks made here go).
fn check_thread(state: &AppState, form: &ComposeForm) -> Result<(), Error> {
    let following = form.following();
    if following.len() + 1 > MAX_THREAD {
        return Err(Error::Validation(format!(
            "a thread written at once has at most {MAX_THREAD} posts"
        )));
    }
    if !following.is_empty() && (!form.edit_id.is_empty() || !form.quote_id.is_empty()) {
        return Err(Error::Validation(
            "a thread cannot follow an edit or a quote".into(),
        ));
    }
    let limit = state.config.posts.max_characters;
    let spoiler = form.spoiler.trim().chars().count();
    for (i, text) in following.iter().enumerate() {
        let length = crate::domain::text::count_characters(text) + spoiler;
        if length > limit {
            return Err(Error::Validation(format!(
                "post {} of the thread has {length} characters; a post has at most {limit}",
                i + 2
            )));
        }
    }
    Ok(())
}

/// Uploads the media, if any, and writes the post, then the posts that
/// follow it in the thread, each a reply to the one before (same audience,
/// reply control and content warning); the first post and the one it
/// answers.
async fn write(
    state: &AppState,
    me: &SignedIn,
    form: &ComposeForm,
    uploads: Vec<(usize, bytes::Bytes)>,
) -> Result<(Post, Option<Post>), Error> {
    let (user, author) = (me.user(), me.actor());
    let reply_policy = draft::reply_policy(&form.reply_policy)?;
    let parent = match form.in_reply_to_id.as_str() {
        "" => None,
        raw => Some(visible_post(state, Some(author), raw).await?),
    };
    let quoted = match form.quote_id.as_str() {
        "" => None,
        raw => Some(visible_post(state, Some(author), raw).await?),
    };
    // Checked before the upload, so that a bad choice stores no file.
    draft::visibility(user, Some(&form.visibility))?;
    check_thread(state, form)?;
    let poll = poll_of(form)?;
    if poll.is_some() && !uploads.is_empty() {
        return Err(Error::Validation(
            "a post has either media or a poll, not both".into(),
        ));
    }
    let mut media_ids = Vec::new();
    let mut timed = false;
    for (slot, bytes) in uploads {
        if !state
            .limits
            .hit(ratelimit::MEDIA, &author.id.to_string())
            .await?
            .allowed
        {
            return Err(Error::TooManyRequests);
        }
        let description = Some(form.description(slot).trim()).filter(|d| !d.is_empty());
        let mut uploaded = media::upload(state, author, bytes, description, None).await?;
        // As on Mastodon: images, or one video or audio file alone.
        if uploaded.kind != "image" {
            timed = true;
        }
        if timed && !media_ids.is_empty() {
            return Err(Error::Validation(
                "a post has up to four images, or one video or audio file alone".into(),
            ));
        }
        // Video and audio are transcoded before the post is written, in
        // this request (clients of the API poll instead).
        if uploaded.state == crate::domain::media::UploadState::Processing {
            uploaded = media::wait_until_processed(state, author, uploaded.id).await?;
        }
        media_ids.push(uploaded.id);
    }
    let draft = draft::new_post(
        user,
        draft::Request {
            text: &form.text,
            spoiler: &form.spoiler,
            visibility: Some(&form.visibility),
            reply_policy,
            in_reply_to: parent.as_ref(),
            quote_of: quoted.as_ref(),
            poll,
            media_ids: &media_ids,
            ..Default::default()
        },
    )?;
    let first = compose::create(state, user, author, draft, None, None).await?;
    let mut previous = first.clone();
    for text in form.following() {
        let draft = draft::new_post(
            user,
            draft::Request {
                text,
                spoiler: &form.spoiler,
                visibility: Some(previous.visibility.as_str()),
                reply_policy,
                in_reply_to: Some(&previous),
                ..Default::default()
            },
        )?;
        previous = compose::create(state, user, author, draft, None, None).await?;
    }
    Ok((first, parent))
}
