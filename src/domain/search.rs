//! What a full-text search for posts asks, read from the words typed, as
//! Mastodon reads them (<https://docs.joinmastodon.org/user/network/#search>):
//! words (all required), `"quoted phrases"`, `#hashtags`, and the
//! operators `from:`, `has:`, `is:`, `language:`, `before:`, `after:`,
//! `during:` and `in:`; a leading `-` negates a word, a phrase or an
//! operator (`+` is accepted and means nothing more). An unknown `word:rest`
//! is searched as the words `word rest`, as Mastodon does; a malformed date
//! is the only error.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};

/// At most this many clauses are read from one query.
pub const MAX_CLAUSES: usize = 32;

/// Whose posts a search looks through (`in:`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scope {
    /// The viewer's library and the public posts of indexable accounts.
    #[default]
    All,
    /// Only the viewer's own posts and those it interacted with.
    Library,
    /// Only public posts of accounts that opted in (`indexable`).
    Public,
}

/// The account `from:` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Author {
    Me,
    Handle {
        username: String,
        /// None for a bare `user` (this instance's).
        domain: Option<String>,
    },
}

/// One condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// Words that must all be in the post, in any order.
    Words(String),
    /// Words that must be in the post one after the other.
    Phrase(String),
    /// A hashtag (lower case, without `#`).
    Tag(String),
    From(Author),
    /// `has:` media, image, video, audio, poll, link, embed (anything else
    /// matches no post, as in Mastodon).
    Has(String),
    /// `is:` reply, sensitive (anything else matches no post).
    Is(String),
    /// A language's primary subtag, lower case.
    Language(String),
    /// Written before this instant.
    Before(DateTime<Utc>),
    /// Written at or after this instant.
    After(DateTime<Utc>),
    /// Written at or after the first instant, before the second.
    During(DateTime<Utc>, DateTime<Utc>),
}

/// A condition, or its negation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clause {
    pub negated: bool,
    pub condition: Condition,
}

/// A query read from what was typed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Query {
    pub clauses: Vec<Clause>,
    pub scope: Scope,
}

/// Why a query cannot be run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError(pub String);

impl std::fmt::Display for QueryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether Mastodon would search posts for this query at all: not for a
/// hashtag (`#tag ...`) nor for what looks like an account's handle
/// (`@user`, `user@host`); those find hashtags and accounts. A query with
/// an operator (`from:user@host`) is searched.
pub fn searches_posts(query: &str) -> bool {
    let query = query.trim();
    if query.is_empty() || query.starts_with('#') {
        return false;
    }
    let handle_like = !query.contains(char::is_whitespace)
        && query.contains('@')
        && !query.contains(':')
        && !query.contains('"');
    !handle_like
}

/// Reads a query (see the module).
pub fn parse(input: &str) -> Result<Query, QueryError> {
    let mut query = Query::default();
    let chars: Vec<char> = input.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_whitespace() {
            i += 1;
            continue;
        }
        let mut negated = false;
        if (chars[i] == '-' || chars[i] == '+')
            && chars.get(i + 1).is_some_and(|c| !c.is_whitespace())
        {
            negated = chars[i] == '-';
            i += 1;
        }
        // A phrase, or a word (which may be `prefix:` followed by a phrase).
        let mut prefix: Option<String> = None;
        let value: String;
        let mut quoted = false;
        if chars[i] == '"' {
            let (phrase, next) = read_phrase(&chars, i + 1);
            value = phrase;
            quoted = true;
            i = next;
        } else {
            let start = i;
            while i < chars.len() && !chars[i].is_whitespace() && chars[i] != '"' {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            match word.split_once(':') {
                Some((p, rest)) if !p.is_empty() => {
                    prefix = Some(p.to_lowercase());
                    if rest.is_empty() && chars.get(i) == Some(&'"') {
                        let (phrase, next) = read_phrase(&chars, i + 1);
                        value = phrase;
                        quoted = true;
                        i = next;
                    } else {
                        value = rest.to_string();
                    }
                }
                _ => value = word,
            }
        }
        if query.clauses.len() >= MAX_CLAUSES {
            return Err(QueryError(format!(
                "a search has at most {MAX_CLAUSES} words and operators"
            )));
        }
        let condition = match prefix.as_deref() {
            None if quoted => Some(Condition::Phrase(value)),
            None => Some(word_condition(&value)),
            Some(p) => match operator(p, &value)? {
                Operator::Condition(c) => Some(c),
                Operator::Scope(scope) => {
                    query.scope = scope;
                    None
                }
                Operator::Unknown => Some(Condition::Words(format!("{p} {value}"))),
            },
        };
        if let Some(condition) = condition.filter(has_substance) {
            query.clauses.push(Clause { negated, condition });
        }
    }
    Ok(query)
}

