//! Link previews without I/O: which link of a post gets a preview, what a
//! page says about itself (OpenGraph, Twitter and `<meta>` tags, JSON-LD,
//! `<title>`, `<html lang>`, its oEmbed endpoint), and an oEmbed answer.
//! `service::cards` fetches the pages and stores the cards.
//!
//! The rules are Mastodon's (`FetchLinkCardService`, `LinkDetailsExtractor`,
//! `FetchOEmbedService`): the first http(s) link of the post that is not a
//! mention, a hashtag, the quote's link (`quote-inline`) or a link to this
//! instance; a page's title from JSON-LD's `headline`, `og:title`, then
//! `<title>`; its description from JSON-LD, `og:description`, then
//! `<meta name="description">`; its image from `og:image`. Twitter's tags
//! are read where OpenGraph says nothing (`twitter:title`,
//! `twitter:description`, `twitter:image`), and a `twitter:player` makes
//! the card a video, as Mastodon does.
//!
//! HTML is read with html5ever's tokenizer (the HTML standard's), switched
//! into raw text inside `<script>`, `<style>`, `<title>` and `<textarea>` as
//! a browser's tree builder does, so markup inside scripts is not taken for
//! tags.

use std::cell::RefCell;

use chrono::{DateTime, Utc};
use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, CharacterTokens, EndTag, StartTag, TagToken, Token, TokenSink, TokenSinkResult,
    Tokenizer, TokenizerOpts,
};
use serde_json::Value;
use url::Url;

/// The class of the paragraph that carries a quote's link for servers
/// that do not show quotes (`federation::html::QUOTE_INLINE`).
const QUOTE_INLINE: &str = "quote-inline";
/// The longest URL a card is made for (Mastodon: 2692 bytes, what its
/// unique index can hold).
pub const MAX_URL_BYTES: usize = 2692;
/// The longest title and description kept, in characters (Mastodon's
/// `PreviewCard` limits: title 2000, description 2000).
const MAX_TEXT: usize = 2000;
/// The longest names and short fields kept.
const MAX_SHORT: usize = 500;

/// What a card is, by Mastodon's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardKind {
    Link,
    Photo,
    Video,
    Rich,
}

impl CardKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CardKind::Link => "link",
            CardKind::Photo => "photo",
            CardKind::Video => "video",
            CardKind::Rich => "rich",
        }
    }

    pub fn parse(raw: &str) -> Option<CardKind> {
        match raw {
            "link" => Some(CardKind::Link),
            "photo" => Some(CardKind::Photo),
            "video" => Some(CardKind::Video),
            "rich" => Some(CardKind::Rich),
            _ => None,
        }
    }
}

/// What a post's links are checked against.
pub struct LinkRules<'a> {
    /// This instance's `host[:port]`: its own pages get no card.
    pub local_authority: &'a str,
    /// The URLs of the accounts the post mentions (their links are no
    /// preview's).
    pub mention_urls: &'a [String],
    /// The quoted post's URLs (id and page).
    pub quote_urls: &'a [String],
}

