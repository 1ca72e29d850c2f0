//! Presenting: pure functions from rows and what `mastodon::load` read for
//! a page to Mastodon's entities, for one viewer. No I/O here; what a page
//! shows is loaded first, in a fixed number of queries.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::db::{self, actors::Actor, posts::Post, users::User};
use crate::domain::notifications::{NotificationPolicy, PolicyAction};
use crate::domain::visibility::{QuotePolicy, QuoteState, Visibility};
use crate::federation::html;
use crate::federation::urls::Urls;
use crate::mastodon::entities::{self as e, midnight, time};
use crate::mastodon::load::{AccountFacts, StatusFacts};
use crate::service::remote_media::Shown;

/// Who is looking, from where, when: what presenting needs besides rows.
#[derive(Clone, Copy)]
pub struct View<'a> {
    pub urls: &'a Urls,
    /// The viewer's actor id (None: signed out).
    pub viewer: Option<i64>,
    pub now: DateTime<Utc>,
}

impl View<'_> {
    /// The picture shown for accounts without an avatar (Mastodon's
    /// `missing.png`).
    pub fn default_avatar(&self) -> String {
        format!("{}/static/avatar.png", self.urls.origin())
    }

    pub fn default_header(&self) -> String {
        format!("{}/static/header.png", self.urls.origin())
    }
}

/// `user` for a local account, `user@host` for a remote one.
pub fn acct(actor: &Actor) -> String {
    match &actor.domain {
        None => actor.username.clone(),
        Some(domain) => format!("{}@{}", actor.username, domain),
    }
}

/// Where a remote file is shown: its cached copy when there is one, else
/// its remote URL.
fn cached_or_remote(url: &str, media: &HashMap<String, Shown>) -> String {
    media
        .get(url)
        .map_or_else(|| url.to_string(), |m| m.url.clone())
}

/// An account without the account it moved to.
fn bare_account(
    view: &View,
    actor: &Actor,
    stats: &db::views::AccountStats,
    facts: &AccountFacts,
) -> e::Account {
    let media = &facts.media;
    let avatar = actor
        .avatar_url
        .as_deref()
        .map(|url| cached_or_remote(url, media))
        .unwrap_or_else(|| view.default_avatar());
    let header = actor
        .header_url
        .as_deref()
        .map(|url| cached_or_remote(url, media))
        .unwrap_or_else(|| view.default_header());
    let url = actor.url.clone().unwrap_or_else(|| match &actor.domain {
        None => view.urls.profile_page(&actor.username),
        Some(_) => actor.ap_id.clone(),
    });
    e::Account {
        id: actor.id.to_string(),
        username: actor.username.clone(),
        acct: acct(actor),
        url,
        uri: actor.ap_id.clone(),
        display_name: actor.display_name.clone(),
        note: actor.summary.clone(),
        avatar: avatar.clone(),
        avatar_static: avatar,
        header: header.clone(),
        header_static: header,
        locked: actor.manually_approves_followers,
        fields: actor
            .fields
            .0
            .iter()
            .map(|f| e::Field {
                name: f.name.clone(),
                value: f.value.clone(),
                verified_at: f.verified_at.map(e::time),
            })
            .collect(),
        emojis: facts.emojis.get(&actor.id).cloned().unwrap_or_default(),
        bot: matches!(actor.kind.as_str(), "Application" | "Service"),
        group: actor.kind == "Group",
        discoverable: Some(actor.discoverable),
        indexable: actor.indexable,
        // The user's "opt out of search engine indexing" (Mastodon's
        // `noindex`), not `indexable` (full-text search); local only.
        noindex: actor
            .is_local()
            .then(|| !facts.indexed.get(&actor.id).copied().unwrap_or(false)),
        hide_collections: None,
        moved: None,
        suspended: actor.gone_at.is_some().then_some(true),
        limited: None,
        created_at: midnight(actor.published),
        last_status_at: stats.last_post_at.map(midnight),
        statuses_count: stats.posts,
        followers_count: stats.followers,
        following_count: stats.following,
        roles: Vec::new(),
    }
}

/// An account with its counts, and `moved`: the account moved to, when
/// Skein knows it, one level deep, as Mastodon nests it.
pub fn account(view: &View, actor: &Actor, facts: &AccountFacts) -> e::Account {
    let default = db::views::AccountStats::default();
    let stats = |id: i64| facts.stats.get(&id).unwrap_or(&default);
    let mut account = bare_account(view, actor, stats(actor.id), facts);
    if let Some(target) = actor.moved_to.as_ref().and_then(|t| facts.moved.get(t)) {
        account.moved = Some(Box::new(bare_account(
            view,
            target,
            stats(target.id),
            facts,
        )));
    }
    account
}

/// The signed-in user's own account, with what only they see.
pub fn credential_account(
    user: &User,
    actor: &Actor,
    account: e::Account,
    note: String,
    follow_requests_count: i64,
) -> e::CredentialAccount {
    let fields = actor
        .fields
        .0
        .iter()
        .map(|f| e::Field {
            name: f.name.clone(),
            value: html::plain_text(&f.value, usize::MAX),
            verified_at: f.verified_at.map(e::time),
        })
        .collect();
    e::CredentialAccount {
        account,
        source: e::Source {
            privacy: user.default_visibility.as_str().to_string(),
            sensitive: user.default_sensitive,
            language: user.default_language.clone(),
            note,
            fields,
            follow_requests_count,
            hide_collections: false,
            discoverable: actor.discoverable,
            indexable: actor.indexable,
            attribution_domains: Vec::new(),
        },
        role: role(&user.role),
    }
}

