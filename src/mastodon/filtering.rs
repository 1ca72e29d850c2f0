//! Filters in the client API's entities: `Filter`, `FilterKeyword`,
//! `FilterStatus`, `List`, and the `FilterResult`s a status shows where it
//! is presented (<https://docs.joinmastodon.org/entities/FilterResult/>).
//! The viewer's live filters are read once per page; matching itself is
//! `domain::filters`.

use std::collections::HashMap;

use crate::db::{self, actors::Actor, posts::Post};
use crate::domain::filters::{self as rules, Action, Context, Matcher};
use crate::error::Result;
use crate::mastodon::entities::{self as e, time};
use crate::service::filters::{self as filters, FilterView};
use crate::state::AppState;

pub fn keyword(k: &db::filters::FilterKeyword) -> e::FilterKeyword {
    e::FilterKeyword {
        id: k.id.to_string(),
        keyword: k.keyword.clone(),
        whole_word: k.whole_word,
    }
}

pub fn status(s: &db::filters::FilterStatus) -> e::FilterStatus {
    e::FilterStatus {
        id: s.id.to_string(),
        status_id: s.post_id.to_string(),
    }
}

/// A filter without its keywords and statuses (as in a `FilterResult`).
fn bare(f: &db::filters::Filter) -> e::Filter {
    e::Filter {
        id: f.id.to_string(),
        title: f.title.clone(),
        context: f.context.clone(),
        expires_at: f.expires_at.map(time),
        filter_action: f.action.clone(),
        keywords: None,
        statuses: None,
    }
}

pub fn filter(view: &FilterView) -> e::Filter {
    e::Filter {
        keywords: Some(view.keywords.iter().map(keyword).collect()),
        statuses: Some(view.statuses.iter().map(status).collect()),
        ..bare(&view.filter)
    }
}

/// Each keyword of a filter as a v1 filter (Mastodon's compatibility
/// shape since 4.0).
pub fn v1_filters(view: &FilterView) -> Vec<e::V1Filter> {
    view.keywords
        .iter()
        .map(|k| e::V1Filter {
            id: k.id.to_string(),
            phrase: k.keyword.clone(),
            context: view.filter.context.clone(),
            whole_word: k.whole_word,
            expires_at: view.filter.expires_at.map(time),
            irreversible: view.filter.action == Action::Hide.as_str(),
        })
        .collect()
}

pub fn list(l: &db::lists::List) -> e::List {
    e::List {
        id: l.id.to_string(),
        title: l.title.clone(),
        replies_policy: l.replies_policy.clone(),
        exclusive: l.exclusive,
    }
}

/// What the viewer's filters make of one status.
#[derive(Debug, Default)]
pub struct Verdict {
    pub results: Vec<e::FilterResult>,
    /// A `hide` filter matched: the status is left out.
    pub hide: bool,
}

/// The viewer's filters that apply in one context, for a page.
pub struct PageFilter {
    viewer: i64,
    matcher: Matcher,
    rows: HashMap<i64, db::filters::Filter>,
}

impl PageFilter {
    /// None when no live filter applies in `context`.
    pub async fn load(
        state: &AppState,
        viewer: &Actor,
        context: Context,
    ) -> Result<Option<PageFilter>> {
        let live = filters::live(state, viewer).await?;
        let rules: Vec<rules::Filter> = live.iter().map(|f| f.rule.clone()).collect();
        let matcher = Matcher::new(&rules, context, state.clock.now());
        if matcher.is_empty() {
            return Ok(None);
        }
        Ok(Some(PageFilter {
            viewer: viewer.id,
            matcher,
            rows: live.into_iter().map(|f| (f.row.id, f.row)).collect(),
        }))
    }

    /// Matches `post` (a repost is matched on the reposted `proper` post's
    /// text, and on both ids). The viewer's own posts are never filtered.
    pub fn apply(
        &self,
        post: &Post,
        proper: &Post,
        poll: Option<&db::polls::Poll>,
        media: &[e::MediaAttachment],
    ) -> Verdict {
        if post.author_id == self.viewer || proper.author_id == self.viewer {
            return Verdict::default();
        }
        let options: Vec<&str> = poll
            .map(|p| p.options.0.iter().map(|o| o.title.as_str()).collect())
            .unwrap_or_default();
        let descriptions: Vec<&str> = media
            .iter()
            .filter_map(|m| m.description.as_deref())
            .collect();
        let text =
            rules::searchable_text(&proper.summary, &proper.content, &options, &descriptions);
        let ids: Vec<i64> = std::iter::once(post.id).chain(post.reblog_of_id).collect();
        let mut verdict = Verdict::default();
        for found in self.matcher.matches(&text, &ids) {
            let Some(row) = self.rows.get(&found.filter_id) else {
                continue;
            };
            verdict.hide |= found.action == Action::Hide;
            verdict.results.push(e::FilterResult {
                filter: bare(row),
                keyword_matches: (!found.keyword_matches.is_empty())
                    .then_some(found.keyword_matches),
                status_matches: (!found.status_matches.is_empty()).then(|| {
                    found
                        .status_matches
                        .iter()
                        .map(|id| id.to_string())
                        .collect()
                }),
            });
        }
        verdict
    }
}