/// The words of a phrase from `start` (after its opening quote) to its
/// closing quote or the end, and where reading goes on.
fn read_phrase(chars: &[char], start: usize) -> (String, usize) {
    let mut end = start;
    while end < chars.len() && chars[end] != '"' {
        end += 1;
    }
    let phrase: String = chars[start..end].iter().collect();
    (phrase.trim().to_string(), (end + 1).min(chars.len()))
}

fn word_condition(word: &str) -> Condition {
    match word.strip_prefix('#') {
        Some(tag) if !tag.is_empty() => Condition::Tag(
            tag.chars()
                .filter(|c| c.is_alphanumeric() || *c == '_')
                .collect::<String>()
                .to_lowercase(),
        ),
        _ => Condition::Words(word.to_string()),
    }
}

/// Whether a condition can match anything as written: words need a letter
/// or digit (punctuation alone is no word), a hashtag a character.
fn has_substance(condition: &Condition) -> bool {
    match condition {
        Condition::Words(w) | Condition::Phrase(w) => w.chars().any(char::is_alphanumeric),
        Condition::Tag(t) => !t.is_empty(),
        _ => true,
    }
}

enum Operator {
    Condition(Condition),
    Scope(Scope),
    Unknown,
}

fn operator(prefix: &str, value: &str) -> Result<Operator, QueryError> {
    let lower = value.trim().to_lowercase();
    Ok(Operator::Condition(match prefix {
        "from" => {
            let handle = lower.trim_start_matches('@');
            if handle == "me" {
                Condition::From(Author::Me)
            } else {
                let (username, domain) = match handle.split_once('@') {
                    Some((u, d)) => (u.to_string(), Some(d.to_string())),
                    None => (handle.to_string(), None),
                };
                Condition::From(Author::Handle { username, domain })
            }
        }
        "has" => Condition::Has(lower),
        "is" => Condition::Is(lower),
        "language" => Condition::Language(
            lower
                .split(['-', '_'])
                .next()
                .unwrap_or_default()
                .to_string(),
        ),
        "before" => Condition::Before(day_or_instant(value)?.0),
        "after" => Condition::After(day_or_instant(value)?.1),
        "during" => {
            let (start, end) = day_or_instant(value)?;
            // An instant's day, as a date's.
            let start = if start == end { midnight(start) } else { start };
            Condition::During(start, start + Duration::days(1))
        }
        "in" => {
            return Ok(Operator::Scope(match lower.as_str() {
                "library" => Scope::Library,
                "public" => Scope::Public,
                _ => Scope::All,
            }));
        }
        _ => return Ok(Operator::Unknown),
    }))
}

fn midnight(t: DateTime<Utc>) -> DateTime<Utc> {
    Utc.from_utc_datetime(&t.date_naive().and_hms_opt(0, 0, 0).unwrap_or_default())
}

