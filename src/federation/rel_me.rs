//! Profile link verification by `rel="me"` (the IndieWeb convention
//! Mastodon uses): a profile field whose value is a link to a page is
//! verified when that page links back to the account with a `rel="me"`
//! link. Pure functions over HTML, no I/O; `service::link_verification`
//! fetches the pages.
//!
//! The rules, as Mastodon applies them: only a field whose whole value is
//! one http(s) link counts, and a link element counts only when its visible
//! text is its target; on the page, an `<a>` or `<link>` element whose
//! `rel` contains the token `me` (any case) must have an `href` exactly
//! equal to the account's profile page or actor id. Nothing else counts: not
//! a link in text, not a different path, not another rel.

use std::cell::{Cell, RefCell};

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::{
    BufferQueue, CharacterTokens, StartTag, TagToken, Token, TokenSink, TokenSinkResult, Tokenizer,
    TokenizerOpts,
};
use url::Url;

/// The link a field's value is, if it is one http(s) link and nothing else.
/// Values are HTML: local ones escaped text, remote ones sanitised HTML such
/// as Mastodon's `<a href="..." rel="me">...</a>`.
///
/// A value with a link element counts only when it is that one element and
/// the element's visible text is its `href` (Mastodon's rule): otherwise a
/// field could show one address and be verified for another.
pub fn field_link(value_html: &str) -> Option<Url> {
    #[derive(Default)]
    struct Reader {
        inside: Cell<bool>,
        links: Cell<u32>,
        outside: RefCell<String>,
        text: RefCell<String>,
        href: RefCell<Option<String>>,
    }
    impl TokenSink for Reader {
        type Handle = ();
        fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
            match token {
                CharacterTokens(chars) if self.inside.get() => {
                    self.text.borrow_mut().push_str(&chars)
                }
                CharacterTokens(chars) => self.outside.borrow_mut().push_str(&chars),
                TagToken(tag) if &*tag.name == "a" && tag.kind == StartTag => {
                    self.links.set(self.links.get() + 1);
                    self.inside.set(true);
                    *self.href.borrow_mut() = tag
                        .attrs
                        .iter()
                        .find(|a| &*a.name.local == "href")
                        .map(|a| a.value.to_string());
                }
                TagToken(tag) if &*tag.name == "a" => self.inside.set(false),
                _ => {}
            }
            TokenSinkResult::Continue
        }
    }
    let reader = tokenize(value_html, Reader::default());
    let outside = reader.outside.into_inner();
    let outside = outside.trim();
    let href = match reader.links.get() {
        0 => {
            if outside.is_empty() || outside.contains(char::is_whitespace) {
                return None;
            }
            outside.to_string()
        }
        1 => {
            let text = reader.text.into_inner();
            let href = reader.href.into_inner()?;
            if !outside.is_empty() || text.trim() != href.trim() {
                return None;
            }
            href
        }
        _ => return None,
    };
    let url = Url::parse(href.trim()).ok()?;
    matches!(url.scheme(), "http" | "https")
        .then_some(url)
        .filter(|u| u.host_str().is_some())
}

/// Whether `html` has an `<a>` or `<link>` with `rel` containing `me` whose
/// `href` is exactly one of `targets`.
pub fn links_back(html: &str, targets: &[&str]) -> bool {
    struct Finder<'t> {
        targets: &'t [&'t str],
        found: RefCell<bool>,
    }
    impl TokenSink for Finder<'_> {
        type Handle = ();
        fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
            if let TagToken(tag) = token
                && tag.kind == StartTag
                && matches!(&*tag.name, "a" | "link")
            {
                let attr = |name: &str| {
                    tag.attrs
                        .iter()
                        .find(|a| &*a.name.local == name)
                        .map(|a| a.value.to_string())
                };
                let rel_me = attr("rel").is_some_and(|rel| {
                    rel.split_ascii_whitespace()
                        .any(|token| token.eq_ignore_ascii_case("me"))
                });
                // HTML strips leading and trailing whitespace from URLs;
                // everything else must match exactly.
                let href = attr("href");
                let href = href
                    .as_deref()
                    .map(|h| h.trim_matches(|c: char| c.is_ascii_whitespace()));
                if rel_me && href.is_some_and(|h| self.targets.contains(&h)) {
                    *self.found.borrow_mut() = true;
                }
            }
            TokenSinkResult::Continue
        }
    }
    let finder = tokenize(
        html,
        Finder {
            targets,
            found: RefCell::new(false),
        },
    );
    finder.found.into_inner()
}

