//! Filters as Mastodon 4 matches them on the server
//! (<https://docs.joinmastodon.org/api/guidelines/#filters>): where a filter
//! applies, what it does, and which of a viewer's live filters a status
//! matches, by keyword (case-insensitive, optionally on word boundaries)
//! or by status id. The caller brings the filters and the status's text.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use regex::{Regex, RegexBuilder};

/// Mastodon's limit on one keyword's length.
pub const KEYWORD_MAX_CHARS: usize = super::limits::FILTER_KEYWORD;

/// Where a status is being shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Context {
    /// The home timeline and lists.
    Home,
    Notifications,
    /// The public and hashtag timelines.
    Public,
    /// A status's thread.
    Thread,
    /// A profile.
    Account,
}

impl Context {
    pub const ALL: [Context; 5] = [
        Context::Home,
        Context::Notifications,
        Context::Public,
        Context::Thread,
        Context::Account,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Context::Home => "home",
            Context::Notifications => "notifications",
            Context::Public => "public",
            Context::Thread => "thread",
            Context::Account => "account",
        }
    }

    pub fn parse(raw: &str) -> Option<Context> {
        Context::ALL.into_iter().find(|c| c.as_str() == raw)
    }
}

/// What a matching filter does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Show a warning naming the filter; the status can be expanded.
    Warn,
    /// Leave the status out.
    Hide,
    /// Blur the status's media behind a warning.
    Blur,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Warn => "warn",
            Action::Hide => "hide",
            Action::Blur => "blur",
        }
    }

    pub fn parse(raw: &str) -> Option<Action> {
        match raw {
            "warn" => Some(Action::Warn),
            "hide" => Some(Action::Hide),
            "blur" => Some(Action::Blur),
            _ => None,
        }
    }
}

/// One keyword of a filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keyword {
    pub keyword: String,
    pub whole_word: bool,
}

/// A filter as matching needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub id: i64,
    pub context: Vec<Context>,
    pub action: Action,
    pub expires_at: Option<DateTime<Utc>>,
    pub keywords: Vec<Keyword>,
    pub status_ids: Vec<i64>,
}

impl Filter {
    /// Whether the filter still applies at `now`.
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_none_or(|at| at > now)
    }
}

/// A filter a status matched, and what matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    pub filter_id: i64,
    pub action: Action,
    /// The text that matched (as written in the status), Mastodon's
    /// `keyword_matches`.
    pub keyword_matches: Vec<String>,
    /// The ids among the status's own and its reposted one that the filter
    /// lists.
    pub status_matches: Vec<i64>,
}

struct Compiled {
    id: i64,
    action: Action,
    keywords: Vec<Regex>,
    status_ids: HashSet<i64>,
}

/// A viewer's live filters for one context, compiled once and applied to
/// a page of statuses.
pub struct Matcher {
    filters: Vec<Compiled>,
}

impl Matcher {
    /// Keeps the filters that are live at `now` and apply in `context`.
    pub fn new(filters: &[Filter], context: Context, now: DateTime<Utc>) -> Matcher {
        let filters = filters
            .iter()
            .filter(|f| f.is_live(now) && f.context.contains(&context))
            .map(|f| Compiled {
                id: f.id,
                action: f.action,
                keywords: f.keywords.iter().filter_map(keyword_regex).collect(),
                status_ids: f.status_ids.iter().copied().collect(),
            })
            .collect();
        Matcher { filters }
    }

    pub fn is_empty(&self) -> bool {
        self.filters.is_empty()
    }

    /// The filters matching a status whose searchable text is `text` and
    /// whose ids (its own, and the reposted status's) are `ids`.
    pub fn matches(&self, text: &str, ids: &[i64]) -> Vec<Match> {
        self.filters
            .iter()
            .filter_map(|f| {
                // Like Mastodon's union of a filter's keywords: the leftmost
                // match, the earlier keyword on a tie.
                let keyword_matches: Vec<String> = f
                    .keywords
                    .iter()
                    .filter_map(|re| re.find(text))
                    .min_by_key(|m| m.start())
                    .map(|m| vec![m.as_str().to_string()])
                    .unwrap_or_default();
                let status_matches: Vec<i64> = ids
                    .iter()
                    .copied()
                    .filter(|id| f.status_ids.contains(id))
                    .collect();
                (!keyword_matches.is_empty() || !status_matches.is_empty()).then_some(Match {
                    filter_id: f.id,
                    action: f.action,
                    keyword_matches,
                    status_matches,
                })
            })
            .collect()
    }
}

