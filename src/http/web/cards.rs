//! What the templates show of accounts and posts, made from the client
//! API's entities (`mastodon::Presenter` reads a page of them in batches,
//! with the viewer's flags, reposts and quotes). Links point to this site's
//! pages (`/@acct`, `/@acct/id`) for local and remote accounts alike; links
//! taken from remote data are kept only when they are http(s).

use chrono::{DateTime, Datelike, Utc};

use crate::domain::filters::Context as FilterContext;
use crate::domain::interaction::ReplyPolicy;
use crate::error::Result;
use crate::federation::html;
use crate::mastodon::Presenter;
use crate::mastodon::entities as e;
use crate::service::types::{Actor, Post};
use crate::state::AppState;

/// An account as a post card or a list shows it.
#[derive(Debug, Clone)]
pub struct AccountView {
    pub id: String,
    pub display_name: String,
    /// The display name as HTML: escaped, with the account's custom emoji
    /// as images (alt text `:shortcode:`).
    pub name_html: String,
    /// `user` (local) or `user@host`.
    pub acct: String,
    /// `@user@host`, with this instance's host for local accounts.
    pub handle: String,
    /// The account's page here.
    pub href: String,
    pub avatar: String,
    pub header: String,
    pub locked: bool,
    pub bot: bool,
    /// Sanitised HTML.
    pub note: String,
    /// The profile on its own server, for remote accounts.
    pub remote_url: Option<String>,
    pub posts: i64,
    pub followers: i64,
    pub following: i64,
    /// A link of its profile is verified (rel=me): the Activity page's
    /// "Verified" tab.
    pub verified: bool,
}

/// A picture or other media of a post.
#[derive(Debug, Clone)]
pub struct MediaView {
    pub kind: String,
    pub url: String,
    pub preview: String,
    pub alt: String,
    /// The preview's size in pixels (0 when unknown), so that the page
    /// keeps its place while the picture loads.
    pub width: u64,
    pub height: u64,
}

/// A picture's size from an attachment's `meta` (its preview's, else the
/// original's): (width, height), zeros when unknown.
fn media_size(meta: &serde_json::Value) -> (u64, u64) {
    for which in ["small", "original"] {
        let size = &meta[which];
        if let (Some(w), Some(h)) = (size["width"].as_u64(), size["height"].as_u64())
            && w > 0
            && h > 0
        {
            return (w, h);
        }
    }
    (0, 0)
}

/// A post's link preview, as Threads shows it: the picture on top, the
/// site's domain and the page's title.
#[derive(Debug, Clone)]
pub struct LinkCardView {
    /// The page (http(s) only).
    pub url: String,
    pub title: String,
    /// The page's host, without `www.`.
    pub domain: String,
    /// The picture, served by this instance; its size and alt text.
    pub image: Option<String>,
    pub image_width: i32,
    pub image_height: i32,
    pub image_alt: String,
}