/// A date (`YYYY-MM-DD`, a UTC day) as its first instant and the first
/// instant of the next day; or milliseconds since 1970 (as Mastodon also
/// accepts) as that instant twice.
fn day_or_instant(value: &str) -> Result<(DateTime<Utc>, DateTime<Utc>), QueryError> {
    let invalid = || QueryError(format!("`{value}` is not a date (YYYY-MM-DD)"));
    let bytes = value.as_bytes();
    if bytes.len() == 10 && bytes[4] == b'-' && bytes[7] == b'-' {
        let day = NaiveDate::parse_from_str(value, "%Y-%m-%d").map_err(|_| invalid())?;
        let start = Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).ok_or_else(invalid)?);
        return Ok((start, start + Duration::days(1)));
    }
    if !value.is_empty() && value.len() <= 19 && value.bytes().all(|b| b.is_ascii_digit()) {
        let millis: i64 = value.parse().map_err(|_| invalid())?;
        let at = DateTime::from_timestamp_millis(millis).ok_or_else(invalid)?;
        return Ok((at, at));
    }
    Err(invalid())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clause(negated: bool, condition: Condition) -> Clause {
        Clause { negated, condition }
    }

    fn day(s: &str) -> DateTime<Utc> {
        Utc.from_utc_datetime(
            &NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap(),
        )
    }

    #[test]
    fn words_phrases_tags_and_negation() {
        let q = parse(r#"wool -acrylic "cable knit" -"lace weight" #Knitting +socks"#).unwrap();
        assert_eq!(
            q.clauses,
            vec![
                clause(false, Condition::Words("wool".into())),
                clause(true, Condition::Words("acrylic".into())),
                clause(false, Condition::Phrase("cable knit".into())),
                clause(true, Condition::Phrase("lace weight".into())),
                clause(false, Condition::Tag("knitting".into())),
                clause(false, Condition::Words("socks".into())),
            ]
        );
        assert_eq!(q.scope, Scope::All);
    }

    #[test]
    fn operators() {
        let q = parse(
            "from:me from:@Alice from:bob@Example.org has:MEDIA -is:reply language:pt-BR in:library",
        )
        .unwrap();
        assert_eq!(
            q.clauses,
            vec![
                clause(false, Condition::From(Author::Me)),
                clause(
                    false,
                    Condition::From(Author::Handle {
                        username: "alice".into(),
                        domain: None
                    })
                ),
                clause(
                    false,
                    Condition::From(Author::Handle {
                        username: "bob".into(),
                        domain: Some("example.org".into())
                    })
                ),
                clause(false, Condition::Has("media".into())),
                clause(true, Condition::Is("reply".into())),
                clause(false, Condition::Language("pt".into())),
            ]
        );
        assert_eq!(q.scope, Scope::Library);
        assert_eq!(parse("in:public").unwrap().scope, Scope::Public);
        assert_eq!(parse("in:anything").unwrap().scope, Scope::All);
    }

    #[test]
    fn dates() {
        let q = parse("before:2026-03-02 after:2026-03-01 during:2026-02-28").unwrap();
        assert_eq!(
            q.clauses,
            vec![
                clause(false, Condition::Before(day("2026-03-02"))),
                clause(false, Condition::After(day("2026-03-02"))),
                clause(
                    false,
                    Condition::During(day("2026-02-28"), day("2026-03-01"))
                ),
            ]
        );
        let millis = parse("before:1767225600000").unwrap();
        assert_eq!(
            millis.clauses,
            vec![clause(false, Condition::Before(day("2026-01-01")))]
        );
        for bad in [
            "before:yesterday",
            "after:2026-13-01",
            "during:2026-02-30",
            "before:",
            "after:12345678901234567890",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn unknown_prefixes_are_words_and_junk_is_dropped() {
        let q = parse(r#"note:taking !!! - " " #"#).unwrap();
        assert_eq!(
            q.clauses,
            vec![clause(false, Condition::Words("note taking".into()))]
        );
        let q = parse(r#"language:"en" "unclosed phrase"#).unwrap();
        assert_eq!(
            q.clauses,
            vec![
                clause(false, Condition::Language("en".into())),
                clause(false, Condition::Phrase("unclosed phrase".into())),
            ]
        );
        let many = "word ".repeat(MAX_CLAUSES + 1);
        assert!(parse(&many).is_err());
    }

    #[test]
    fn which_queries_search_posts() {
        assert!(searches_posts("wool socks"));
        assert!(searches_posts("from:alice@example.org"));
        assert!(!searches_posts("#knitting"));
        assert!(!searches_posts("@alice"));
        assert!(!searches_posts("alice@example.org"));
        assert!(!searches_posts("   "));
    }
}
