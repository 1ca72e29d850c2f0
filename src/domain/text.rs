//! Post text: what people type (plain text) split into links, @mentions and
//! #hashtags, counted as Mastodon counts characters, and rendered to the HTML
//! that Mastodon and its apps expect.

use std::sync::LazyLock;

use regex::Regex;

use crate::domain::limits;

/// A piece of typed text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    Text(String),
    Url(String),
    /// `@user` or `@user@host`.
    Mention {
        user: String,
        host: Option<String>,
    },
    /// A hashtag, without the `#`.
    Hashtag(String),
}

/// Every link counts as this many characters, whatever its length.
pub const URL_LENGTH: usize = 23;

static URL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"https?://[^\s<>"]+"#).expect("the URL pattern is valid"));
static MENTION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(^|[^\w/@.])@([A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?)(?:@([A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]{1,5})?))?",
    )
    .expect("the mention pattern is valid")
});
static HASHTAG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(^|[^\w/#&])#(\w*[\p{L}_]\w*)").expect("the hashtag pattern is valid")
});

/// Strips punctuation that ends a sentence rather than a link, keeping a
/// closing parenthesis that has its opening one inside the link.
fn trim_url(url: &str) -> &str {
    let mut end = url.len();
    loop {
        let candidate = &url[..end];
        let Some(last) = candidate.chars().last() else {
            return candidate;
        };
        let trailing = matches!(last, '.' | ',' | ';' | ':' | '!' | '?' | '\'' | '"' | '*')
            || (last == ')' && candidate.matches('(').count() < candidate.matches(')').count());
        if !trailing {
            return candidate;
        }
        end -= last.len_utf8();
    }
}

/// Splits text into tokens. Links win over mentions and hashtags inside them.
pub fn tokenize(text: &str) -> Vec<Token> {
    // (start, end, token) of every special span, in order, not overlapping.
    let mut spans: Vec<(usize, usize, Token)> = Vec::new();
    for m in URL.find_iter(text) {
        let url = trim_url(m.as_str());
        if url::Url::parse(url).is_ok_and(|u| u.host_str().is_some()) {
            spans.push((
                m.start(),
                m.start() + url.len(),
                Token::Url(url.to_string()),
            ));
        }
    }
    let inside_link = |spans: &[(usize, usize, Token)], at: usize| {
        spans.iter().any(|(s, e, _)| at >= *s && at < *e)
    };
    let mut others = Vec::new();
    for c in MENTION.captures_iter(text) {
        let whole = c.get(0).expect("group 0 always matches");
        let start = whole.start() + c.get(1).map_or(0, |p| p.len());
        if inside_link(&spans, start) {
            continue;
        }
        others.push((
            start,
            whole.end(),
            Token::Mention {
                user: c[2].to_string(),
                host: c.get(3).map(|h| h.as_str().to_ascii_lowercase()),
            },
        ));
    }
    for c in HASHTAG.captures_iter(text) {
        let whole = c.get(0).expect("group 0 always matches");
        let start = whole.start() + c.get(1).map_or(0, |p| p.len());
        if inside_link(&spans, start) || inside_link(&others, start) {
            continue;
        }
        others.push((start, whole.end(), Token::Hashtag(c[2].to_string())));
    }
    spans.extend(others);
    spans.sort_by_key(|(start, _, _)| *start);

    let mut tokens = Vec::new();
    let mut at = 0;
    for (start, end, token) in spans {
        if start < at {
            continue;
        }
        if start > at {
            tokens.push(Token::Text(text[at..start].to_string()));
        }
        tokens.push(token);
        at = end;
    }
    if at < text.len() {
        tokens.push(Token::Text(text[at..].to_string()));
    }
    tokens
}

/// Characters as Mastodon counts them: a link is 23, a mention of a remote
/// account counts only its `@user` part, everything else by character.
pub fn count_characters(text: &str) -> usize {
    tokenize(text)
        .iter()
        .map(|t| match t {
            Token::Text(s) => s.chars().count(),
            Token::Url(_) => URL_LENGTH,
            Token::Mention { user, .. } => 1 + user.chars().count(),
            Token::Hashtag(tag) => 1 + tag.chars().count(),
        })
        .sum()
}