/// A post as every timeline shows it.
#[derive(Debug, Clone)]
pub struct PostCard {
    pub id: String,
    /// The post's page here.
    pub href: String,
    pub author: AccountView,
    /// Who reposted it, when it came as a repost.
    pub reposted_by: Option<AccountView>,
    pub published_iso: String,
    /// "now", "5m", "3h", "2d", "Mar 5", "Mar 5, 2024".
    pub published_ago: String,
    pub published_title: String,
    pub edited: bool,
    pub visibility: String,
    pub visibility_label: &'static str,
    /// The content warning (plain text), empty for none.
    pub spoiler: String,
    /// Sanitised HTML.
    pub content: String,
    /// The content as plain text, for titles and link previews.
    pub text: String,
    pub sensitive: bool,
    pub media: Vec<MediaView>,
    /// Options of a poll and their votes.
    pub poll: Vec<(String, i64)>,
    /// More than one option may be chosen.
    pub poll_multiple: bool,
    /// The viewer may vote (signed in, not voted yet, the poll open).
    pub poll_open: bool,
    /// "3 votes · ends in 2d", "12 votes · closed".
    pub poll_summary: String,
    /// The viewer wrote it (and may edit or delete it).
    pub own: bool,
    pub replies: i64,
    pub reposts: i64,
    pub likes: i64,
    pub liked: bool,
    pub reposted: bool,
    pub bookmarked: bool,
    /// Public and unlisted posts can be reposted.
    pub can_repost: bool,
    /// The post replied to: the handle of its author and its page.
    pub reply_to: Option<(String, String)>,
    pub quote: Option<Box<PostCard>>,
    /// Why a quoted post is not shown.
    pub quote_note: Option<&'static str>,
    /// The post on its own server, for remote posts.
    pub remote_url: Option<String>,
    /// The link preview (shown inside the content warning).
    pub card: Option<LinkCardView>,
    /// How far below the thread's post a reply is (thread pages).
    pub depth: usize,
    /// A line joins it to the next post (a thread above the post shown).
    pub line: bool,
    /// The post a thread page is about.
    pub focus: bool,
    /// Who may reply, when not everyone ("Only mentioned accounts can reply").
    pub reply_rule: Option<&'static str>,
    /// Hidden from the thread by the author of the post it answers.
    pub hidden: bool,
    /// The viewer wrote the post this answers and may hide or show it.
    pub can_hide: bool,
}

/// The name shown for an account: its display name, or its username.
/// Sanitised HTML as plain text, for link previews, titles and form
/// values: tags dropped, paragraphs and line breaks as newlines, character
/// references decoded.
pub fn text_of(html: &str) -> String {
    crate::domain::filters::html_to_text(html)
        .trim()
        .to_string()
}

/// The start of a text, as link previews show it.
pub fn excerpt(text: &str) -> String {
    const PREVIEW: usize = 200;
    if text.chars().count() <= PREVIEW {
        return text.to_string();
    }
    text.chars().take(PREVIEW - 1).collect::<String>() + "…"
}

/// The name a page shows: the display name without what could reorder or
/// hide the text around it (names stored before that rule included), or
/// the username when nothing is left.
pub fn display_name(display_name: &str, username: &str) -> String {
    let shown = crate::domain::names::visible_text(display_name);
    if shown.trim().is_empty() {
        username.to_string()
    } else {
        shown.trim().to_string()
    }
}

/// A link from remote data, kept when it is http(s).
pub fn web_url(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    matches!(parsed.scheme(), "http" | "https").then(|| url.to_string())
}

/// Turns entities into cards as of one moment.
pub struct Cards {
    now: DateTime<Utc>,
    domain: String,
}

impl Cards {
    pub fn new(state: &AppState) -> Cards {
        Cards {
            now: state.clock.now(),
            domain: state.urls.domain(),
        }
    }

    pub fn account(&self, a: &e::Account) -> AccountView {
        let handle = if a.acct.contains('@') {
            format!("@{}", a.acct)
        } else {
            format!("@{}@{}", a.acct, self.domain)
        };
        let emojis: Vec<(String, String)> = a
            .emojis
            .iter()
            .map(|e| (e.shortcode.clone(), e.url.clone()))
            .collect();
        let name = display_name(&a.display_name, &a.username);
        AccountView {
            id: a.id.clone(),
            name_html: html::emojify(&html::escape(&name), &emojis),
            display_name: name,
            acct: a.acct.clone(),
            handle,
            href: format!("/@{}", a.acct),
            avatar: a.avatar.clone(),
            header: a.header.clone(),
            locked: a.locked,
            bot: a.bot,
            note: html::emojify(&a.note, &emojis),
            remote_url: a.acct.contains('@').then(|| web_url(&a.url)).flatten(),
            posts: a.statuses_count,
            followers: a.followers_count,
            following: a.following_count,
            verified: a.fields.iter().any(|f| f.verified_at.is_some()),
        }
    }