pub fn relationship(r: db::views::Relationship) -> e::Relationship {
    e::Relationship {
        id: r.id.to_string(),
        following: r.following,
        showing_reblogs: r.showing_reblogs,
        notifying: r.notifying,
        languages: r.languages,
        followed_by: r.followed_by,
        blocking: r.blocking,
        blocked_by: r.blocked_by,
        muting: r.muting,
        muting_notifications: r.muting_notifications,
        requested: r.requested,
        requested_by: r.requested_by,
        domain_blocking: r.domain_blocking,
        endorsed: r.endorsed,
        note: r.note,
    }
}

/// The relationship to an account with none.
pub fn no_relationship(id: i64) -> e::Relationship {
    relationship(db::views::Relationship {
        id,
        ..Default::default()
    })
}

/// A stored link preview as Mastodon's PreviewCard; `image` is where its
/// picture is served.
pub fn preview_card(card: &db::cards::Card, image: Option<String>) -> e::PreviewCard {
    let authors = if card.author_name.is_empty() && card.author_url.is_empty() {
        Vec::new()
    } else {
        vec![e::PreviewCardAuthor {
            name: card.author_name.clone(),
            url: card.author_url.clone(),
            account: None,
        }]
    };
    e::PreviewCard {
        url: card.url.clone(),
        title: card.title.clone(),
        description: card.description.clone(),
        language: card.language.clone(),
        kind: card.kind.clone(),
        author_name: card.author_name.clone(),
        author_url: card.author_url.clone(),
        provider_name: card.provider_name.clone(),
        provider_url: card.provider_url.clone(),
        html: String::new(),
        width: card.width,
        height: card.height,
        image,
        image_description: card.image_description.clone(),
        embed_url: card.embed_url.clone(),
        blurhash: card.blurhash.clone(),
        published_at: card.published_at.map(time),
        authors,
    }
}