/// The first link of a post's HTML that gets a preview, normalised (the
/// URL parser's form). Links inside a `quote-inline` element, links with
/// `rel="tag"` or the microformats classes of mentions (`u-url`, `h-card`),
/// links to a mentioned account or to the quoted post, links to this
/// instance and links other than http(s) are skipped.
pub fn first_link(html: &str, rules: &LinkRules<'_>) -> Option<Url> {
    struct Links {
        /// Depth of open elements inside a `quote-inline` one (0: outside).
        quote_depth: RefCell<usize>,
        found: RefCell<Vec<(String, bool)>>,
    }
    impl TokenSink for Links {
        type Handle = ();
        fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
            if let TagToken(tag) = token {
                let attr = |name: &str| {
                    tag.attrs
                        .iter()
                        .find(|a| &*a.name.local == name)
                        .map(|a| a.value.to_string())
                };
                let void = matches!(&*tag.name, "br" | "img" | "hr" | "wbr" | "input");
                let mut depth = self.quote_depth.borrow_mut();
                match tag.kind {
                    StartTag if void || tag.self_closing => {}
                    StartTag => {
                        let quote = attr("class")
                            .is_some_and(|c| c.split_ascii_whitespace().any(|c| c == QUOTE_INLINE));
                        if *depth > 0 || quote {
                            *depth += 1;
                        }
                    }
                    EndTag => {
                        if *depth > 0 && !void {
                            *depth -= 1;
                        }
                    }
                }
                if tag.kind == StartTag
                    && &*tag.name == "a"
                    && let Some(href) = attr("href")
                {
                    let rel_tag =
                        attr("rel").is_some_and(|r| r.split_ascii_whitespace().any(|t| t == "tag"));
                    let mention_class = attr("class").is_some_and(|c| {
                        c.split_ascii_whitespace()
                            .any(|c| c == "u-url" || c == "h-card" || c == "mention")
                    });
                    // Inside the quote: its depth was counted above.
                    let skip = rel_tag || mention_class || *depth > 0;
                    self.found.borrow_mut().push((href, skip));
                }
            }
            TokenSinkResult::Continue
        }
    }
    let links = tokenize(
        html,
        Links {
            quote_depth: RefCell::new(0),
            found: RefCell::new(Vec::new()),
        },
    );
    let same = |a: &str, b: &str| a.trim_end_matches('/') == b.trim_end_matches('/');
    links
        .found
        .into_inner()
        .into_iter()
        .filter(|(_, skip)| !skip)
        .map(|(href, _)| href)
        .filter(|href| {
            !rules.mention_urls.iter().any(|m| same(m, href))
                && !rules.quote_urls.iter().any(|q| same(q, href))
        })
        .filter_map(|href| Url::parse(href.trim()).ok())
        .find(|url| {
            matches!(url.scheme(), "http" | "https")
                && url.host_str().is_some_and(|h| !h.is_empty())
                && url.username().is_empty()
                && url.password().is_none()
                && url.as_str().len() <= MAX_URL_BYTES
                && !super::domain_name::authority(url).eq_ignore_ascii_case(rules.local_authority)
        })
}

/// What a page says about itself.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PageDetails {
    pub title: String,
    pub description: String,
    pub image: Option<Url>,
    pub image_description: String,
    /// A `twitter:player` makes the page a video.
    pub video: bool,
    /// The player's size (`twitter:player:width` and `:height`).
    pub width: i32,
    pub height: i32,
    pub provider_name: String,
    pub provider_url: String,
    pub author_name: String,
    pub author_url: String,
    pub embed_url: String,
    pub language: Option<String>,
    pub published_at: Option<DateTime<Utc>>,
    /// `<link rel="canonical">` or `og:url`, when on the page's own host.
    pub canonical: Option<Url>,
    /// The page's JSON oEmbed endpoint
    /// (`<link rel="alternate" type="application/json+oembed">`).
    pub oembed: Option<Url>,
}

impl PageDetails {
    /// Whether the page says enough to make a card of (Mastodon: a title
    /// or an embed).
    pub fn is_usable(&self) -> bool {
        !self.title.trim().is_empty()
    }
}

/// Everything the tokenizer collects in one pass.
#[derive(Default)]
struct Collected {
    /// (`property` or `name`, `content`) of every `<meta>`, in order.
    metas: Vec<(String, String)>,
    /// (`rel`, `type`, `href`) of every `<link>`.
    links: Vec<(String, String, String)>,
    title: Option<String>,
    lang: Option<String>,
    json_ld: Vec<String>,
    /// Inside: 1 title, 2 JSON-LD script.
    inside: u8,
    text: String,
}