    /// A status as a card; a repost shows the reposted post, saying who
    /// reposted it.
    pub fn post(&self, status: &e::Status) -> PostCard {
        match &status.reblog {
            Some(original) => PostCard {
                reposted_by: Some(self.account(&status.account)),
                ..self.post(original)
            },
            None => self.proper(status),
        }
    }

    fn proper(&self, s: &e::Status) -> PostCard {
        let author = self.account(&s.account);
        let published = DateTime::parse_from_rfc3339(&s.created_at)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or(self.now);
        let reply_to = s.in_reply_to_id.as_ref().and_then(|parent| {
            let parent_author = s.in_reply_to_account_id.as_deref()?;
            let acct = if parent_author == s.account.id {
                s.account.acct.clone()
            } else {
                s.mentions
                    .iter()
                    .find(|m| m.id == parent_author)?
                    .acct
                    .clone()
            };
            let href = format!("/@{acct}/{parent}");
            Some((acct, href))
        });
        let (quote, quote_note) = match &s.quote {
            None => (None, None),
            Some(q) => match (&q.quoted_status, q.state.as_str()) {
                (Some(quoted), _) => (Some(Box::new(self.proper(quoted))), None),
                (None, "pending") => (None, Some("The quoted post awaits its author's approval.")),
                (None, "rejected") => (None, Some("The quoted post's author declined the quote.")),
                (None, "deleted") => (None, Some("The quoted post was deleted.")),
                (None, _) => (None, Some("You may not see the quoted post.")),
            },
        };
        let emojis: Vec<(String, String)> = s
            .emojis
            .iter()
            .map(|e| (e.shortcode.clone(), e.url.clone()))
            .collect();
        PostCard {
            id: s.id.clone(),
            href: format!("/@{}/{}", s.account.acct, s.id),
            reposted_by: None,
            published_iso: published.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            published_ago: ago(self.now, published),
            published_title: published.format("%Y-%m-%d %H:%M UTC").to_string(),
            edited: s.edited_at.is_some(),
            visibility: s.visibility.clone(),
            visibility_label: visibility_label(&s.visibility),
            spoiler: s.spoiler_text.clone(),
            content: local_links(&html::emojify(&s.content, &emojis), &s.mentions),
            text: text_of(&s.content),
            sensitive: s.sensitive,
            media: s
                .media_attachments
                .iter()
                .filter_map(|m| {
                    let url = web_url(m.url.as_deref()?)?;
                    let (width, height) = media_size(&m.meta);
                    Some(MediaView {
                        width,
                        height,
                        kind: m.kind.clone(),
                        preview: m
                            .preview_url
                            .as_deref()
                            .and_then(web_url)
                            .unwrap_or_else(|| url.clone()),
                        url,
                        alt: m.description.clone().unwrap_or_default(),
                    })
                })
                .collect(),
            poll: s
                .poll
                .as_ref()
                .map(|p| {
                    p.options
                        .iter()
                        .map(|o| (o.title.clone(), o.votes_count.unwrap_or(0)))
                        .collect()
                })
                .unwrap_or_default(),
            poll_multiple: s.poll.as_ref().is_some_and(|p| p.multiple),
            poll_open: s
                .poll
                .as_ref()
                .is_some_and(|p| !p.expired && p.voted == Some(false)),
            poll_summary: s
                .poll
                .as_ref()
                .map(|p| self.poll_summary(p))
                .unwrap_or_default(),
            own: false,
            replies: s.replies_count,
            reposts: s.reblogs_count,
            likes: s.favourites_count,
            liked: s.favourited == Some(true),
            bookmarked: s.bookmarked == Some(true),
            reposted: s.reblogged == Some(true),
            can_repost: matches!(s.visibility.as_str(), "public" | "unlisted"),
            remote_url: author
                .remote_url
                .as_ref()
                .and(s.url.as_deref())
                .and_then(web_url),
            author,
            reply_to,
            quote,
            quote_note,
            card: s.card.as_ref().and_then(link_card),
            depth: 0,
            line: false,
            focus: false,
            reply_rule: reply_rule(&s.interaction_policy.can_reply),
            hidden: false,
            can_hide: false,
        }
    }
}