/// One status without its repost or quote; None when its author is unknown.
fn bare_status(view: &View, facts: &StatusFacts, post: &Post) -> Option<e::Status> {
    let author = facts.authors.get(&post.author_id)?;
    let account = account(view, author, &facts.accounts);
    let flags = facts.flags.as_ref();
    let poll = facts
        .polls
        .get(&post.id)
        .map(|p| poll(view, p, flags.and_then(|f| f.votes.get(&post.id))));
    let viewer_flag = |set: fn(&db::views::ViewerFlags) -> &HashSet<i64>| {
        flags.map(|f| set(f).contains(&post.id))
    };
    let media_attachments = attachments_of(facts, post);
    // A sensitized account's media are always behind a warning.
    let sensitive =
        post.sensitive || (author.sensitized_at.is_some() && !media_attachments.is_empty());
    Some(e::Status {
        id: post.id.to_string(),
        uri: post.ap_id.clone(),
        created_at: time(post.published),
        account,
        content: post.content.clone(),
        visibility: post.visibility.as_str().to_string(),
        sensitive,
        spoiler_text: post.summary.clone(),
        media_attachments,
        application: facts
            .applications
            .get(&post.id)
            .map(|(name, website)| e::Application {
                name: name.clone(),
                website: website.clone(),
            }),
        mentions: facts
            .mentions
            .get(&post.id)
            .map(|actors| {
                actors
                    .iter()
                    .map(|actor| e::Mention {
                        id: actor.id.to_string(),
                        username: actor.username.clone(),
                        url: actor.url.clone().unwrap_or_else(|| actor.ap_id.clone()),
                        acct: acct(actor),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        tags: facts
            .tags
            .get(&post.id)
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .map(|tag| e::StatusTag {
                url: view.urls.tag(&tag),
                name: tag,
            })
            .collect(),
        emojis: facts
            .emojis
            .get(&post.id)
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .map(|(shortcode, url)| {
                let url = cached_or_remote(&url, &facts.media);
                e::CustomEmoji {
                    shortcode,
                    static_url: url.clone(),
                    url,
                    visible_in_picker: false,
                    category: None,
                }
            })
            .chain(
                facts
                    .local_emojis
                    .get(&post.id)
                    .cloned()
                    .unwrap_or_default(),
            )
            .collect(),
        reblogs_count: i64::from(post.reposts_count),
        favourites_count: i64::from(post.likes_count),
        replies_count: i64::from(post.replies_count),
        quotes_count: 0,
        url: Some(post.url.clone().unwrap_or_else(|| post.ap_id.clone())),
        in_reply_to_id: post.in_reply_to_id.map(|id| id.to_string()),
        in_reply_to_account_id: post
            .in_reply_to_id
            .and_then(|id| facts.parent_authors.get(&id))
            .map(|id| id.to_string()),
        reblog: None,
        poll,
        card: facts.cards.get(&post.id).cloned(),
        language: post.language.clone(),
        text: None,
        edited_at: post.updated.map(time),
        quote: None,
        quote_approval: quote_approval(view.viewer, post),
        interaction_policy: interaction_policy(post, author),
        favourited: viewer_flag(|f| &f.favourited),
        reblogged: viewer_flag(|f| &f.reblogged),
        muted: viewer_flag(|f| &f.muted),
        bookmarked: viewer_flag(|f| &f.bookmarked),
        pinned: flags
            .filter(|_| view.viewer == Some(post.author_id))
            .map(|f| f.pinned.contains(&post.id)),
        filtered: Vec::new(),
    })
}

/// A status with its quote: the quoted status when the viewer may see it
/// and the quote stands, and the quote's state.
fn status_with_quote(view: &View, facts: &StatusFacts, post: &Post) -> Option<e::Status> {
    let mut status = bare_status(view, facts, post)?;
    if post.quote_of_id.is_none() && post.quote_ap_id.is_none() {
        return Some(status);
    }
    let quoted = post
        .quote_of_id
        .filter(|id| facts.visible_quotes.contains(id))
        .and_then(|id| facts.posts.get(&id))
        .and_then(|q| bare_status(view, facts, q));
    let state = match (post.quote_state, &quoted) {
        (Some(QuoteState::Rejected), _) => "rejected",
        (Some(QuoteState::Revoked), _) => "revoked",
        (Some(QuoteState::Pending), _) => "pending",
        (_, None) if post.quote_of_id.is_some() => "unauthorized",
        (_, None) => "deleted",
        _ => "accepted",
    };
    let quoted = quoted.filter(|_| state == "accepted");
    // Shown with the quoted post, the link written for servers without
    // quotes would show it twice.
    if let Some(q) = &quoted {
        let links: Vec<&str> = std::iter::once(q.uri.as_str())
            .chain(q.url.as_deref())
            .collect();
        status.content = html::without_quote_fallback(&status.content, &links);
    }
    status.quote = Some(e::Quote {
        state: state.to_string(),
        quoted_status: quoted.map(Box::new),
    });
    Some(status)
}

/// Statuses of `posts` in the order given. Reposts carry the reposted
/// status; quotes carry the quoted status when the viewer may see it. With
/// the viewer's filters loaded, statuses a `hide` filter matches are left
/// out and the others carry what matched (`filtered`). A post whose author
/// or reposted post is unknown is left out.
pub fn statuses(view: &View, facts: &StatusFacts, posts: &[Post]) -> Vec<e::Status> {
    let mut out = Vec::with_capacity(posts.len());
    for post in posts {
        let Some(mut status) = status_with_quote(view, facts, post) else {
            continue;
        };
        let mut proper = post;
        if let Some(target) = post.reblog_of_id.and_then(|id| facts.posts.get(&id)) {
            status.reblog = status_with_quote(view, facts, target).map(Box::new);
            if status.reblog.is_none() {
                continue;
            }
            proper = target;
        }
        if let Some(filter) = &facts.filter {
            let media = attachments_of(facts, proper);
            let verdict = filter.apply(post, proper, facts.polls.get(&proper.id), &media);
            if verdict.hide {
                continue;
            }
            if let Some(reblog) = status.reblog.as_mut() {
                reblog.filtered = verdict.results.clone();
            }
            status.filtered = verdict.results;
        }
        out.push(status);
    }
    out
}

/// A page of notifications, in the order given. A notification about a
/// post carries it (the post liked, reposted, mentioning or quoting); one
/// whose post, sender or report cannot be shown is left out rather than
/// shown without it.
pub fn notifications(
    rows: &[db::notifications::Notification],
    accounts: &HashMap<i64, e::Account>,
    statuses: &HashMap<i64, e::Status>,
    reports: &HashMap<i64, e::Report>,
) -> Vec<e::Notification> {
    rows.iter()
        .filter_map(|n| {
            let status = if n.kind.is_about_a_post() {
                Some(statuses.get(&n.post_id?)?.clone())
            } else {
                None
            };
            let report = match n.report_id {
                Some(id) => Some(reports.get(&id)?.clone()),
                None => None,
            };
            Some(e::Notification {
                id: n.id.to_string(),
                kind: n.kind.as_str().to_string(),
                group_key: group_key(n),
                created_at: time(n.created_at),
                account: accounts.get(&n.from_actor_id)?.clone(),
                status,
                report,
            })
        })
        .collect()
}

/// A report as Mastodon's Report entity.
pub fn report(r: db::reports::Report, target_account: e::Account) -> e::Report {
    e::Report {
        id: r.id.to_string(),
        action_taken: r.resolved_at.is_some(),
        action_taken_at: r.resolved_at.map(time),
        category: r.category,
        comment: r.comment,
        forwarded: r.forwarded,
        created_at: time(r.created_at),
        status_ids: Some(r.post_ids.iter().map(i64::to_string).collect()),
        rule_ids: (!r.rule_ids.is_empty()).then(|| r.rule_ids.iter().map(i64::to_string).collect()),
        target_account,
    }
}

/// The accounts a page of conversations shows: the other participants,
/// or the owner alone when there are none (a note to oneself).
pub fn conversation_participants(c: &db::conversations::AccountConversation) -> &[i64] {
    if c.participant_ids.is_empty() {
        std::slice::from_ref(&c.actor_id)
    } else {
        c.participant_ids.as_slice()
    }
}

/// A page of conversations: the participants and the newest post still
/// there.
pub fn conversations(
    rows: &[db::conversations::AccountConversation],
    accounts: &HashMap<i64, e::Account>,
    statuses: &HashMap<i64, e::Status>,
) -> Vec<e::Conversation> {
    rows.iter()
        .map(|c| e::Conversation {
            id: c.id.to_string(),
            unread: c.unread,
            accounts: conversation_participants(c)
                .iter()
                .filter_map(|id| accounts.get(id).cloned())
                .collect(),
            last_status: c.shown_post_id.and_then(|id| statuses.get(&id).cloned()),
        })
        .collect()
}

/// A poll, with the viewer's votes when signed in.
pub fn poll(view: &View, poll: &db::polls::Poll, own: Option<&Vec<i64>>) -> e::Poll {
    let signed_in = view.viewer.is_some();
    let votes_count: i64 = poll.options.0.iter().map(|o| i64::from(o.votes)).sum();
    e::Poll {
        id: poll.post_id.to_string(),
        expires_at: poll.expires_at.map(time),
        expired: poll.is_closed(view.now),
        multiple: poll.multiple,
        votes_count,
        voters_count: poll
            .multiple
            .then_some(i64::from(poll.voters_count))
            .or(Some(i64::from(poll.voters_count))),
        options: poll
            .options
            .0
            .iter()
            .map(|o| e::PollOption {
                title: o.title.clone(),
                votes_count: Some(i64::from(o.votes)),
            })
            .collect(),
        emojis: Vec::new(),
        voted: signed_in.then(|| own.is_some_and(|v| !v.is_empty())),
        own_votes: signed_in.then(|| own.cloned().unwrap_or_default()),
    }
}

/// Who may quote a post, and whether the viewer may.
fn quote_approval(viewer: Option<i64>, post: &Post) -> e::QuoteApproval {
    let automatic = match post.quote_policy.as_str() {
        "public" => vec!["public".to_string()],
        "followers" => vec!["followers".to_string()],
        _ => Vec::new(),
    };
    let current_user = match (viewer, post.quote_policy.as_str()) {
        (None, _) => "unknown",
        (Some(v), _) if v == post.author_id => "automatic",
        (Some(_), "public") if matches!(post.visibility.as_str(), "public" | "unlisted") => {
            "automatic"
        }
        (Some(_), "followers") => "unknown",
        _ => "denied",
    };
    e::QuoteApproval {
        automatic,
        manual: Vec::new(),
        current_user: current_user.to_string(),
    }
}

/// A post's interaction policy as GoToSocial's client API shows it.
fn interaction_policy(post: &Post, author: &Actor) -> e::InteractionPolicy {
    use crate::domain::interaction::{self as policy, Interaction};
    let rules = |automatic: Vec<String>, manual: Vec<String>| e::PolicyRules {
        always: automatic.clone(),
        with_approval: manual.clone(),
        automatic_approval: automatic,
        manual_approval: manual,
    };
    let words = |list: &[&str]| list.iter().map(|w| w.to_string()).collect::<Vec<_>>();
    if author.is_local() {
        let reply = match post.reply_policy {
            policy::ReplyPolicy::Everyone => words(&["public"]),
            policy::ReplyPolicy::Following => words(&["author", "following", "mentioned"]),
            policy::ReplyPolicy::Mentioned => words(&["author", "mentioned"]),
        };
        let reblog = if post.visibility.is_public() {
            words(&["public"])
        } else {
            words(&["author"])
        };
        return e::InteractionPolicy {
            can_favourite: rules(words(&["public"]), Vec::new()),
            can_reply: rules(reply, Vec::new()),
            can_reblog: rules(reblog, Vec::new()),
        };
    }
    let stored = post
        .interaction_policy
        .as_ref()
        .map(|p| p.0.clone())
        .unwrap_or_default();
    let name = |uri: &String| -> String {
        if uri == policy::PUBLIC {
            "public".into()
        } else if Some(uri) == author.followers_url.as_ref() {
            "followers".into()
        } else if Some(uri) == author.following_url.as_ref() {
            "following".into()
        } else if *uri == author.ap_id {
            "author".into()
        } else {
            uri.clone()
        }
    };
    let translate = |kind: Interaction| {
        let rule = stored.rule(kind);
        rules(
            rule.automatic.iter().map(name).collect(),
            rule.manual.iter().map(name).collect(),
        )
    };
    e::InteractionPolicy {
        can_favourite: translate(Interaction::Like),
        can_reply: translate(Interaction::Reply),
        can_reblog: translate(Interaction::Announce),
    }
}

/// Mastodon's `group_key`: the stored one (made with the notification), or
/// `ungrouped-<id>` for a notification shown alone.
fn group_key(n: &db::notifications::Notification) -> String {
    n.group_key
        .clone()
        .unwrap_or_else(|| format!("ungrouped-{}", n.id))
}

/// Grouped notifications (`GroupedNotificationsResults`): each group whose
/// notification can be shown (its post, its report and a sender), with
/// the accounts its samples name (with `partial`, only each group's newest
/// in full, the others as partial accounts) and its status, each once.
pub fn notification_groups(
    groups: &[db::notifications::NotificationGroup],
    accounts: &HashMap<i64, e::Account>,
    statuses: &HashMap<i64, e::Status>,
    reports: &HashMap<i64, e::Report>,
    partial: bool,
) -> e::GroupedNotificationsResults {
    let mut shown = Vec::new();
    let mut full: Vec<i64> = Vec::new();
    let mut others: Vec<i64> = Vec::new();
    let mut posts: Vec<i64> = Vec::new();
    for g in groups {
        let n = &g.notification;
        let status_id = if n.kind.is_about_a_post() {
            let Some(id) = n.post_id.filter(|id| statuses.contains_key(id)) else {
                continue;
            };
            Some(id)
        } else {
            None
        };
        let report = match n.report_id {
            Some(id) => match reports.get(&id) {
                Some(r) => Some(r.clone()),
                None => continue,
            },
            None => None,
        };
        let samples: Vec<i64> = g
            .sample_actor_ids
            .iter()
            .copied()
            .filter(|id| accounts.contains_key(id))
            .collect();
        if samples.is_empty() {
            continue;
        }
        for (i, id) in samples.iter().enumerate() {
            if i == 0 || !partial {
                full.push(*id);
            } else {
                others.push(*id);
            }
        }
        posts.extend(status_id);
        shown.push(e::NotificationGroup {
            group_key: g.key.clone(),
            notifications_count: g.count,
            kind: n.kind.as_str().to_string(),
            most_recent_notification_id: g.most_recent_id.to_string(),
            page_min_id: g.page.map(|(min, _)| min.to_string()),
            page_max_id: g.page.map(|_| g.most_recent_id.to_string()),
            latest_page_notification_at: g.page.map(|(_, at)| time(at)),
            sample_account_ids: samples.iter().map(i64::to_string).collect(),
            status_id: status_id.map(|id| id.to_string()),
            report,
        });
    }
    let full = unique(full);
    let others: Vec<i64> = unique(others)
        .into_iter()
        .filter(|id| !full.contains(id))
        .collect();
    e::GroupedNotificationsResults {
        accounts: full
            .iter()
            .filter_map(|id| accounts.get(id).cloned())
            .collect(),
        partial_accounts: partial.then(|| {
            others
                .iter()
                .filter_map(|id| accounts.get(id).map(e::PartialAccount::from))
                .collect()
        }),
        statuses: unique(posts)
            .iter()
            .filter_map(|id| statuses.get(id).cloned())
            .collect(),
        notification_groups: shown,
    }
}

/// Ids in their first order, each once.
fn unique(ids: Vec<i64>) -> Vec<i64> {
    let mut seen = HashSet::new();
    ids.into_iter().filter(|id| seen.insert(*id)).collect()
}

/// The v2 notification policy with its summary.
pub fn notification_policy(
    policy: &NotificationPolicy,
    (requests, notifications): (i64, i64),
) -> e::NotificationPolicy {
    e::NotificationPolicy {
        for_not_following: policy.for_not_following.as_str().to_string(),
        for_not_followers: policy.for_not_followers.as_str().to_string(),
        for_new_accounts: policy.for_new_accounts.as_str().to_string(),
        for_private_mentions: policy.for_private_mentions.as_str().to_string(),
        for_limited_accounts: policy.for_limited_accounts.as_str().to_string(),
        summary: e::NotificationPolicySummary {
            pending_requests_count: requests,
            pending_notifications_count: notifications,
        },
    }
}

/// The v1 notification policy: a case is "filtered" unless accepted.
pub fn notification_policy_v1(
    policy: &NotificationPolicy,
    (requests, notifications): (i64, i64),
) -> e::NotificationPolicyV1 {
    let filters = |a: PolicyAction| a != PolicyAction::Accept;
    e::NotificationPolicyV1 {
        filter_not_following: filters(policy.for_not_following),
        filter_not_followers: filters(policy.for_not_followers),
        filter_new_accounts: filters(policy.for_new_accounts),
        filter_private_mentions: filters(policy.for_private_mentions),
        summary: e::NotificationPolicySummary {
            pending_requests_count: requests,
            pending_notifications_count: notifications,
        },
    }
}

/// Notification requests whose sender can be shown.
pub fn notification_requests(
    rows: &[db::notification_requests::NotificationRequest],
    accounts: &HashMap<i64, e::Account>,
    statuses: &HashMap<i64, e::Status>,
) -> Vec<e::NotificationRequest> {
    rows.iter()
        .filter_map(|r| {
            Some(e::NotificationRequest {
                id: r.id.to_string(),
                created_at: time(r.created_at),
                updated_at: time(r.updated_at),
                notifications_count: r.notifications_count.to_string(),
                account: accounts.get(&r.from_actor_id)?.clone(),
                last_status: r.last_post_id.and_then(|id| statuses.get(&id).cloned()),
            })
        })
        .collect()
}

/// A read marker.
pub fn marker(m: &db::markers::Marker) -> e::Marker {
    e::Marker {
        last_read_id: m.last_read_id.clone(),
        version: i64::from(m.version),
        updated_at: time(m.updated_at),
    }
}

/// The user's preferences. Media and content warnings are shown as the
/// app decides (Skein has no reading settings yet); the default quote
/// policy follows the posts' default (`public`), except that followers-only
/// and direct posts cannot be quoted (Mastodon's rule).
pub fn preferences(user: &User) -> e::Preferences {
    let quote_policy = match user.default_visibility {
        Visibility::Private | Visibility::Direct => QuotePolicy::Nobody,
        Visibility::Public | Visibility::Unlisted => QuotePolicy::Public,
    };
    e::Preferences {
        posting_default_visibility: user.default_visibility.as_str().to_string(),
        posting_default_sensitive: user.default_sensitive,
        posting_default_language: user.default_language.clone(),
        posting_default_quote_policy: quote_policy.as_str().to_string(),
        reading_expand_media: "default".to_string(),
        reading_expand_spoilers: false,
    }
}

/// A post's attachments as entities: a remote post's show their cached
/// copies when there are some, and their remote URLs as `remote_url`.
fn attachments_of(facts: &StatusFacts, post: &Post) -> Vec<e::MediaAttachment> {
    let remote = facts
        .authors
        .get(&post.author_id)
        .is_some_and(|a| !a.is_local());
    facts
        .attachments
        .get(&post.id)
        .map(|list| {
            list.iter()
                .map(|a| {
                    let cached = remote.then(|| facts.media.get(&a.attachment.url)).flatten();
                    media_attachment(a.id, &a.attachment, remote, cached)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A stored attachment as a MediaAttachment entity. A remote one (`remote`)
/// names its remote URL as `remote_url`, and is shown from its cached copy
/// when there is one (`cached`), from its remote URL until then.
pub fn media_attachment(
    id: i64,
    a: &db::media::Attachment,
    remote: bool,
    cached: Option<&Shown>,
) -> e::MediaAttachment {
    let mut meta = serde_json::Map::new();
    let size = match (a.width, a.height) {
        (Some(w), Some(h)) => Some((w, h)),
        _ => cached.and_then(|c| Some((c.width?, c.height?))),
    };
    if let Some((w, h)) = size {
        let original = json!({
            "width": w,
            "height": h,
            "size": format!("{w}x{h}"),
            "aspect": if h > 0 { f64::from(w) / f64::from(h) } else { 0.0 },
        });
        meta.insert("original".into(), original.clone());
        meta.insert("small".into(), original);
    }
    if let Some(duration) = a.duration {
        let original = meta.entry("original").or_insert_with(|| json!({}));
        original["duration"] = json!(duration);
    }
    if let (Some(x), Some(y)) = (a.focal_x, a.focal_y) {
        meta.insert("focus".into(), json!({ "x": x, "y": y }));
    }
    // An image is its own preview; video and audio have one when they came
    // with a poster (`icon`) or were made here.
    let preview_url = match &a.preview_url {
        Some(preview) => Some(preview.clone()),
        None => (a.kind == "image").then(|| a.url.clone()),
    };
    e::MediaAttachment {
        id: id.to_string(),
        kind: a.kind.clone(),
        url: Some(cached.map_or_else(|| a.url.clone(), |c| c.url.clone())),
        // A cached image's preview is the copy's; video and audio keep
        // their poster.
        preview_url: match cached {
            Some(c) if a.kind == "image" => Some(c.preview_url.clone()),
            _ => preview_url,
        },
        remote_url: remote.then(|| a.url.clone()),
        meta: serde_json::Value::Object(meta),
        description: (!a.description.is_empty()).then(|| a.description.clone()),
        blurhash: a
            .blurhash
            .clone()
            .or_else(|| cached.and_then(|c| c.blurhash.clone())),
    }
}

/// Mastodon's built-in roles, by our role names.
pub fn role(name: &str) -> e::Role {
    let (id, label, permissions, highlighted) = match name {
        "admin" => ("3", "Admin", "1048575", true),
        "moderator" => ("2", "Moderator", "1308", true),
        _ => ("-99", "", "65536", false),
    };
    e::Role {
        id: id.to_string(),
        name: label.to_string(),
        color: String::new(),
        permissions: permissions.to_string(),
        highlighted,
    }
}

/// A Web Push subscription, with the instance's VAPID key as `server_key`.
pub fn web_push_subscription(
    subscription: &db::push::Subscription,
    server_key: &str,
) -> e::WebPushSubscription {
    let alerts = crate::service::push::ALERTS
        .iter()
        .map(|kind| {
            let on = subscription.alerts.iter().any(|a| a == kind);
            (kind.to_string(), serde_json::Value::Bool(on))
        })
        .collect();
    e::WebPushSubscription {
        id: subscription.id.to_string(),
        endpoint: subscription.endpoint.clone(),
        standard: subscription.standard,
        alerts,
        policy: subscription.policy.clone(),
        server_key: server_key.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::notifications::NotificationKind;
    use crate::mastodon::load::StatusFacts;

    fn urls() -> Urls {
        Urls::new(url::Url::parse("https://skein.example").unwrap())
    }

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + seconds, 0).unwrap()
    }

    fn actor(id: i64, username: &str, domain: Option<&str>) -> Actor {
        let base = match domain {
            Some(d) => format!("https://{d}/users/{username}"),
            None => format!("https://skein.example/users/{username}"),
        };
        Actor {
            id,
            ap_id: base.clone(),
            kind: "Person".into(),
            username: username.into(),
            domain: domain.map(str::to_string),
            display_name: username.into(),
            summary: String::new(),
            url: None,
            inbox_url: format!("{base}/inbox"),
            shared_inbox_url: None,
            outbox_url: None,
            followers_url: Some(format!("{base}/followers")),
            following_url: Some(format!("{base}/following")),
            featured_url: None,
            public_key_id: format!("{base}#main-key"),
            public_key_pem: String::new(),
            private_key_pem: None,
            manually_approves_followers: false,
            discoverable: true,
            indexable: true,
            avatar_url: None,
            header_url: None,
            fields: sqlx::types::Json(Vec::new()),
            also_known_as: Vec::new(),
            moved_to: None,
            published: at(0),
            created_at: at(0),
            updated_at: at(0),
            fetched_at: None,
            gone_at: None,
            key_refetched_at: None,
            suspended_at: None,
            silenced_at: None,
            sensitized_at: None,
        }
    }

    fn post(id: i64, author: &Actor, content: &str) -> Post {
        Post {
            id,
            ap_id: format!("{}/statuses/{id}", author.ap_id),
            author_id: author.id,
            url: None,
            content: content.into(),
            source: None,
            summary: String::new(),
            sensitive: false,
            language: Some("en".into()),
            visibility: Visibility::Public,
            in_reply_to_id: None,
            in_reply_to_ap_id: None,
            published: at(id),
            updated: None,
            created_at: at(id),
            deleted_at: None,
            reblog_of_id: None,
            replies_count: 0,
            likes_count: 0,
            reposts_count: 0,
            quote_of_id: None,
            quote_ap_id: None,
            quote_state: None,
            quote_request_id: None,
            quote_authorization: None,
            quote_policy: QuotePolicy::Public,
            reply_policy: crate::domain::interaction::ReplyPolicy::Everyone,
            interaction_policy: None,
            reply_hidden_at: None,
            reply_authorization: None,
            reply_approved_by: None,
        }
    }

    /// Facts for these posts and authors, with nothing else loaded.
    fn facts(posts: &[&Post], authors: &[&Actor]) -> StatusFacts {
        StatusFacts {
            posts: posts.iter().map(|p| (p.id, (*p).clone())).collect(),
            authors: authors.iter().map(|a| (a.id, (*a).clone())).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn an_account_shows_its_counts_defaults_and_the_account_it_moved_to() {
        let urls = urls();
        let view = View {
            urls: &urls,
            viewer: None,
            now: at(0),
        };
        let mut old = actor(1, "ann", Some("old.example"));
        let new = actor(2, "ann", Some("new.example"));
        old.moved_to = Some(new.ap_id.clone());
        let mut facts = AccountFacts::default();
        facts.stats.insert(
            1,
            db::views::AccountStats {
                id: 1,
                followers: 7,
                following: 3,
                posts: 12,
                last_post_at: Some(at(90_000)),
            },
        );
        facts.moved.insert(new.ap_id.clone(), new.clone());
        let account = account(&view, &old, &facts);
        assert_eq!(account.acct, "ann@old.example");
        assert_eq!(
            (
                account.followers_count,
                account.following_count,
                account.statuses_count
            ),
            (7, 3, 12)
        );
        assert_eq!(account.avatar, "https://skein.example/static/avatar.png");
        assert_eq!(account.url, old.ap_id, "a remote account links to its id");
        let moved = account.moved.expect("the account moved to");
        assert_eq!(moved.acct, "ann@new.example");
        assert_eq!(moved.statuses_count, 0, "counts it has none of are zero");
        assert!(moved.moved.is_none());

        assert_eq!(
            account.noindex, None,
            "remote accounts have no such preference"
        );

        // `noindex` is the user's search-engine preference, whatever
        // `indexable` says.
        let local = actor(3, "bo", None);
        let shown = super::account(&view, &local, &AccountFacts::default());
        assert_eq!(shown.acct, "bo");
        assert_eq!(shown.url, urls.profile_page("bo"));
        assert!(shown.indexable);
        assert_eq!(shown.noindex, Some(true));
        let mut facts = AccountFacts::default();
        facts.indexed.insert(3, true);
        assert_eq!(super::account(&view, &local, &facts).noindex, Some(false));
    }

    #[test]
    fn a_repost_carries_the_reposted_status_and_is_left_out_without_it() {
        let urls = urls();
        let view = View {
            urls: &urls,
            viewer: Some(1),
            now: at(0),
        };
        let ann = actor(1, "ann", None);
        let bob = actor(2, "bob", Some("b.example"));
        let original = post(10, &bob, "<p>hello</p>");
        let mut repost = post(11, &ann, "");
        repost.reblog_of_id = Some(10);
        let mut reply = post(13, &ann, "<p>hi bob</p>");
        reply.in_reply_to_id = Some(10);
        let mut facts = facts(&[&original, &repost, &reply], &[&ann, &bob]);
        facts.parent_authors.insert(10, 2);
        let mut flags = db::views::ViewerFlags::default();
        flags.favourited.insert(10);
        flags.pinned.insert(13);
        facts.flags = Some(flags);
        let shown = statuses(&view, &facts, &[repost.clone(), reply.clone()]);
        assert_eq!(shown.len(), 2);
        let reblog = shown[0].reblog.as_ref().expect("the reposted status");
        assert_eq!(reblog.content, "<p>hello</p>");
        assert_eq!(reblog.account.acct, "bob@b.example");
        assert_eq!(reblog.favourited, Some(true));
        assert_eq!(shown[0].favourited, Some(false));
        assert_eq!(shown[1].in_reply_to_account_id.as_deref(), Some("2"));
        assert_eq!(
            shown[1].pinned,
            Some(true),
            "the viewer's own post is pinned"
        );
        assert_eq!(
            reblog.pinned, None,
            "others' posts are not the viewer's to pin"
        );

        let stranger = post(14, &actor(5, "eve", None), "<p>who</p>");
        let shown = statuses(&view, &facts, &[stranger]);
        assert!(shown.is_empty(), "an unknown author's post is left out");

        // Signed out: no flags at all.
        let out = View {
            viewer: None,
            ..view
        };
        let mut signed_out = facts;
        signed_out.flags = None;
        let shown = statuses(&out, &signed_out, &[original]);
        assert_eq!(shown[0].favourited, None);
        assert_eq!(shown[0].quote_approval.current_user, "unknown");
    }

    #[test]
    fn a_quote_shows_the_quoted_status_only_when_the_viewer_may_see_it() {
        let urls = urls();
        let view = View {
            urls: &urls,
            viewer: Some(1),
            now: at(0),
        };
        let ann = actor(1, "ann", None);
        let bob = actor(2, "bob", None);
        let quoted = post(20, &bob, "<p>original</p>");
        let mut quote = post(21, &ann, "<p>look</p><p>RE: <a href=\"x\">x</a></p>");
        quote.quote_of_id = Some(20);
        quote.quote_ap_id = Some(quoted.ap_id.clone());
        let mut facts = facts(&[&quoted, &quote], &[&ann, &bob]);

        let hidden = statuses(&view, &facts, std::slice::from_ref(&quote));
        let q = hidden[0].quote.as_ref().expect("a quote");
        assert_eq!(q.state, "unauthorized");
        assert!(q.quoted_status.is_none());

        facts.visible_quotes.insert(20);
        let shown = statuses(&view, &facts, std::slice::from_ref(&quote));
        let q = shown[0].quote.as_ref().expect("a quote");
        assert_eq!(q.state, "accepted");
        assert_eq!(
            q.quoted_status.as_ref().map(|s| s.content.as_str()),
            Some("<p>original</p>")
        );

        let mut pending = quote.clone();
        pending.quote_state = Some(QuoteState::Pending);
        let shown = statuses(&view, &facts, &[pending]);
        let q = shown[0].quote.as_ref().expect("a quote");
        assert_eq!(q.state, "pending");
        assert!(q.quoted_status.is_none(), "a pending quote shows no status");

        let mut gone = quote;
        gone.quote_of_id = None;
        let shown = statuses(&view, &facts, &[gone]);
        assert_eq!(
            shown[0].quote.as_ref().map(|q| q.state.as_str()),
            Some("deleted")
        );
    }

    #[test]
    fn a_poll_shows_the_viewers_votes_only_to_a_signed_in_viewer() {
        let urls = urls();
        let poll_row = db::polls::Poll {
            post_id: 5,
            multiple: false,
            options: sqlx::types::Json(vec![
                db::polls::PollOption {
                    title: "yes".into(),
                    votes: 3,
                },
                db::polls::PollOption {
                    title: "no".into(),
                    votes: 1,
                },
            ]),
            expires_at: Some(at(100)),
            voters_count: 4,
        };
        let signed_in = View {
            urls: &urls,
            viewer: Some(1),
            now: at(50),
        };
        let shown = poll(&signed_in, &poll_row, Some(&vec![0]));
        assert_eq!(shown.votes_count, 4);
        assert_eq!(shown.voted, Some(true));
        assert_eq!(shown.own_votes, Some(vec![0]));
        assert!(!shown.expired);
        let later = View {
            viewer: None,
            now: at(100),
            ..signed_in
        };
        let shown = poll(&later, &poll_row, None);
        assert_eq!((shown.voted, shown.own_votes), (None, None));
        assert!(shown.expired);
    }

    #[test]
    fn a_notification_whose_post_or_sender_cannot_be_shown_is_left_out() {
        let urls = urls();
        let view = View {
            urls: &urls,
            viewer: Some(1),
            now: at(0),
        };
        let bob = actor(2, "bob", None);
        let account = super::account(&view, &bob, &AccountFacts::default());
        let row =
            |id: i64, kind: &str, from: i64, post: Option<i64>| db::notifications::Notification {
                id,
                recipient_id: 1,
                kind: NotificationKind::parse(kind).unwrap(),
                from_actor_id: from,
                post_id: post,
                created_at: at(7200),
                read: false,
                report_id: None,
                filtered: false,
                group_key: match kind {
                    "follow" => Some("follow-2".to_string()),
                    "favourite" => post.map(|p| format!("favourite-{p}-2")),
                    _ => None,
                },
            };
        let rows = vec![
            row(1, "follow", 2, None),
            row(2, "favourite", 2, Some(30)),
            row(3, "favourite", 2, Some(31)),
            row(4, "follow", 9, None),
        ];
        let accounts = HashMap::from([(2, account)]);
        let ann = actor(1, "ann", None);
        let liked = post(30, &ann, "<p>mine</p>");
        let facts = facts(&[&liked], &[&ann]);
        let statuses: HashMap<i64, e::Status> = super::statuses(&view, &facts, &[liked])
            .into_iter()
            .map(|s| (30, s))
            .collect();
        let shown = notifications(&rows, &accounts, &statuses, &HashMap::new());
        let ids: Vec<&str> = shown.iter().map(|n| n.id.as_str()).collect();
        assert_eq!(ids, ["1", "2"]);
        assert_eq!(shown[0].group_key, "follow-2");
        assert_eq!(shown[1].group_key, "favourite-30-2");
        assert!(shown[1].status.is_some());
    }
}