/// Reads a page's details; `page` is the URL the page came from (relative
/// URLs are resolved against it).
pub fn extract(page: &Url, html: &str) -> PageDetails {
    struct Sink(RefCell<Collected>);
    impl TokenSink for Sink {
        type Handle = ();
        fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
            let mut c = self.0.borrow_mut();
            match token {
                TagToken(tag) => {
                    let attr = |name: &str| {
                        tag.attrs
                            .iter()
                            .find(|a| &*a.name.local == name)
                            .map(|a| a.value.to_string())
                    };
                    if tag.kind == EndTag {
                        if matches!(&*tag.name, "title" | "script") && c.inside != 0 {
                            let text = std::mem::take(&mut c.text);
                            if c.inside == 1 && c.title.is_none() {
                                c.title = Some(text);
                            } else if c.inside == 2 {
                                c.json_ld.push(text);
                            }
                            c.inside = 0;
                        }
                        return TokenSinkResult::Continue;
                    }
                    match &*tag.name {
                        "meta" => {
                            let key = attr("property").or_else(|| attr("name"));
                            if let (Some(key), Some(content)) = (key, attr("content")) {
                                c.metas.push((key.trim().to_ascii_lowercase(), content));
                            }
                        }
                        "link" => {
                            if let Some(href) = attr("href") {
                                c.links.push((
                                    attr("rel").unwrap_or_default().to_ascii_lowercase(),
                                    attr("type").unwrap_or_default().to_ascii_lowercase(),
                                    href,
                                ));
                            }
                        }
                        "html" if c.lang.is_none() => c.lang = attr("lang"),
                        "title" => {
                            c.inside = 1;
                            c.text.clear();
                            return TokenSinkResult::RawData(RawKind::Rcdata);
                        }
                        "textarea" => return TokenSinkResult::RawData(RawKind::Rcdata),
                        "style" | "xmp" | "iframe" | "noembed" | "noframes" => {
                            return TokenSinkResult::RawData(RawKind::Rawtext);
                        }
                        "script" => {
                            let json_ld = attr("type").is_some_and(|t| {
                                t.trim().eq_ignore_ascii_case("application/ld+json")
                            });
                            if json_ld {
                                c.inside = 2;
                                c.text.clear();
                            }
                            return TokenSinkResult::RawData(RawKind::ScriptData);
                        }
                        _ => {}
                    }
                }
                // A runaway title or script is not read without end.
                CharacterTokens(chars) if c.inside != 0 && c.text.len() < 256 * 1024 => {
                    c.text.push_str(&chars);
                }
                _ => {}
            }
            TokenSinkResult::Continue
        }
    }
    let sink = tokenize(html, Sink(RefCell::new(Collected::default())));
    let c = sink.0.into_inner();
    let meta = |name: &str| -> Option<String> {
        c.metas
            .iter()
            .find(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_string())
    };
    let url_of = |raw: Option<String>| raw.and_then(|raw| http_url(page, &raw));
    let structured = c.json_ld.iter().find_map(|raw| StructuredData::parse(raw));
    let s = structured.as_ref();

    let player = url_of(meta("twitter:player"));
    let title = s
        .and_then(|s| s.headline.clone())
        .or_else(|| meta("og:title"))
        .or_else(|| meta("twitter:title"))
        .or_else(|| c.title.clone())
        .unwrap_or_default();
    let description = s
        .and_then(|s| s.description.clone())
        .or_else(|| meta("og:description"))
        .or_else(|| meta("twitter:description"))
        .or_else(|| meta("description"))
        .unwrap_or_default();
    let image = url_of(meta("og:image"))
        .or_else(|| url_of(meta("og:image:url")))
        .or_else(|| url_of(meta("og:image:secure_url")))
        .or_else(|| url_of(meta("twitter:image")))
        .or_else(|| url_of(meta("twitter:image:src")))
        .or_else(|| {
            s.and_then(|s| s.image.clone())
                .and_then(|i| http_url(page, &i))
        });
    let image_description = meta("og:image:alt")
        .or_else(|| meta("twitter:image:alt"))
        .unwrap_or_default();
    let number = |name: &str| {
        meta(name)
            .and_then(|v| v.parse::<i32>().ok())
            .filter(|n| (0..=10_000).contains(n))
            .unwrap_or(0)
    };
    let canonical = c
        .links
        .iter()
        .find(|(rel, _, _)| rel.split_ascii_whitespace().any(|r| r == "canonical"))
        .map(|(_, _, href)| href.clone())
        .or_else(|| meta("og:url"))
        .and_then(|raw| http_url(page, &raw))
        .filter(|u| u.host_str() == page.host_str());
    let oembed = c
        .links
        .iter()
        .find(|(rel, kind, _)| {
            rel.split_ascii_whitespace().any(|r| r == "alternate")
                && kind.trim() == "application/json+oembed"
        })
        .and_then(|(_, _, href)| http_url(page, href));
    let language = s
        .and_then(|s| s.language.clone())
        .or_else(|| meta("og:locale"))
        .or_else(|| c.lang.clone())
        .and_then(|l| language_tag(&l));
    let published_at = s
        .and_then(|s| s.published.clone())
        .or_else(|| meta("article:published_time"))
        .and_then(|raw| DateTime::parse_from_rfc3339(raw.trim()).ok())
        .map(|t| t.with_timezone(&Utc));
    let provider_url = meta("og:site")
        .map(|site| {
            if site.starts_with("http://") || site.starts_with("https://") {
                site
            } else {
                format!("http://{site}")
            }
        })
        .and_then(|raw| http_url(page, &raw))
        .map(String::from)
        .unwrap_or_default();
    PageDetails {
        title: clip(&title, MAX_TEXT),
        description: clip(&description, MAX_TEXT),
        image,
        image_description: clip(&image_description, MAX_TEXT),
        video: player.is_some(),
        width: if player.is_some() {
            number("twitter:player:width")
        } else {
            0
        },
        height: if player.is_some() {
            number("twitter:player:height")
        } else {
            0
        },
        provider_name: clip(
            &s.and_then(|s| s.publisher.clone())
                .or_else(|| meta("og:site_name"))
                .unwrap_or_default(),
            MAX_SHORT,
        ),
        provider_url,
        author_name: clip(
            &s.and_then(|s| s.author_name.clone())
                .or_else(|| meta("og:author"))
                .or_else(|| meta("og:author:username"))
                .or_else(|| meta("author"))
                .unwrap_or_default(),
            MAX_SHORT,
        ),
        author_url: s
            .and_then(|s| s.author_url.clone())
            .and_then(|u| http_url(page, &u))
            .map(String::from)
            .unwrap_or_default(),
        embed_url: url_of(meta("twitter:player:stream"))
            .map(String::from)
            .unwrap_or_default(),
        language,
        published_at,
        canonical,
        oembed,
    }
}