impl Cards {
    fn poll_summary(&self, poll: &e::Poll) -> String {
        let votes = poll.voters_count.unwrap_or(poll.votes_count);
        let counted = if votes == 1 {
            "1 vote".to_string()
        } else {
            format!("{votes} votes")
        };
        let end = poll
            .expires_at
            .as_deref()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc));
        match end {
            _ if poll.expired => format!("{counted} · closed"),
            Some(end) if end > self.now => {
                // Rounded to the nearest unit: times travel in whole seconds.
                let left = (end - self.now).num_seconds();
                let (minutes, hours) = ((left + 30) / 60, (left + 1800) / 3600);
                let when = if minutes < 60 {
                    format!("{}m", minutes.max(1))
                } else if hours < 24 {
                    format!("{hours}h")
                } else {
                    format!("{}d", (left + 43_200) / 86_400)
                };
                format!("{counted} · ends in {when}")
            }
            _ => counted,
        }
    }
}

/// Cards of posts as `viewer` sees them, in the order given; a `context`
/// applies the viewer's filters for it (hidden posts are left out).
pub async fn posts(
    state: &AppState,
    viewer: Option<&Actor>,
    posts: &[Post],
    context: Option<FilterContext>,
) -> Result<Vec<PostCard>> {
    let presenter = Presenter::new(state, viewer);
    let presenter = match context {
        Some(c) => presenter.in_context(c),
        None => presenter,
    };
    let statuses = presenter.statuses(posts).await?;
    Ok(post_cards(state, viewer, &statuses))
}

/// Cards of statuses already presented for `viewer`.
fn post_cards(state: &AppState, viewer: Option<&Actor>, statuses: &[e::Status]) -> Vec<PostCard> {
    let cards = Cards::new(state);
    let me = viewer.map(|v| v.id.to_string());
    statuses
        .iter()
        .map(|s| {
            let mut card = cards.post(s);
            let author = s.reblog.as_ref().map_or(&s.account.id, |r| &r.account.id);
            card.own = me.as_ref() == Some(author);
            card
        })
        .collect()
}

/// The cards of a thread, read in one batch (`Presenter::thread`): the
/// post itself unfiltered, the posts above and below it with the viewer's
/// filters of the thread context; as [`posts`] would show each part.
pub async fn thread(
    state: &AppState,
    viewer: Option<&Actor>,
    post: &Post,
    ancestors: &[Post],
    descendants: &[Post],
) -> Result<(Vec<PostCard>, Vec<PostCard>, Vec<PostCard>)> {
    let (focus, above, below) = Presenter::new(state, viewer)
        .in_context(FilterContext::Thread)
        .thread(post, ancestors, descendants)
        .await?;
    Ok((
        post_cards(state, viewer, &focus),
        post_cards(state, viewer, &above),
        post_cards(state, viewer, &below),
    ))
}

/// Account views of actors, in the order given.
pub async fn accounts(
    state: &AppState,
    viewer: Option<&Actor>,
    actors: &[Actor],
) -> Result<Vec<AccountView>> {
    let entities = Presenter::new(state, viewer).accounts(actors).await?;
    let cards = Cards::new(state);
    Ok(entities.iter().map(|a| cards.account(a)).collect())
}

/// A preview card as the page shows it; None for a link that is not
/// http(s).
fn link_card(card: &e::PreviewCard) -> Option<LinkCardView> {
    let url = web_url(&card.url)?;
    let domain = url::Url::parse(&url)
        .ok()?
        .host_str()?
        .trim_start_matches("www.")
        .to_string();
    let title = if card.title.trim().is_empty() {
        domain.clone()
    } else {
        card.title.clone()
    };
    let image = card.image.as_deref().and_then(web_url);
    Some(LinkCardView {
        url,
        title,
        domain,
        image_width: if image.is_some() { card.width } else { 0 },
        image_height: if image.is_some() { card.height } else { 0 },
        image,
        image_alt: card.image_description.clone(),
    })
}