/// The mentions in text, in order of first appearance, without repeats.
pub fn mentions(tokens: &[Token]) -> Vec<(String, Option<String>)> {
    let mut found: Vec<(String, Option<String>)> = Vec::new();
    for token in tokens {
        if let Token::Mention { user, host } = token {
            let key = (user.clone(), host.clone());
            if !found
                .iter()
                .any(|(u, h)| u.eq_ignore_ascii_case(user) && h == host)
            {
                found.push(key);
            }
        }
    }
    found
}

/// A hashtag's name as an API call gives it (Mastodon's `HASHTAG_NAME_RE`:
/// word characters with at least one letter or `_`, one leading `#`
/// allowed), as written; None when it is not one.
pub fn hashtag_name(raw: &str) -> Option<&str> {
    static NAME: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^\w*[\p{L}_]\w*$").expect("the hashtag name pattern is valid")
    });
    let name = raw.strip_prefix('#').unwrap_or(raw);
    (!name.is_empty() && name.chars().count() <= limits::HASHTAG && NAME.is_match(name))
        .then_some(name)
}

/// The hashtags in text, lower-cased, without repeats.
pub fn hashtags(tokens: &[Token]) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for token in tokens {
        if let Token::Hashtag(tag) = token {
            let tag = tag.to_lowercase();
            if !found.contains(&tag) {
                found.push(tag);
            }
        }
    }
    found
}

/// Plain text escaped for HTML.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A link as Mastodon writes it: the scheme hidden, the rest cut after 30
/// characters with an ellipsis, so that apps show it short.
fn link(url: &str) -> String {
    let (scheme, rest) = url
        .split_once("://")
        .map(|(s, r)| (format!("{s}://"), r))
        .unwrap_or_default();
    let (shown, hidden): (String, String) = if rest.chars().count() > 30 {
        (
            rest.chars().take(30).collect(),
            rest.chars().skip(30).collect(),
        )
    } else {
        (rest.to_string(), String::new())
    };
    let class = if hidden.is_empty() {
        ""
    } else {
        " class=\"ellipsis\""
    };
    format!(
        "<a href=\"{}\" target=\"_blank\" rel=\"nofollow noopener noreferrer\" translate=\"no\"><span class=\"invisible\">{}</span><span{class}>{}</span><span class=\"invisible\">{}</span></a>",
        escape(url),
        escape(&scheme),
        escape(&shown),
        escape(&hidden)
    )
}

