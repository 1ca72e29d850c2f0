//! `Presenter`: rows to entities for one viewer, a page at a time: what the
//! page shows is read by `mastodon::load` in a fixed number of queries,
//! then turned into entities by the pure functions of `mastodon::present`.

use std::collections::HashMap;

use crate::db::{self, actors::Actor, posts::Post, users::User};
use crate::domain::filters::Context as FilterContext;
use crate::error::Result;
use crate::mastodon::entities as e;
use crate::mastodon::load::{self, unique_by};
use crate::mastodon::present::{self, View};
use crate::state::AppState;

/// The posts notifications are about, each once.
fn notified_posts<'n>(rows: impl Iterator<Item = &'n db::notifications::Notification>) -> Vec<i64> {
    unique_by(
        rows.filter(|n| n.kind.is_about_a_post())
            .filter_map(|n| n.post_id),
    )
}

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

    fn view(&self) -> View<'a> {
        View {
            urls: &self.state.urls,
            viewer: self.viewer.map(|v| v.id),
            now: load::now(self.state),
        }
    }

    /// The picture shown for accounts without an avatar.
    pub fn default_avatar(&self) -> String {
        self.view().default_avatar()
    }

    pub fn default_header(&self) -> String {
        self.view().default_header()
    }

    pub fn acct(&self, actor: &Actor) -> String {
        present::acct(actor)
    }

    pub async fn accounts(&self, actors: &[Actor]) -> Result<Vec<e::Account>> {
        let facts = load::accounts(self.state, actors).await?;
        let view = self.view();
        Ok(actors
            .iter()
            .map(|a| present::account(&view, a, &facts))
            .collect())
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
        Ok(present::credential_account(
            user,
            actor,
            account,
            note,
            follow_requests_count,
        ))
    }

    pub async fn relationships(&self, ids: &[i64]) -> Result<Vec<e::Relationship>> {
        let Some(viewer) = self.viewer else {
            return Ok(Vec::new());
        };
        let rows = db::views::relationships(&self.state.db, viewer.id, ids, self.state.clock.now())
            .await?;
        Ok(rows.into_iter().map(present::relationship).collect())
    }

    pub async fn relationship(&self, id: i64) -> Result<e::Relationship> {
        let mut all = self.relationships(&[id]).await?;
        Ok(all.pop().unwrap_or_else(|| present::no_relationship(id)))
    }

    /// One status; "not found" when it cannot be shown (its author is
    /// unknown, or a filter hides it).
    pub async fn status(&self, post: &Post) -> Result<e::Status> {
        let all = self.statuses(std::slice::from_ref(post)).await?;
        all.into_iter().next().ok_or(crate::error::Error::NotFound)
    }

    /// Statuses in the order given (see `present::statuses`).
    pub async fn statuses(&self, posts: &[Post]) -> Result<Vec<e::Status>> {
        let facts = load::statuses(self.state, self.viewer, self.context, posts).await?;
        Ok(present::statuses(&self.view(), &facts, posts))
    }

    /// A thread as one page, read in one batch: the post itself as
    /// [`Presenter::statuses`] shows it without filters, and the posts above
    /// and below it as it shows them in this presenter's context.
    pub async fn thread(
        &self,
        post: &Post,
        ancestors: &[Post],
        descendants: &[Post],
    ) -> Result<(Vec<e::Status>, Vec<e::Status>, Vec<e::Status>)> {
        let all: Vec<Post> = std::iter::once(post)
            .chain(ancestors)
            .chain(descendants)
            .cloned()
            .collect();
        let mut facts = load::statuses(self.state, self.viewer, self.context, &all).await?;
        let view = self.view();
        let above = present::statuses(&view, &facts, ancestors);
        let below = present::statuses(&view, &facts, descendants);
        facts.filter = None;
        let focus = present::statuses(&view, &facts, std::slice::from_ref(post));
        Ok((focus, above, below))
    }

    /// A page of notifications, in the order given, with one batch read
    /// each for the senders, the posts and the reports.
    pub async fn notifications(
        &self,
        rows: &[db::notifications::Notification],
    ) -> Result<Vec<e::Notification>> {
        let sender_ids = unique_by(rows.iter().map(|n| n.from_actor_id));
        let accounts = self.accounts_by_id(&sender_ids).await?;
        let statuses = self.statuses_by_id(&notified_posts(rows.iter())).await?;
        let reports = self
            .reports_by_id(&unique_by(rows.iter().filter_map(|n| n.report_id)))
            .await?;
        Ok(present::notifications(rows, &accounts, &statuses, &reports))
    }

    /// Grouped notifications (`GroupedNotificationsResults`), with one
    /// batch read each for the sample senders, the posts and the reports;
    /// with `partial`, only each group's newest sender in full.
    pub async fn notification_groups(
        &self,
        groups: &[db::notifications::NotificationGroup],
        partial: bool,
    ) -> Result<e::GroupedNotificationsResults> {
        let sender_ids = unique_by(
            groups
                .iter()
                .flat_map(|g| g.sample_actor_ids.iter().copied()),
        );
        let accounts = self.accounts_by_id(&sender_ids).await?;
        let statuses = self
            .statuses_by_id(&notified_posts(groups.iter().map(|g| &g.notification)))
            .await?;
        let reports = self
            .reports_by_id(&unique_by(
                groups.iter().filter_map(|g| g.notification.report_id),
            ))
            .await?;
        Ok(present::notification_groups(
            groups, &accounts, &statuses, &reports, partial,
        ))
    }

    /// Notification requests, with their senders and last posts.
    pub async fn notification_requests(
        &self,
        rows: &[db::notification_requests::NotificationRequest],
    ) -> Result<Vec<e::NotificationRequest>> {
        let accounts = self
            .accounts_by_id(&unique_by(rows.iter().map(|r| r.from_actor_id)))
            .await?;
        let statuses = self
            .statuses_by_id(&unique_by(rows.iter().filter_map(|r| r.last_post_id)))
            .await?;
        Ok(present::notification_requests(rows, &accounts, &statuses))
    }

    /// Reports as Mastodon's entities (with their target accounts), by id.
    async fn reports_by_id(&self, ids: &[i64]) -> Result<HashMap<i64, e::Report>> {
        let (reports, targets, facts) = load::reports(self.state, ids).await?;
        let view = self.view();
        let targets: HashMap<i64, &Actor> = targets.iter().map(|a| (a.id, a)).collect();
        Ok(reports
            .into_iter()
            .filter_map(|r| {
                let target = targets.get(&r.target_id)?;
                let account = present::account(&view, target, &facts);
                Some((r.id, present::report(r, account)))
            })
            .collect())
    }

    /// A report as Mastodon's Report entity.
    pub async fn report(&self, r: db::reports::Report, target: &Actor) -> Result<e::Report> {
        Ok(present::report(r, self.account(target).await?))
    }

    /// A page of conversations: the other participants (the owner alone
    /// when there are none, as Mastodon shows a note to oneself) and the
    /// newest post still there.
    pub async fn conversations(
        &self,
        rows: &[db::conversations::AccountConversation],
    ) -> Result<Vec<e::Conversation>> {
        let actor_ids = unique_by(
            rows.iter()
                .flat_map(|c| present::conversation_participants(c).iter().copied()),
        );
        let accounts = self.accounts_by_id(&actor_ids).await?;
        let post_ids = unique_by(rows.iter().filter_map(|c| c.shown_post_id));
        let statuses = self.statuses_by_id(&post_ids).await?;
        Ok(present::conversations(rows, &accounts, &statuses))
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
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
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
}