fn tokenize<S: TokenSink>(html: &str, sink: S) -> S {
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(html));
    let tokenizer = Tokenizer::new(sink, TokenizerOpts::default());
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    tokenizer.sink
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: &str = "https://skein.example/@alice";
    const ACTOR: &str = "https://skein.example/users/alice";

    #[test]
    fn a_field_is_a_link_only_when_its_whole_value_is_one() {
        let remote = r#"<a href="https://alice.example/about" rel="me nofollow noopener noreferrer" target="_blank"><span class="invisible">https://</span><span class="">alice.example/about</span><span class="invisible"></span></a>"#;
        assert_eq!(
            field_link(remote).unwrap().as_str(),
            "https://alice.example/about"
        );
        assert_eq!(
            field_link("https://alice.example/?a=1&amp;b=2")
                .unwrap()
                .as_str(),
            "https://alice.example/?a=1&b=2"
        );
        assert!(field_link("see https://alice.example").is_none());
        assert!(
            field_link(r#"<a href="https://alice.example/">https://alice.example/</a>"#).is_some()
        );
        assert!(field_link("javascript:alert(1)").is_none());
        assert!(field_link("mailto:alice@example.com").is_none());
        assert!(field_link("").is_none());
    }

    #[test]
    fn a_link_counts_only_when_its_text_is_its_target() {
        for hostile in [
            // Shows one site, would be verified for another.
            r#"<a href="https://evil.example/" rel="me">https://alice.example/</a>"#,
            r#"<a href="https://evil.example/">alice.example</a>"#,
            r#"<a href="https://alice.example/">my site</a>"#,
            // Text beside the link, or two links.
            r#"me: <a href="https://alice.example/">https://alice.example/</a>"#,
            r#"<a href="https://alice.example/">https://alice.example/</a> (old)"#,
            r#"<a href="https://a.example/">https://a.example/</a><a href="https://b.example/">https://b.example/</a>"#,
            r#"<a>https://alice.example/</a>"#,
        ] {
            assert!(field_link(hostile).is_none(), "{hostile}");
        }
    }

    #[test]
    fn only_an_exact_rel_me_link_back_counts() {
        let targets = [ME, ACTOR];
        assert!(links_back(
            &format!(r#"<p>Me: <a rel="me" href="{ME}">Mastodon</a></p>"#),
            &targets
        ));
        assert!(links_back(
            &format!(r#"<head><link rel="me" href="{ACTOR}"></head>"#),
            &targets
        ));
        assert!(links_back(
            &format!(r#"<a href="{ME}" rel="nofollow ME noopener">x</a>"#),
            &targets
        ));
        // Not rel=me, another path, a trailing slash, another host, or only text.
        assert!(!links_back(&format!(r#"<a href="{ME}">x</a>"#), &targets));
        assert!(!links_back(
            &format!(r#"<a rel="meh" href="{ME}">x</a>"#),
            &targets
        ));
        assert!(!links_back(
            &format!(r#"<a rel="me" href="{ME}/">x</a>"#),
            &targets
        ));
        assert!(!links_back(
            r#"<a rel="me" href="https://skein.example/@alice2">x</a>"#,
            &targets
        ));
        assert!(!links_back(
            r#"<a rel="me" href="https://evil.example/@alice">x</a>"#,
            &targets
        ));
        assert!(!links_back(&format!("<p>{ME}</p>"), &targets));
        assert!(!links_back(
            &format!(r#"<!-- <a rel="me" href="{ME}"> -->"#),
            &targets
        ));
    }
}
