//! Sanitising remote HTML with Mastodon's allow-list (shared/INTEROP.md,
//! "Remote HTML and text"), and escaping plain text.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

const HEADINGS: [&str; 6] = ["h1", "h2", "h3", "h4", "h5", "h6"];

static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut builder = ammonia::Builder::empty();
    let tags: HashSet<&str> = [
        "p",
        "span",
        "br",
        "a",
        "del",
        "pre",
        "code",
        "em",
        "strong",
        "b",
        "i",
        "u",
        "ul",
        "ol",
        "li",
        "blockquote",
    ]
    .into_iter()
    .chain(HEADINGS)
    .collect();
    let mut attributes: HashMap<&str, HashSet<&str>> = HashMap::new();
    attributes.insert("span", ["class"].into());
    attributes.insert("a", ["href", "class"].into());
    attributes.insert("ol", ["start", "reversed"].into());
    attributes.insert("li", ["value"].into());
    builder
        .tags(tags)
        .tag_attributes(attributes)
        .url_schemes(
            [
                "http", "https", "dat", "dweb", "ipfs", "ipns", "ssb", "gopher", "xmpp", "magnet",
                "gemini",
            ]
            .into(),
        )
        .link_rel(Some("nofollow noopener noreferrer"))
        .strip_comments(true)
        .attribute_filter(|_element, attribute, value| {
            if attribute != "class" {
                return Some(Cow::Borrowed(value));
            }
            let kept: Vec<&str> = value
                .split_whitespace()
                .filter(|c| allowed_class(c))
                .collect();
            (!kept.is_empty()).then(|| Cow::Owned(kept.join(" ")))
        });
    builder
});

fn allowed_class(class: &str) -> bool {
    ["h-", "p-", "u-", "dt-", "e-"]
        .iter()
        .any(|prefix| class.starts_with(prefix))
        || matches!(class, "mention" | "hashtag" | "ellipsis" | "invisible")
}

/// Remote HTML made safe to show: only the allowed elements, attributes,
/// classes and link schemes; headings become bold paragraphs; links get
/// `rel="nofollow noopener noreferrer"`.
pub fn sanitize(html: &str) -> String {
    let mut clean = SANITIZER.clean(html).to_string();
    for heading in HEADINGS {
        clean = clean
            .replace(&format!("<{heading}>"), "<p><strong>")
            .replace(&format!("</{heading}>"), "</strong></p>");
    }
    clean
}

pub use crate::domain::text::escape;

/// Shows custom emoji: every `:shortcode:` of `emojis` in the text of
/// sanitised HTML (never inside a tag or an attribute) becomes its image.
/// Shortcodes are letters, digits and underscores.
pub fn emojify(html: &str, emojis: &[(String, String)]) -> String {
    if emojis.is_empty() {
        return html.to_string();
    }
    let replace = |text: &str| {
        let mut text = text.to_string();
        for (code, url) in emojis {
            let image = format!(
                "<img src=\"{}\" alt=\":{code}:\" title=\":{code}:\" class=\"custom-emoji\" width=\"20\" height=\"20\">",
                escape(url)
            );
            text = text.replace(&format!(":{code}:"), &image);
        }
        text
    };
    // Sanitised HTML quotes every attribute value with `"`: a `>` ends a tag
    // only outside quotes.
    let mut out = String::with_capacity(html.len());
    let mut text = String::new();
    let (mut in_tag, mut in_quote) = (false, false);
    for c in html.chars() {
        if in_tag {
            out.push(c);
            match c {
                '"' => in_quote = !in_quote,
                '>' if !in_quote => in_tag = false,
                _ => {}
            }
        } else if c == '<' {
            out.push_str(&replace(&text));
            text.clear();
            out.push(c);
            in_tag = true;
        } else {
            text.push(c);
        }
    }
    out.push_str(&replace(&text));
    out
}

/// A plain-text field from a remote document: control characters removed,
/// at most `max` characters.
pub fn plain_text(text: &str, max: usize) -> String {
    text.chars()
        .filter(|c| !c.is_control() || *c == '\n')
        .take(max)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_mastodon_markup_and_drops_the_rest() {
        let dirty = r#"<p onclick="x()">Hi <a href="https://a.example/" class="u-url mention evil" target="_blank">@a</a><script>alert(1)</script><img src=x></p><h2>Title</h2><a href="javascript:alert(1)">js</a>"#;
        let clean = sanitize(dirty);
        assert!(clean.contains(r#"<a href="https://a.example/" class="u-url mention" rel="nofollow noopener noreferrer">@a</a>"#), "{clean}");
        assert!(!clean.contains("script"));
        assert!(!clean.contains("onclick"));
        assert!(!clean.contains("<img"));
        assert!(!clean.contains("javascript"));
        assert!(clean.contains("<p><strong>Title</strong></p>"), "{clean}");
    }

    #[test]
    fn custom_emoji_become_images() {
        let html = emojify(
            "<p>hi :blob: :other:</p>",
            &[("blob".into(), "https://e.example/blob.png?a=1&b=2".into())],
        );
        assert_eq!(
            html,
            "<p>hi <img src=\"https://e.example/blob.png?a=1&amp;b=2\" alt=\":blob:\" title=\":blob:\" class=\"custom-emoji\" width=\"20\" height=\"20\"> :other:</p>"
        );
    }

    #[test]
    fn custom_emoji_stay_out_of_tags_and_attributes() {
        let html = emojify(
            r#"<p><a href="https://x.example/:blob:" title="a>b :blob:">:blob:</a></p>"#,
            &[("blob".into(), "https://e.example/b.png".into())],
        );
        assert!(
            html.starts_with(r#"<p><a href="https://x.example/:blob:" title="a>b :blob:"><img"#),
            "{html}"
        );
        assert_eq!(html.matches("<img").count(), 1);
    }

    #[test]
    fn plain_text_fields_lose_control_characters_and_are_cut() {
        assert_eq!(plain_text("a\u{0}b\u{7}c", 2), "ab");
    }
}
