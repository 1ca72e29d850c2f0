//! Turns rows into entities for one viewer, a page at a time: every fact a
//! page of statuses or accounts shows is read with one batch query per kind.

use std::collections::{HashMap, HashSet};

use serde_json::json;

use crate::db::{self, actors::Actor, posts::Post, users::User};
use crate::domain::filters::Context as FilterContext;
use crate::domain::notifications::NotificationKind;
use crate::domain::visibility::{QuotePolicy, QuoteState, Visibility};
use crate::error::Result;
use crate::federation::html;
use crate::mastodon::entities::{self as e, midnight, time};
use crate::mastodon::filtering::PageFilter;
use crate::service::posts as post_rules;
use crate::state::AppState;

/// Presents rows as `viewer` (None: signed out) sees them.
pub struct Presenter<'a> {
    pub state: &'a AppState,
    pub viewer: Option<&'a Actor>,
    /// Where statuses are shown: the viewer's filters for this context
    /// mark them (`filtered`) or leave them out. None: no filtering.
    pub context: Option<FilterContext>,
}

impl<'a> Presenter<'a> {
    pub fn new(state: &'a AppState, viewer: Option<&'a Actor>) -> Presenter<'a> {
        Presenter {
            state,
            viewer,
            context: None,
        }
    }

    /// Applies the viewer's filters for `context` to the statuses shown.
    pub fn in_context(self, context: FilterContext) -> Presenter<'a> {
        Presenter {
            context: Some(context),
            ..self
        }
    }

    /// The picture shown for accounts without an avatar (Mastodon's
    /// `missing.png`).
    pub fn default_avatar(&self) -> String {
        format!("{}/static/avatar.png", self.state.urls.origin())
    }

    pub fn default_header(&self) -> String {
        format!("{}/static/header.png", self.state.urls.origin())
    }

    pub fn acct(&self, actor: &Actor) -> String {
        match &actor.domain {
            None => actor.username.clone(),
            Some(domain) => format!("{}@{}", actor.username, domain),
        }
    }

    fn account_with(&self, actor: &Actor, stats: &db::views::AccountStats) -> e::Account {
        let avatar = actor
            .avatar_url
            .clone()
            .unwrap_or_else(|| self.default_avatar());
        let header = actor
            .header_url
            .clone()
            .unwrap_or_else(|| self.default_header());
        let url = actor.url.clone().unwrap_or_else(|| match &actor.domain {
            None => self.state.urls.profile_page(&actor.username),
            Some(_) => actor.ap_id.clone(),
        });
        e::Account {
            id: actor.id.to_string(),
            username: actor.username.clone(),
            acct: self.acct(actor),
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
            emojis: Vec::new(),
            bot: matches!(actor.kind.as_str(), "Application" | "Service"),
            group: actor.kind == "Group",
            discoverable: Some(actor.discoverable),
            indexable: actor.indexable,
            noindex: actor.is_local().then_some(!actor.indexable),
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

    pub async fn accounts(&self, actors: &[Actor]) -> Result<Vec<e::Account>> {
        let ids: Vec<i64> = actors.iter().map(|a| a.id).collect();
        let stats = db::views::account_stats(&self.state.db, &ids).await?;
        let default = db::views::AccountStats::default();
        let mut accounts: Vec<e::Account> = actors
            .iter()
            .map(|a| self.account_with(a, stats.get(&a.id).unwrap_or(&default)))
            .collect();
        // `moved`: the account moved to, when Skein knows it; one level
        // deep, as Mastodon nests it.
        for (account, actor) in accounts.iter_mut().zip(actors) {
            let Some(target) = &actor.moved_to else {
                continue;
            };
            if let Some(target) = db::actors::find_by_ap_id(&self.state.db, target).await? {
                let stats = db::views::account_stats(&self.state.db, &[target.id]).await?;
                let moved = self.account_with(&target, stats.get(&target.id).unwrap_or(&default));
                account.moved = Some(Box::new(moved));
            }
        }
        Ok(accounts)
    }

    pub async fn account(&self, actor: &Actor) -> Result<e::Account> {
        let mut accounts = self.accounts(std::slice::from_ref(actor)).await?;
        Ok(accounts.remove(0))
    }

    /// The signed-in user's own account, with what only they see.
    pub async fn credential_account(
        &self,
        user: &User,
        actor: &Actor,
    ) -> Result<e::CredentialAccount> {
        let account = self.account(actor).await?;
        let note = db::actors::summary_source(&self.state.db, actor.id).await?;
        let follow_requests_count = db::follows::pending_requests(&self.state.db, actor.id)
            .await?
            .len() as i64;
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
        Ok(e::CredentialAccount {
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
        })
    }

    pub async fn relationships(&self, ids: &[i64]) -> Result<Vec<e::Relationship>> {
        let Some(viewer) = self.viewer else {
            return Ok(Vec::new());
        };
        let rows = db::views::relationships(&self.state.db, viewer.id, ids, self.state.clock.now())
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| e::Relationship {
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
                endorsed: false,
                note: String::new(),
            })
            .collect())
    }

    pub async fn relationship(&self, id: i64) -> Result<e::Relationship> {
        let mut all = self.relationships(&[id]).await?;
        Ok(all.pop().unwrap_or_else(|| e::Relationship {
            id: id.to_string(),
            following: false,
            showing_reblogs: false,
            notifying: false,
            languages: None,
            followed_by: false,
            blocking: false,
            blocked_by: false,
            muting: false,
            muting_notifications: false,
            requested: false,
            requested_by: false,
            domain_blocking: false,
            endorsed: false,
            note: String::new(),
        }))
    }

    /// One status; "not found" when it cannot be shown (its author is
    /// unknown, or a filter hides it).
    pub async fn status(&self, post: &Post) -> Result<e::Status> {
        let all = self.statuses(std::slice::from_ref(post)).await?;
        all.into_iter().next().ok_or(crate::error::Error::NotFound)
    }

    /// Statuses in the order given. Reposts carry the reposted status;
    /// quotes carry the quoted status when the viewer may see it. In a
    /// context, statuses the viewer's `hide` filters match are left out.
    pub async fn statuses(&self, posts: &[Post]) -> Result<Vec<e::Status>> {
        let state = self.state;
        let mut all: HashMap<i64, Post> = posts.iter().map(|p| (p.id, p.clone())).collect();
        let reblogged: Vec<i64> = posts
            .iter()
            .filter_map(|p| p.reblog_of_id)
            .filter(|id| !all.contains_key(id))
            .collect();
        for p in db::views::posts(&state.db, &reblogged).await? {
            all.insert(p.id, p);
        }
        let quoted: Vec<i64> = all
            .values()
            .filter_map(|p| p.quote_of_id)
            .filter(|id| !all.contains_key(id))
            .collect();
        for p in db::views::posts(&state.db, &quoted).await? {
            all.insert(p.id, p);
        }
        let ids: Vec<i64> = all.keys().copied().collect();

        let parents: Vec<i64> = all.values().filter_map(|p| p.in_reply_to_id).collect();
        let parent_authors: HashMap<i64, i64> = db::views::posts(&state.db, &parents)
            .await?
            .into_iter()
            .map(|p| (p.id, p.author_id))
            .collect();

        let author_ids: Vec<i64> = all
            .values()
            .map(|p| p.author_id)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let authors = db::views::actors(&state.db, &author_ids).await?;
        let author_actors: HashMap<i64, &Actor> = authors.iter().map(|a| (a.id, a)).collect();
        let accounts: HashMap<i64, e::Account> = self
            .accounts(&authors)
            .await?
            .into_iter()
            .zip(authors.iter())
            .map(|(account, actor)| (actor.id, account))
            .collect();

        let mut attachments: HashMap<i64, Vec<e::MediaAttachment>> = HashMap::new();
        for a in db::views::attachments(&state.db, &ids).await? {
            attachments
                .entry(a.post_id)
                .or_default()
                .push(media_attachment(a.id, &a.attachment));
        }
        let mut mentions: HashMap<i64, Vec<e::Mention>> = HashMap::new();
        for (post_id, actor) in db::views::mentions(&state.db, &ids).await? {
            mentions.entry(post_id).or_default().push(e::Mention {
                id: actor.id.to_string(),
                username: actor.username.clone(),
                url: actor.url.clone().unwrap_or_else(|| actor.ap_id.clone()),
                acct: self.acct(&actor),
            });
        }
        let mut tags: HashMap<i64, Vec<e::StatusTag>> = HashMap::new();
        for (post_id, tag) in db::views::tags(&state.db, &ids).await? {
            tags.entry(post_id).or_default().push(e::StatusTag {
                url: state.urls.tag(&tag),
                name: tag,
            });
        }
        let mut emojis: HashMap<i64, Vec<e::CustomEmoji>> = HashMap::new();
        for (post_id, shortcode, url) in db::views::emojis(&state.db, &ids).await? {
            emojis.entry(post_id).or_default().push(e::CustomEmoji {
                shortcode,
                static_url: url.clone(),
                url,
                visible_in_picker: false,
            });
        }
        let polls: HashMap<i64, db::polls::Poll> = db::views::polls(&state.db, &ids)
            .await?
            .into_iter()
            .map(|p| (p.post_id, p))
            .collect();
        let applications: HashMap<i64, e::Application> = db::views::applications(&state.db, &ids)
            .await?
            .into_iter()
            .map(|(id, name, website)| (id, e::Application { name, website }))
            .collect();
        let (flags, votes) = match self.viewer {
            Some(viewer) => {
                let mut conn = state.db.acquire().await?;
                let flags = db::views::viewer_flags(&mut conn, viewer.id, &ids).await?;
                let mut votes: HashMap<i64, Vec<i64>> = HashMap::new();
                for (post_id, choice) in db::views::own_votes(&mut *conn, viewer.id, &ids).await? {
                    votes.entry(post_id).or_default().push(i64::from(choice));
                }
                (Some(flags), votes)
            }
            None => (None, HashMap::new()),
        };

        let build = |post: &Post| -> Option<e::Status> {
            let account = accounts.get(&post.author_id)?.clone();
            let poll = polls
                .get(&post.id)
                .map(|p| self.poll(p, votes.get(&post.id), self.viewer.is_some()));
            let viewer_flag = |set: fn(&db::views::ViewerFlags) -> &HashSet<i64>| {
                flags.as_ref().map(|f| set(f).contains(&post.id))
            };
            Some(e::Status {
                id: post.id.to_string(),
                uri: post.ap_id.clone(),
                created_at: time(post.published),
                account,
                content: post.content.clone(),
                visibility: post.visibility.as_str().to_string(),
                sensitive: post.sensitive,
                spoiler_text: post.summary.clone(),
                media_attachments: attachments.get(&post.id).cloned().unwrap_or_default(),
                application: applications.get(&post.id).cloned(),
                mentions: mentions.get(&post.id).cloned().unwrap_or_default(),
                tags: tags.get(&post.id).cloned().unwrap_or_default(),
                emojis: emojis.get(&post.id).cloned().unwrap_or_default(),
                reblogs_count: i64::from(post.reposts_count),
                favourites_count: i64::from(post.likes_count),
                replies_count: i64::from(post.replies_count),
                quotes_count: 0,
                url: Some(post.url.clone().unwrap_or_else(|| post.ap_id.clone())),
                in_reply_to_id: post.in_reply_to_id.map(|id| id.to_string()),
                in_reply_to_account_id: post
                    .in_reply_to_id
                    .and_then(|id| parent_authors.get(&id))
                    .map(|id| id.to_string()),
                reblog: None,
                poll,
                card: None,
                language: post.language.clone(),
                text: None,
                edited_at: post.updated.map(time),
                quote: None,
                quote_approval: self.quote_approval(post),
                interaction_policy: interaction_policy(post, author_actors.get(&post.author_id)?),
                favourited: viewer_flag(|f| &f.favourited),
                reblogged: viewer_flag(|f| &f.reblogged),
                muted: flags.as_ref().map(|_| false),
                bookmarked: viewer_flag(|f| &f.bookmarked),
                pinned: flags
                    .as_ref()
                    .filter(|_| self.viewer.is_some_and(|v| v.id == post.author_id))
                    .map(|f| f.pinned.contains(&post.id)),
                filtered: Vec::new(),
            })
        };

        let mut visible_quotes: HashSet<i64> = HashSet::new();
        for id in all.values().filter_map(|p| p.quote_of_id) {
            if let Some(quoted) = all.get(&id)
                && quoted.deleted_at.is_none()
                && post_rules::can_see(state, quoted, self.viewer).await?
            {
                visible_quotes.insert(id);
            }
        }
        let with_quote = |post: &Post| -> Option<e::Status> {
            let mut status = build(post)?;
            if post.quote_of_id.is_some() || post.quote_ap_id.is_some() {
                let quoted = post
                    .quote_of_id
                    .filter(|id| visible_quotes.contains(id))
                    .and_then(|id| all.get(&id))
                    .and_then(build);
                let state = match (post.quote_state, &quoted) {
                    (Some(QuoteState::Rejected), _) => "rejected",
                    (Some(QuoteState::Pending), _) => "pending",
                    (_, None) if post.quote_of_id.is_some() => "unauthorized",
                    (_, None) => "deleted",
                    _ => "accepted",
                };
                let quoted = quoted.filter(|_| state == "accepted");
                // Shown with the quoted post, the link written for servers
                // without quotes would show it twice.
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
            }
            Some(status)
        };

        let filter = match (self.viewer, self.context) {
            (Some(viewer), Some(context)) => PageFilter::load(state, viewer, context).await?,
            _ => None,
        };
        let mut out = Vec::with_capacity(posts.len());
        for post in posts {
            let Some(mut status) = with_quote(post) else {
                continue;
            };
            let mut proper = post;
            if let Some(target) = post.reblog_of_id.and_then(|id| all.get(&id)) {
                status.reblog = with_quote(target).map(Box::new);
                if status.reblog.is_none() {
                    continue;
                }
                proper = target;
            }
            if let Some(filter) = &filter {
                let media = attachments
                    .get(&proper.id)
                    .map_or(&[][..], |m| m.as_slice());
                let verdict = filter.apply(post, proper, polls.get(&proper.id), media);
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
        Ok(out)
    }

    /// A page of notifications, in the order given, with one batch read
    /// each for the senders and the posts. A notification about a post
    /// carries it (the post liked, reposted, mentioning or quoting); one
    /// whose post cannot be shown is left out rather than shown without it.
    pub async fn notifications(
        &self,
        rows: &[db::notifications::Notification],
    ) -> Result<Vec<e::Notification>> {
        let sender_ids = unique(rows.iter().map(|n| n.from_actor_id));
        let accounts = self.accounts_by_id(&sender_ids).await?;
        let post_ids = unique(
            rows.iter()
                .filter(|n| n.kind.is_about_a_post())
                .filter_map(|n| n.post_id),
        );
        let statuses = self.statuses_by_id(&post_ids).await?;
        let mut reports = HashMap::new();
        for id in unique(rows.iter().filter_map(|n| n.report_id)) {
            if let Some(r) = db::reports::find(&self.state.db, id).await?
                && let Some(target) = db::actors::find_by_id(&self.state.db, r.target_id).await?
            {
                reports.insert(id, self.report(r, &target).await?);
            }
        }
        Ok(rows
            .iter()
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
            .collect())
    }

    /// A report as Mastodon's Report entity.
    pub async fn report(&self, r: db::reports::Report, target: &Actor) -> Result<e::Report> {
        Ok(e::Report {
            id: r.id.to_string(),
            action_taken: r.resolved_at.is_some(),
            action_taken_at: r.resolved_at.map(time),
            category: r.category,
            comment: r.comment,
            forwarded: r.forwarded,
            created_at: time(r.created_at),
            status_ids: Some(r.post_ids.iter().map(i64::to_string).collect()),
            rule_ids: (!r.rule_ids.is_empty())
                .then(|| r.rule_ids.iter().map(i64::to_string).collect()),
            target_account: self.account(target).await?,
        })
    }

    /// A page of conversations: the other participants (the owner alone
    /// when there are none, as Mastodon shows a note to oneself) and the
    /// newest post still there.
    pub async fn conversations(
        &self,
        rows: &[db::conversations::AccountConversation],
    ) -> Result<Vec<e::Conversation>> {
        let actor_ids = unique(rows.iter().flat_map(|c| {
            if c.participant_ids.is_empty() {
                vec![c.actor_id]
            } else {
                c.participant_ids.clone()
            }
        }));
        let accounts = self.accounts_by_id(&actor_ids).await?;
        let post_ids = unique(rows.iter().filter_map(|c| c.shown_post_id));
        let statuses = self.statuses_by_id(&post_ids).await?;
        Ok(rows
            .iter()
            .map(|c| {
                let participants = if c.participant_ids.is_empty() {
                    std::slice::from_ref(&c.actor_id)
                } else {
                    c.participant_ids.as_slice()
                };
                e::Conversation {
                    id: c.id.to_string(),
                    unread: c.unread,
                    accounts: participants
                        .iter()
                        .filter_map(|id| accounts.get(id).cloned())
                        .collect(),
                    last_status: c.shown_post_id.and_then(|id| statuses.get(&id).cloned()),
                }
            })
            .collect())
    }

    /// Accounts of these actors, by actor id.
    async fn accounts_by_id(&self, ids: &[i64]) -> Result<HashMap<i64, e::Account>> {
        let actors = db::views::actors(&self.state.db, ids).await?;
        Ok(actors
            .iter()
            .map(|a| a.id)
            .zip(self.accounts(&actors).await?)
            .collect())
    }

    /// Statuses of these posts (those that can be shown), by post id.
    async fn statuses_by_id(&self, ids: &[i64]) -> Result<HashMap<i64, e::Status>> {
        let posts = db::views::posts(&self.state.db, ids).await?;
        Ok(self
            .statuses(&posts)
            .await?
            .into_iter()
            .filter_map(|s| Some((s.id.parse::<i64>().ok()?, s)))
            .collect())
    }

    /// One notification, as a page of one; None when it cannot be shown
    /// (its sender or the post it is about is gone or hidden).
    pub async fn notification(
        &self,
        n: &db::notifications::Notification,
    ) -> Result<Option<e::Notification>> {
        Ok(self.notifications(std::slice::from_ref(n)).await?.pop())
    }

    fn poll(&self, poll: &db::polls::Poll, own: Option<&Vec<i64>>, signed_in: bool) -> e::Poll {
        let now = self.state.clock.now();
        let votes_count: i64 = poll.options.0.iter().map(|o| i64::from(o.votes)).sum();
        e::Poll {
            id: poll.post_id.to_string(),
            expires_at: poll.expires_at.map(time),
            expired: poll.is_closed(now),
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

    fn quote_approval(&self, post: &Post) -> e::QuoteApproval {
        let automatic = match post.quote_policy {
            QuotePolicy::Public | QuotePolicy::Followers => {
                vec![post.quote_policy.as_str().to_string()]
            }
            QuotePolicy::Nobody => Vec::new(),
        };
        let current_user = match (self.viewer, post.quote_policy) {
            (None, _) => "unknown",
            (Some(v), _) if v.id == post.author_id => "automatic",
            (Some(_), QuotePolicy::Public) if post.visibility.is_public() => "automatic",
            (Some(_), QuotePolicy::Followers) => "unknown",
            _ => "denied",
        };
        e::QuoteApproval {
            automatic,
            manual: Vec::new(),
            current_user: current_user.to_string(),
        }
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

/// The ids once each, in the order first seen.
fn unique(ids: impl Iterator<Item = i64>) -> Vec<i64> {
    let mut seen = HashSet::new();
    ids.filter(|id| seen.insert(*id)).collect()
}

/// Mastodon's `group_key`: likes and reposts of one post, and follows, in
/// the same hour share a group; anything else is a group of its own
/// (`ungrouped-<id>`). Mastodon also lets a growing group span up to 12
/// hours; grouping clients only need notifications of one group to share
/// the key.
fn group_key(n: &db::notifications::Notification) -> String {
    let hour = n.created_at.timestamp() / 3600;
    match (n.kind, n.post_id) {
        (NotificationKind::Favourite | NotificationKind::Reblog, Some(post)) => {
            format!("{}-{post}-{hour}", n.kind)
        }
        (NotificationKind::Follow, _) => format!("follow-{hour}"),
        _ => format!("ungrouped-{}", n.id),
    }
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

/// A stored attachment as a MediaAttachment entity.
pub fn media_attachment(id: i64, a: &db::media::Attachment) -> e::MediaAttachment {
    let mut meta = serde_json::Map::new();
    if let (Some(w), Some(h)) = (a.width, a.height) {
        let original = json!({
            "width": w,
            "height": h,
            "size": format!("{w}x{h}"),
            "aspect": if h > 0 { f64::from(w) / f64::from(h) } else { 0.0 },
        });
        meta.insert("original".into(), original.clone());
        meta.insert("small".into(), original);
    }
    if let (Some(x), Some(y)) = (a.focal_x, a.focal_y) {
        meta.insert("focus".into(), json!({ "x": x, "y": y }));
    }
    e::MediaAttachment {
        id: id.to_string(),
        kind: a.kind.clone(),
        url: a.url.clone(),
        preview_url: Some(a.url.clone()),
        remote_url: None,
        meta: serde_json::Value::Object(meta),
        description: (!a.description.is_empty()).then(|| a.description.clone()),
        blurhash: a.blurhash.clone(),
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