/// Words for a reply rule that is not "everyone".
fn reply_rule(rules: &e::PolicyRules) -> Option<&'static str> {
    let all = || {
        rules
            .automatic_approval
            .iter()
            .chain(&rules.manual_approval)
    };
    if all().any(|v| v == "public") {
        None
    } else if all().any(|v| v == "following") {
        Some(ReplyPolicy::Following.describe())
    } else {
        Some(ReplyPolicy::Mentioned.describe())
    }
}

fn visibility_label(visibility: &str) -> &'static str {
    match visibility {
        "public" => "Public",
        "unlisted" => "Quiet public",
        "private" => "Followers only",
        "direct" => "Mentioned only",
        _ => "",
    }
}

/// Mentions link to the accounts' pages here rather than on their servers,
/// so that they can be followed from here. The content is sanitised HTML;
/// only whole `href` values that name a mentioned account are replaced.
fn local_links(content: &str, mentions: &[e::Mention]) -> String {
    let mut out = content.to_string();
    for m in mentions {
        let from = format!("href=\"{}\"", html::escape(&m.url));
        let to = format!("href=\"/@{}\"", html::escape(&m.acct));
        out = out.replace(&from, &to);
    }
    out
}

/// How long ago, shortly, as Threads and Mastodon show it.
pub fn ago(now: DateTime<Utc>, then: DateTime<Utc>) -> String {
    let seconds = (now - then).num_seconds().max(0);
    match seconds {
        0..60 => "now".into(),
        60..3600 => format!("{}m", seconds / 60),
        3600..86400 => format!("{}h", seconds / 3600),
        86400..604800 => format!("{}d", seconds / 86400),
        _ if then.year() == now.year() => then.format("%b %-d").to_string(),
        _ => then.format("%b %-d, %Y").to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn previews_read_the_text_of_a_post() {
        assert_eq!(
            text_of("<p>Fish &amp; chips &lt;3</p><p>Second<br>line</p>"),
            "Fish & chips <3\n\nSecond\nline"
        );
        assert_eq!(excerpt("short"), "short");
        let long = excerpt(&"a".repeat(300));
        assert_eq!(long.chars().count(), 200);
        assert!(long.ends_with('…'));
    }

    #[test]
    fn times_are_shown_shortly() {
        let now = Utc.with_ymd_and_hms(2025, 6, 10, 12, 0, 0).unwrap();
        let before = |s: i64| ago(now, now - chrono::Duration::seconds(s));
        assert_eq!(before(5), "now");
        assert_eq!(before(-30), "now");
        assert_eq!(before(150), "2m");
        assert_eq!(before(3 * 3600 + 5), "3h");
        assert_eq!(before(2 * 86400), "2d");
        assert_eq!(before(30 * 86400), "May 11");
        assert_eq!(
            ago(now, Utc.with_ymd_and_hms(2023, 3, 5, 0, 0, 0).unwrap()),
            "Mar 5, 2023"
        );
    }

    #[test]
    fn mentions_link_here_and_other_links_stay() {
        let mention = e::Mention {
            id: "1".into(),
            username: "bob".into(),
            url: "https://beta.example/@bob".into(),
            acct: "bob@beta.example".into(),
        };
        let html = r#"<p><a href="https://beta.example/@bob" class="u-url mention">@bob</a> <a href="https://beta.example/@bobby">x</a></p>"#;
        assert_eq!(
            local_links(html, &[mention]),
            r#"<p><a href="/@bob@beta.example" class="u-url mention">@bob</a> <a href="https://beta.example/@bobby">x</a></p>"#
        );
    }

    #[test]
    fn only_web_links_are_kept_from_remote_data() {
        assert!(web_url("https://a.example/x").is_some());
        assert!(web_url("javascript:alert(1)").is_none());
        assert!(web_url("data:text/html,x").is_none());
    }
}
