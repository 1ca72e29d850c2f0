//! Sanitising remote HTML with Mastodon's allow-list (shared/INTEROP.md,
//! "Remote HTML and text"), and escaping plain text.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

const HEADINGS: [&str; 6] = ["h1", "h2", "h3", "h4", "h5", "h6"];

/// The class of the paragraph in which Mastodon (and Skein) write a quote
/// post's link for servers that do not show quotes.
pub const QUOTE_INLINE: &str = "quote-inline";

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
    attributes.insert("p", ["class"].into());
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
        .attribute_filter(|element, attribute, value| {
            if attribute != "class" {
                return Some(Cow::Borrowed(value));
            }
            let kept: Vec<&str> = value
                .split_whitespace()
                .filter(|c| allowed_class(element, c))
                .collect();
            (!kept.is_empty()).then(|| Cow::Owned(kept.join(" ")))
        });
    builder
});

/// Microformats and Mastodon's own classes; on a paragraph only
/// `quote-inline`, the mark of a quote post's fallback link (kept so that it
/// can be left out where the quote itself is shown).
fn allowed_class(element: &str, class: &str) -> bool {
    if element == "p" {
        return class == QUOTE_INLINE;
    }
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

/// A quote post's HTML as shown beside the quoted post: without the link to
/// the quoted post that its author's server wrote for servers that do not
/// show quotes (Mastodon 4.5 leaves it out of the API's `content` the same
/// way). That is every `<p class="quote-inline">` (Mastodon, Skein), or else
/// a last line "RE: <link>" to the quoted post (`quoted`: its id and page
/// URL), as Misskey, Pleroma and Threads write it. `html` is sanitised or
/// Skein's own HTML; anything else in it stays as it is.
pub fn without_quote_fallback(html: &str, quoted: &[&str]) -> String {
    static QUOTE_INLINE_P: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new(r#"(?s)<p class="([^"]*)">.*?</p>"#)
            .expect("the quote-inline pattern is valid")
    });
    let mut removed = false;
    let without = QUOTE_INLINE_P.replace_all(html, |found: &regex::Captures| {
        if found[1].split_whitespace().any(|c| c == QUOTE_INLINE) {
            removed = true;
            String::new()
        } else {
            found[0].to_string()
        }
    });
    if removed {
        return without.into_owned();
    }
    without_trailing_re(html, quoted).unwrap_or_else(|| html.to_string())
}

/// `html` without a last "RE: <link to the quoted post>" (the link as an
/// `<a>` or as bare text) and the line breaks before it; the elements it
/// sat in are closed as before, and dropped when nothing is left in them.
fn without_trailing_re(html: &str, quoted: &[&str]) -> Option<String> {
    // A link's text is text and Mastodon's `<span>`s; between "RE:" and the
    // link only spaces and the edges of `<span>`s (Misskey: `RE: </span><a`).
    static TRAILING_RE: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new(concat!(
            r#"(?s)(?:\s|<br\s*/?>)*RE:(?:\s|&nbsp;|</?span[^>]*>)*"#,
            r#"(?:(<a\s[^>]*?href="([^"]*)"[^>]*>(?:[^<]|</?span[^>]*>)*</a>)|(https?://[^\s<]+))"#,
            r#"((?:\s|</(?:p|span)>)*)$"#,
        ))
        .expect("the trailing RE: pattern is valid")
    });
    static TAG: LazyLock<regex::Regex> =
        LazyLock::new(|| regex::Regex::new(r"<[^>]*>").expect("the tag pattern is valid"));
    let found = TRAILING_RE.captures(html)?;
    let link = found.get(2).or_else(|| found.get(3))?.as_str();
    let link = link.replace("&amp;", "&");
    if !quoted.iter().any(|q| *q == link) {
        return None;
    }
    let whole = found.get(0)?;
    // What the fallback leaves: the edges of the elements it crossed.
    let anchor = found.get(1).map_or(0..0, |a| a.range());
    let mut kept = String::new();
    for tag in TAG.find_iter(&html[whole.range()]) {
        let at = whole.start() + tag.start();
        if anchor.contains(&at) || tag.as_str().starts_with("<br") {
            continue;
        }
        kept.push_str(tag.as_str());
    }
    let mut out = format!("{}{kept}", &html[..whole.start()]);
    loop {
        let before = out.len();
        out = out.replace("<span></span>", "").replace("<p></p>", "");
        if out.len() == before {
            break;
        }
    }
    Some(out)
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
    fn a_quote_posts_fallback_paragraph_keeps_its_class_and_no_other() {
        let clean = sanitize(
            r#"<p class="quote-inline evil">RE: <a href="https://a.example/1">x</a></p><p class="evil">b</p><span class="quote-inline">c</span>"#,
        );
        assert_eq!(
            clean,
            r#"<p class="quote-inline">RE: <a href="https://a.example/1" rel="nofollow noopener noreferrer">x</a></p><p>b</p><span>c</span>"#
        );
    }

    const QUOTED: [&str; 2] = [
        "https://b.example/users/bo/statuses/9",
        "https://b.example/@bo/9",
    ];

    #[test]
    fn the_quote_inline_paragraph_is_left_out_beside_the_quote() {
        // Mastodon's, after sanitising.
        let mastodon = sanitize(
            r#"<p>Worth reading.</p><p class="quote-inline">RE: <a href="https://b.example/@bo/9"><span class="invisible">https://</span><span class="">b.example/@bo/9</span></a></p>"#,
        );
        assert_eq!(
            without_quote_fallback(&mastodon, &QUOTED),
            "<p>Worth reading.</p>"
        );
        // Skein's own, whatever the link.
        let skein = r#"<p>Mine</p><p class="quote-inline"><br>RE: <a href="https://elsewhere.example/x">https://elsewhere.example/x</a></p>"#;
        assert_eq!(without_quote_fallback(skein, &QUOTED), "<p>Mine</p>");
        // A quote with nothing else to say.
        assert_eq!(
            without_quote_fallback(
                r#"<p class="quote-inline">RE: <a href="https://b.example/@bo/9">b</a></p>"#,
                &QUOTED
            ),
            ""
        );
    }

    #[test]
    fn a_last_re_line_linking_the_quoted_post_is_left_out() {
        let cases = [
            // Misskey
            (
                r#"<p><span>this!<br><br>RE: </span><a href="https://b.example/users/bo/statuses/9" rel="nofollow noopener noreferrer">https://b.example/users/bo/statuses/9</a></p>"#,
                "<p><span>this!</span></p>",
            ),
            // Pleroma, as text
            (
                "This is a quote:<br>RE: https://b.example/users/bo/statuses/9",
                "This is a quote:",
            ),
            // Threads, and Mastodon's paragraph stored without its class
            (
                r#"<p>Still thinking.</p><p>RE: <a href="https://b.example/@bo/9" rel="nofollow noopener noreferrer">b.example/@bo/9</a></p>"#,
                "<p>Still thinking.</p>",
            ),
        ];
        for (html, shown) in cases {
            assert_eq!(without_quote_fallback(html, &QUOTED), shown, "{html}");
        }
    }

    #[test]
    fn other_re_lines_and_links_stay() {
        for html in [
            // A link to another post.
            r#"<p>a</p><p>RE: <a href="https://c.example/1">https://c.example/1</a></p>"#,
            // Text after the link.
            r#"<p>RE: <a href="https://b.example/@bo/9">x</a> and more</p>"#,
            // No RE: before it.
            r#"<p>see <a href="https://b.example/@bo/9">x</a></p>"#,
            "<p>plain</p>",
        ] {
            assert_eq!(without_quote_fallback(html, &QUOTED), html);
        }
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