/// JSON-LD's `NewsArticle` or `WebPage`, as Mastodon reads it.
#[derive(Debug, Default)]
struct StructuredData {
    headline: Option<String>,
    description: Option<String>,
    image: Option<String>,
    language: Option<String>,
    published: Option<String>,
    author_name: Option<String>,
    author_url: Option<String>,
    publisher: Option<String>,
}

impl StructuredData {
    fn parse(raw: &str) -> Option<StructuredData> {
        // Some pages wrap the JSON in commented-out CDATA markers
        // (`/*<![CDATA[*/`, `//]]>`), each on a line of its own.
        let cleaned: String = raw
            .lines()
            .filter(|line| {
                let t = line.trim();
                let comment = t.starts_with("/*") || t.starts_with("//");
                !(comment && (t.contains("<![CDATA[") || t.contains("]]>")))
            })
            .collect::<Vec<_>>()
            .join("\n");
        let value: Value = serde_json::from_str(cleaned.trim()).ok()?;
        let candidates = match value {
            Value::Array(items) => items,
            other => vec![other],
        };
        let object = candidates.into_iter().find(|o| {
            matches!(
                o.get("@type").and_then(Value::as_str),
                Some("NewsArticle" | "WebPage")
            )
        })?;
        let first = |v: Option<&Value>| -> Option<Value> {
            match v? {
                Value::Array(items) => items.first().cloned(),
                other => Some(other.clone()),
            }
        };
        let text = |v: Option<&Value>| v.and_then(Value::as_str).map(|s| s.trim().to_string());
        let author = first(object.get("author"));
        let publisher = first(object.get("publisher"));
        let image = first(object.get("image")).and_then(|i| match i {
            Value::String(s) => Some(s),
            Value::Object(o) => o.get("url").and_then(Value::as_str).map(String::from),
            _ => None,
        });
        let language = first(object.get("inLanguage")).and_then(|l| match l {
            Value::String(s) => Some(s),
            Value::Object(o) => o
                .get("alternateName")
                .or_else(|| o.get("name"))
                .and_then(Value::as_str)
                .map(String::from),
            _ => None,
        });
        Some(StructuredData {
            headline: text(object.get("headline")).filter(|s| !s.is_empty()),
            description: text(object.get("description")).filter(|s| !s.is_empty()),
            image,
            language,
            published: text(object.get("datePublished")),
            author_name: author
                .as_ref()
                .and_then(|a| text(a.get("name")))
                .filter(|s| !s.is_empty()),
            author_url: author.as_ref().and_then(|a| text(a.get("url"))),
            publisher: publisher
                .as_ref()
                .and_then(|p| text(p.get("name")))
                .filter(|s| !s.is_empty()),
        })
    }
}