/// The pattern of one keyword: case-insensitive; with `whole_word`, a word
/// boundary on each side that starts or ends with a word character (so
/// `#tag` or `c++` still match next to letters on their symbol side).
fn keyword_regex(k: &Keyword) -> Option<Regex> {
    let keyword = k.keyword.trim();
    if keyword.is_empty() {
        return None;
    }
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let mut pattern = String::new();
    let edge = |c: Option<char>| k.whole_word && c.is_some_and(is_word);
    if edge(keyword.chars().next()) {
        pattern.push_str(r"\b");
    }
    pattern.push_str(&regex::escape(keyword));
    if edge(keyword.chars().next_back()) {
        pattern.push_str(r"\b");
    }
    RegexBuilder::new(&pattern)
        .case_insensitive(true)
        .build()
        .ok()
}

/// The text a status is matched on, as Mastodon builds it: the content
/// warning, the content as plain text, the poll's options and the media
/// descriptions, in that order.
pub fn searchable_text(
    spoiler_text: &str,
    content_html: &str,
    poll_options: &[&str],
    media_descriptions: &[&str],
) -> String {
    let poll = poll_options.join("\n\n");
    let media = media_descriptions
        .iter()
        .filter(|d| !d.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join("\n\n");
    [
        spoiler_text.to_string(),
        html_to_text(content_html),
        poll,
        media,
    ]
    .into_iter()
    .filter(|part| !part.is_empty())
    .collect::<Vec<_>>()
    .join("\n\n")
}

/// Status HTML as plain text: tags dropped, line breaks and paragraphs as
/// newlines, character references decoded. Enough for matching; not a
/// general HTML parser.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(i) = rest.find(['<', '&']) {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        if rest.starts_with('<') {
            let (inner, end) = match rest.find('>') {
                Some(close) => (&rest[1..close], close + 1),
                None => (&rest[1..], rest.len()),
            };
            let tag = inner.trim().to_ascii_lowercase();
            let name: String = tag
                .trim_start_matches('/')
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect();
            match (tag.starts_with('/'), name.as_str()) {
                (_, "br") => out.push('\n'),
                (true, "p") => out.push_str("\n\n"),
                _ => {}
            }
            rest = &rest[end..];
        } else {
            let (decoded, used) = entity(rest);
            out.push_str(&decoded);
            rest = &rest[used..];
        }
    }
    out.push_str(rest);
    out.trim_end().to_string()
}