/// Renders tokens to HTML paragraphs. `mention_url` gives the profile URL of
/// a mentioned account, or None to leave the text as typed; `tag_url` gives
/// a hashtag's page.
pub fn render(
    tokens: &[Token],
    mention_url: impl Fn(&str, Option<&str>) -> Option<String>,
    tag_url: impl Fn(&str) -> String,
) -> String {
    let mut inline = String::new();
    for token in tokens {
        match token {
            Token::Text(text) => inline.push_str(&escape(text)),
            Token::Url(url) => inline.push_str(&link(url)),
            Token::Mention { user, host } => match mention_url(user, host.as_deref()) {
                Some(url) => inline.push_str(&format!(
                    "<span class=\"h-card\" translate=\"no\"><a href=\"{}\" class=\"u-url mention\">@<span>{}</span></a></span>",
                    escape(&url),
                    escape(user)
                )),
                None => {
                    inline.push('@');
                    inline.push_str(&escape(user));
                    if let Some(host) = host {
                        inline.push('@');
                        inline.push_str(&escape(host));
                    }
                }
            },
            Token::Hashtag(tag) => inline.push_str(&format!(
                "<a href=\"{}\" class=\"mention hashtag\" rel=\"tag\">#<span>{}</span></a>",
                escape(&tag_url(&tag.to_lowercase())),
                escape(tag)
            )),
        }
    }
    // Paragraphs and line breaks come from the text, which is escaped: split
    // the rendered HTML on the newlines escape() kept.
    inline
        .replace("\r\n", "\n")
        .split("\n\n")
        .map(|p| p.trim_matches('\n'))
        .filter(|p| !p.trim().is_empty())
        .map(|p| format!("<p>{}</p>", p.replace('\n', "<br>")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_links_mentions_and_hashtags() {
        let tokens =
            tokenize("Hi @bob@beta.test:8080 and @carol, see https://a.example/x?y=1. #Rust!");
        assert_eq!(
            tokens,
            vec![
                Token::Text("Hi ".into()),
                Token::Mention {
                    user: "bob".into(),
                    host: Some("beta.test:8080".into())
                },
                Token::Text(" and ".into()),
                Token::Mention {
                    user: "carol".into(),
                    host: None
                },
                Token::Text(", see ".into()),
                Token::Url("https://a.example/x?y=1".into()),
                Token::Text(". ".into()),
                Token::Hashtag("Rust".into()),
                Token::Text("!".into()),
            ]
        );
    }

    #[test]
    fn ignores_look_alikes() {
        for text in [
            "mail me at a@b.example",
            "https://x.example/#anchor",
            "https://x.example/@user",
            "issue #123",
            "a&#39;b",
        ] {
            let tokens = tokenize(text);
            assert!(
                tokens
                    .iter()
                    .all(|t| !matches!(t, Token::Mention { .. } | Token::Hashtag(_))),
                "{text}: {tokens:?}"
            );
        }
        assert_eq!(
            tokenize("(see https://e.example/a_(b))")[1],
            Token::Url("https://e.example/a_(b)".into())
        );
    }

    #[test]
    fn counts_characters_as_mastodon_does() {
        assert_eq!(count_characters("hello"), 5);
        assert_eq!(
            count_characters("https://example.com/a/very/long/path/that/goes/on"),
            23
        );
        assert_eq!(count_characters("@bob@some.very.long.domain.example hi"), 7);
        assert_eq!(count_characters("héllo 👋"), 7);
    }

    #[test]
    fn renders_html_as_mastodon_apps_expect() {
        let tokens = tokenize("Hi @bob <b>\n\nhttps://a.example/ #Tag");
        let html = render(
            &tokens,
            |user, host| {
                (user == "bob" && host.is_none()).then(|| "https://h.example/@bob".to_string())
            },
            |tag| format!("https://h.example/tags/{tag}"),
        );
        assert_eq!(
            html,
            "<p>Hi <span class=\"h-card\" translate=\"no\"><a href=\"https://h.example/@bob\" class=\"u-url mention\">@<span>bob</span></a></span> &lt;b&gt;</p>\
             <p><a href=\"https://a.example/\" target=\"_blank\" rel=\"nofollow noopener noreferrer\" translate=\"no\"><span class=\"invisible\">https://</span><span>a.example/</span><span class=\"invisible\"></span></a> \
             <a href=\"https://h.example/tags/tag\" class=\"mention hashtag\" rel=\"tag\">#<span>Tag</span></a></p>"
        );
        assert_eq!(
            render(&tokenize("a <b>\nc\n\nd"), |_, _| None, |t| t.to_string()),
            "<p>a &lt;b&gt;<br>c</p><p>d</p>"
        );
        let unresolved = render(
            &tokenize("@nobody@x.example"),
            |_, _| None,
            |t| t.to_string(),
        );
        assert_eq!(unresolved, "<p>@nobody@x.example</p>");
    }

    #[test]
    fn hashtag_names_are_checked_as_mastodon_checks_them() {
        assert_eq!(hashtag_name("Rust"), Some("Rust"));
        assert_eq!(hashtag_name("#caf\u{e9}_2"), Some("caf\u{e9}_2"));
        assert_eq!(hashtag_name("_"), Some("_"));
        assert_eq!(hashtag_name("2024"), None);
        assert_eq!(hashtag_name("a-b"), None);
        assert_eq!(hashtag_name(""), None);
        assert_eq!(hashtag_name("##a"), None);
    }

    #[test]
    fn lists_mentions_and_hashtags_once() {
        let tokens = tokenize("@a @A @a@h.example #x #X #y");
        assert_eq!(
            mentions(&tokens),
            vec![("a".into(), None), ("a".into(), Some("h.example".into()))]
        );
        assert_eq!(hashtags(&tokens), vec!["x".to_string(), "y".to_string()]);
    }
}