/// An oEmbed answer (JSON), as Mastodon takes it.
#[derive(Debug, Clone, PartialEq)]
pub struct OEmbed {
    pub kind: CardKind,
    pub title: String,
    pub author_name: String,
    pub author_url: String,
    pub provider_name: String,
    pub provider_url: String,
    /// The picture: a photo's `url`, or another type's `thumbnail_url`.
    pub image: Option<Url>,
    /// A photo's `url`.
    pub embed_url: String,
    pub width: i32,
    pub height: i32,
}

/// Reads an oEmbed answer fetched from `endpoint`; None when it is no
/// usable oEmbed: not JSON, an unknown type, a photo without its `url`, or
/// a `rich` one (their HTML relies on scripts: Mastodon refuses them too).
pub fn oembed(endpoint: &Url, body: &[u8]) -> Option<OEmbed> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let text = |name: &str| {
        value
            .get(name)
            .and_then(|v| match v {
                Value::String(s) => Some(s.trim().to_string()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .unwrap_or_default()
    };
    let number = |name: &str| {
        value
            .get(name)
            .and_then(|v| v.as_i64().or_else(|| v.as_str()?.parse().ok()))
            .and_then(|n| i32::try_from(n).ok())
            .filter(|n| (0..=10_000).contains(n))
            .unwrap_or(0)
    };
    let link = |name: &str| http_url(endpoint, &text(name));
    let kind = CardKind::parse(&text("type"))?;
    let (image, embed_url, width, height) = match kind {
        CardKind::Rich => return None,
        CardKind::Link => (link("thumbnail_url"), String::new(), 0, 0),
        CardKind::Photo => {
            let url = link("url")?;
            (
                Some(url.clone()),
                url.to_string(),
                number("width"),
                number("height"),
            )
        }
        CardKind::Video => (
            link("thumbnail_url"),
            String::new(),
            number("width"),
            number("height"),
        ),
    };
    Some(OEmbed {
        kind,
        title: clip(&text("title"), MAX_TEXT),
        author_name: clip(&text("author_name"), MAX_SHORT),
        author_url: link("author_url").map(String::from).unwrap_or_default(),
        provider_name: clip(&text("provider_name"), MAX_SHORT),
        provider_url: link("provider_url").map(String::from).unwrap_or_default(),
        image,
        embed_url,
        width,
        height,
    })
}

/// Decodes a page's bytes as text: by its byte order mark, the charset its
/// `Content-Type` names, a `<meta charset>` (or `http-equiv`) in its first
/// 1024 bytes, or else as UTF-8; bytes that do not decode become U+FFFD.
pub fn decode(body: &[u8], content_type: Option<&str>) -> String {
    let from_label = |label: &str| encoding_rs::Encoding::for_label(label.trim().as_bytes());
    let header = content_type.and_then(|ct| {
        ct.split(';').skip(1).find_map(|p| {
            let (k, v) = p.split_once('=')?;
            k.trim()
                .eq_ignore_ascii_case("charset")
                .then(|| from_label(v.trim().trim_matches('"')))
                .flatten()
        })
    });
    let encoding = encoding_rs::Encoding::for_bom(body)
        .map(|(e, _)| e)
        .or(header)
        .or_else(|| meta_charset(&body[..body.len().min(1024)]).and_then(|l| from_label(&l)))
        .unwrap_or(encoding_rs::UTF_8);
    let (text, _, _) = encoding.decode(body);
    text.into_owned()
}

/// The charset a `<meta>` names in the start of a page.
fn meta_charset(start: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(start).to_ascii_lowercase();
    let at = text.find("charset=")? + "charset=".len();
    let rest = text[at..].trim_start_matches(['"', '\'', ' ']);
    let label: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'))
        .collect();
    (!label.is_empty()).then_some(label)
}

/// Whether a response's type is HTML (Mastodon takes `text/html` only).
pub fn is_html(content_type: Option<&str>) -> bool {
    content_type
        .and_then(|ct| ct.split(';').next())
        .is_some_and(|t| {
            let t = t.trim();
            t.eq_ignore_ascii_case("text/html") || t.eq_ignore_ascii_case("application/xhtml+xml")
        })
}

/// `raw` resolved against `base`, when it is an http(s) URL with a host.
fn http_url(base: &Url, raw: &str) -> Option<Url> {
    let raw = raw.trim();
    if raw.is_empty() || raw == "null" {
        return None;
    }
    let url = base.join(raw).ok()?;
    (matches!(url.scheme(), "http" | "https")
        && url.host_str().is_some_and(|h| !h.is_empty())
        && url.as_str().len() <= MAX_URL_BYTES)
        .then_some(url)
}

/// A language tag as Mastodon keeps it (`en`, `pt-BR`, from `en_US` too).
fn language_tag(raw: &str) -> Option<String> {
    let raw = raw.trim().replace('_', "-");
    let primary = raw.split('-').next()?;
    ((2..=3).contains(&primary.len()) && primary.chars().all(|c| c.is_ascii_alphabetic()))
        .then(|| primary.to_ascii_lowercase())
}

/// Whitespace runs as one space, cut at `max` characters.
fn clip(text: &str, max: usize) -> String {
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if joined.chars().count() <= max {
        joined
    } else {
        joined.chars().take(max - 1).collect::<String>() + "…"
    }
}

fn tokenize<S: TokenSink<Handle = ()>>(html: &str, sink: S) -> S {
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

    fn rules<'a>(mentions: &'a [String], quotes: &'a [String]) -> LinkRules<'a> {
        LinkRules {
            local_authority: "skein.example",
            mention_urls: mentions,
            quote_urls: quotes,
        }
    }

    #[test]
    fn the_first_link_skips_mentions_hashtags_quotes_and_local_pages() {
        let mention = vec!["https://remote.example/@bob".to_string()];
        let quote = vec!["https://other.example/@carol/1".to_string()];
        let html = concat!(
            r#"<p><span class="h-card"><a href="https://remote.example/@bob" class="u-url mention">@bob</a></span> "#,
            r#"<a href="https://skein.example/tags/x" class="mention hashtag" rel="tag">#x</a> "#,
            r#"<a href="https://remote.example/@bob">bob again</a> "#,
            r#"<a href="https://skein.example/@alice/1">mine</a> "#,
            r#"<a href="mailto:a@b.example">mail</a> "#,
            r#"<a href="https://news.example/story?id=1">story</a></p>"#,
            r#"<p class="quote-inline"><br>RE: <a href="https://elsewhere.example/x">x</a></p>"#
        );
        assert_eq!(
            first_link(html, &rules(&mention, &quote)).unwrap().as_str(),
            "https://news.example/story?id=1"
        );
        let only_quote = r#"<p>look</p><p class="quote-inline"><br>RE: <a href="https://elsewhere.example/x">x</a></p>"#;
        assert_eq!(first_link(only_quote, &rules(&[], &[])), None);
        let quote_link = r#"<p>see <a href="https://other.example/@carol/1">this</a></p>"#;
        assert_eq!(first_link(quote_link, &rules(&[], &quote)), None);
        assert_eq!(first_link("<p>no links</p>", &rules(&[], &[])), None);
        // After the quote paragraph closes, links count again.
        let after = r#"<p class="quote-inline">RE: <a href="https://q.example/">q</a></p><p><a href="https://after.example/">a</a></p>"#;
        assert_eq!(
            first_link(after, &rules(&[], &[])).unwrap().as_str(),
            "https://after.example/"
        );
    }

    #[test]
    fn opengraph_comes_first_then_twitter_then_the_title_element() {
        let page = Url::parse("https://news.example/a/story").unwrap();
        let html = r#"<!doctype html><html lang="en-GB"><head>
            <title>Element title</title>
            <meta property="og:title" content="OG &amp; title">
            <meta name="twitter:title" content="Twitter title">
            <meta name="description" content="Plain description">
            <meta property="og:image" content="/img/lead.jpg">
            <meta property="og:image:alt" content="A lead picture">
            <meta property="og:site_name" content="News">
            <meta property="article:published_time" content="2026-11-30T10:00:00Z">
            <link rel="canonical" href="https://news.example/story">
            <link rel="alternate" type="application/json+oembed" href="/oembed?url=x">
            <script>var s = '<meta property="og:description" content="from a script">';</script>
            </head><body></body></html>"#;
        let d = extract(&page, html);
        assert_eq!(d.title, "OG & title");
        assert_eq!(d.description, "Plain description", "not from the script");
        assert_eq!(
            d.image.unwrap().as_str(),
            "https://news.example/img/lead.jpg"
        );
        assert_eq!(d.image_description, "A lead picture");
        assert_eq!(d.provider_name, "News");
        assert_eq!(d.language.as_deref(), Some("en"));
        assert!(d.published_at.is_some());
        assert_eq!(d.canonical.unwrap().as_str(), "https://news.example/story");
        assert_eq!(
            d.oembed.unwrap().as_str(),
            "https://news.example/oembed?url=x"
        );
        assert!(!d.video);

        let twitter = r#"<head><title>T</title><meta name="twitter:title" content="Tw">
            <meta name="twitter:description" content="Tw desc"><meta name="twitter:image" content="https://cdn.example/i.png">
            <meta name="twitter:player" content="https://player.example/e/1"><meta name="twitter:player:width" content="640">
            <meta name="twitter:player:height" content="360"></head>"#;
        let d = extract(&page, twitter);
        assert_eq!(d.title, "Tw");
        assert_eq!(d.description, "Tw desc");
        assert_eq!(d.image.unwrap().as_str(), "https://cdn.example/i.png");
        assert!(d.video);
        assert_eq!((d.width, d.height), (640, 360));

        let bare = "<title>  Just   a title </title><p>text";
        let d = extract(&page, bare);
        assert_eq!(d.title, "Just a title");
        assert!(d.is_usable());
        assert!(!extract(&page, "<p>nothing</p>").is_usable());
    }

    #[test]
    fn json_ld_articles_are_read_and_bad_urls_dropped() {
        let page = Url::parse("https://news.example/story").unwrap();
        let html = r#"<script type="application/ld+json">{"@type":"NewsArticle","headline":"LD headline",
            "author":[{"name":"Ann Writer","url":"https://news.example/ann"}],"publisher":{"name":"The News"},
            "datePublished":"2026-01-02T03:04:05+01:00","inLanguage":"de"}</script>
            <meta property="og:title" content="OG"><meta property="og:image" content="javascript:alert(1)">"#;
        let d = extract(&page, html);
        assert_eq!(d.title, "LD headline");
        assert_eq!(d.author_name, "Ann Writer");
        assert_eq!(d.author_url, "https://news.example/ann");
        assert_eq!(d.provider_name, "The News");
        assert_eq!(d.language.as_deref(), Some("de"));
        assert!(d.image.is_none(), "only http(s) images");
    }

    #[test]
    fn oembed_types_are_taken_as_mastodon_takes_them() {
        let endpoint = Url::parse("https://video.example/oembed").unwrap();
        let video = br#"{"type":"video","title":"Clip","author_name":"Vid","author_url":"/u/vid",
            "provider_name":"Video","provider_url":"https://video.example/","thumbnail_url":"/t.jpg",
            "width":480,"height":"270","html":"<iframe src=x></iframe>"}"#;
        let e = oembed(&endpoint, video).unwrap();
        assert_eq!(e.kind, CardKind::Video);
        assert_eq!(e.author_url, "https://video.example/u/vid");
        assert_eq!(e.image.unwrap().as_str(), "https://video.example/t.jpg");
        assert_eq!((e.width, e.height), (480, 270));
        let photo =
            br#"{"type":"photo","url":"https://video.example/p.png","width":10,"height":20}"#;
        let e = oembed(&endpoint, photo).unwrap();
        assert_eq!(e.embed_url, "https://video.example/p.png");
        assert!(oembed(&endpoint, br#"{"type":"photo"}"#).is_none());
        assert!(oembed(&endpoint, br#"{"type":"rich","html":"<script>"}"#).is_none());
        assert!(oembed(&endpoint, b"<oembed/>").is_none());
    }

    #[test]
    fn pages_are_decoded_by_their_charset() {
        let latin1 = b"<meta charset=\"iso-8859-1\"><title>Caf\xe9</title>";
        assert!(decode(latin1, Some("text/html")).contains("Café"));
        assert!(
            decode(
                b"<title>Caf\xe9</title>",
                Some("text/html; charset=windows-1252")
            )
            .contains("Café")
        );
        assert!(decode("<title>Café</title>".as_bytes(), None).contains("Café"));
        assert!(is_html(Some("text/html; charset=utf-8")));
        assert!(!is_html(Some("application/json")));
        assert!(!is_html(None));
    }
}