/// Decodes the character reference at the start of `s` (which starts with
/// `&`): the text and how many bytes it took. Unknown ones stay as written.
fn entity(s: &str) -> (String, usize) {
    let Some(end) = s[1..].find(';').map(|e| e + 1).filter(|e| *e <= 12) else {
        return ("&".into(), 1);
    };
    let name = &s[1..end];
    let decoded = match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        "nbsp" => Some(' '),
        _ => name
            .strip_prefix("#x")
            .or_else(|| name.strip_prefix("#X"))
            .and_then(|hex| u32::from_str_radix(hex, 16).ok())
            .or_else(|| name.strip_prefix('#').and_then(|d| d.parse().ok()))
            .and_then(char::from_u32),
    };
    match decoded {
        Some(c) => (c.to_string(), end + 1),
        None => ("&".into(), 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap()
    }

    fn filter(id: i64, keywords: &[(&str, bool)]) -> Filter {
        Filter {
            id,
            context: vec![Context::Home, Context::Public],
            action: Action::Warn,
            expires_at: None,
            keywords: keywords
                .iter()
                .map(|(k, w)| Keyword {
                    keyword: k.to_string(),
                    whole_word: *w,
                })
                .collect(),
            status_ids: Vec::new(),
        }
    }

    fn matched(filters: &[Filter], text: &str) -> Vec<Vec<String>> {
        Matcher::new(filters, Context::Home, now())
            .matches(text, &[1])
            .into_iter()
            .map(|m| m.keyword_matches)
            .collect()
    }

    #[test]
    fn keywords_match_case_insensitively_and_report_the_text_as_written() {
        let f = [filter(1, &[("spoiler", false)])];
        assert_eq!(
            matched(&f, "Big SPOILERS ahead"),
            vec![vec!["SPOILER".to_string()]]
        );
        assert!(matched(&f, "nothing here").is_empty());
    }

    #[test]
    fn whole_words_need_word_boundaries() {
        let f = [filter(1, &[("cat", true)])];
        assert!(matched(&f, "concatenate the category").is_empty());
        assert_eq!(matched(&f, "my cat, sleeping").len(), 1);
        assert_eq!(matched(&f, "Cat").len(), 1);
        let loose = [filter(1, &[("cat", false)])];
        assert_eq!(
            matched(&loose, "concatenate"),
            vec![vec!["cat".to_string()]]
        );
    }

    #[test]
    fn whole_word_boundaries_only_apply_on_word_character_sides() {
        let f = [filter(1, &[("#rust", true), ("c++", true)])];
        assert_eq!(matched(&f, "learning#rust today").len(), 1);
        assert!(matched(&f, "#rustacean").is_empty());
        assert_eq!(matched(&f, "I write c++!").len(), 1);
        assert!(matched(&f, "abc++").is_empty());
    }

    #[test]
    fn whole_words_respect_letters_beyond_ascii() {
        let f = [filter(1, &[("café", true)])];
        assert_eq!(matched(&f, "Un CAFÉ noir").len(), 1);
        assert!(matched(&f, "cafés").is_empty());
    }

    #[test]
    fn keywords_are_literal_text_not_patterns() {
        let f = [filter(1, &[("a.b", false)])];
        assert!(matched(&f, "axb").is_empty());
        assert_eq!(matched(&f, "see a.b").len(), 1);
    }

    #[test]
    fn the_leftmost_keyword_match_is_reported() {
        let f = [filter(1, &[("zebra", false), ("apple", false)])];
        assert_eq!(
            matched(&f, "an apple and a zebra"),
            vec![vec!["apple".to_string()]]
        );
    }

    #[test]
    fn status_filters_match_the_status_or_the_reposted_one() {
        let mut f = filter(7, &[]);
        f.status_ids = vec![10, 20];
        let matcher = Matcher::new(&[f], Context::Home, now());
        let found = matcher.matches("anything", &[30, 20]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].filter_id, 7);
        assert_eq!(found[0].status_matches, vec![20]);
        assert!(found[0].keyword_matches.is_empty());
        assert!(matcher.matches("anything", &[30]).is_empty());
    }

    #[test]
    fn expired_filters_and_other_contexts_do_not_apply() {
        let mut expired = filter(1, &[("word", false)]);
        expired.expires_at = Some(now());
        let mut later = filter(2, &[("word", false)]);
        later.expires_at = Some(now() + chrono::Duration::seconds(1));
        let matcher = Matcher::new(&[expired, later.clone()], Context::Home, now());
        let ids: Vec<i64> = matcher
            .matches("a word", &[1])
            .iter()
            .map(|m| m.filter_id)
            .collect();
        assert_eq!(ids, vec![2]);
        assert!(Matcher::new(&[later], Context::Thread, now()).is_empty());
    }

    #[test]
    fn searchable_text_joins_warning_content_poll_and_descriptions() {
        let text = searchable_text(
            "cw",
            "<p>Hello <a href=\"x\">@bob</a> &amp; you</p><p>line<br>two</p>",
            &["yes", "no"],
            &["a cat", ""],
        );
        assert_eq!(
            text,
            "cw\n\nHello @bob & you\n\nline\ntwo\n\nyes\n\nno\n\na cat"
        );
    }

    #[test]
    fn html_to_text_decodes_references_and_keeps_stray_ampersands() {
        assert_eq!(html_to_text("a &lt;b&gt; &#233;&#x41; & c"), "a <b> éA & c");
        assert_eq!(html_to_text("&unknown; x"), "&unknown; x");
        assert_eq!(html_to_text("<span class=\"h\">#</span>tag"), "#tag");
        assert_eq!(html_to_text("an unclosed <é"), "an unclosed");
    }

    #[test]
    fn names_round_trip() {
        for c in Context::ALL {
            assert_eq!(Context::parse(c.as_str()), Some(c));
        }
        for a in [Action::Warn, Action::Hide, Action::Blur] {
            assert_eq!(Action::parse(a.as_str()), Some(a));
        }
        assert_eq!(Context::parse("everywhere"), None);
    }
}
