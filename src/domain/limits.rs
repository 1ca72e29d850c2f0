//! Every length limit on text that people store, in one place. Beyond a
//! limit the client API and the web interface answer 422 and store nothing.
//! Lengths count characters (Unicode scalar values), as Mastodon counts
//! them, after trimming surrounding whitespace where the value is trimmed
//! when stored. Where Mastodon has a limit, it is Mastodon's, so that what
//! a Mastodon app lets people type is taken; where it has none, the value
//! here is generous for people and small for a database.
//!
//! Texts received from other servers are not refused for their length but
//! cut (`federation::actor`, `domain::names`): they were already published.

/// A local account's display name (Mastodon).
pub const DISPLAY_NAME: usize = 30;
/// A local account's bio, as typed (Mastodon).
pub const BIO: usize = 500;
/// Profile fields of a local account (Mastodon).
pub const PROFILE_FIELDS: usize = 4;
/// A profile field's name, and its value, each (Mastodon).
pub const PROFILE_FIELD: usize = 255;

// A post's text with its content warning is held to the configured
// `posts.max_characters` (500 by default, as Mastodon), counted Mastodon's
// way (a link as 23, a mention by its username), in `service::posts`.

/// Options of a poll (Mastodon).
pub const POLL_OPTIONS: usize = 4;
/// One poll option (Mastodon).
pub const POLL_OPTION: usize = 50;
/// A media description, the alt text (Mastodon).
pub const ALT_TEXT: usize = 1_500;

/// A list's title.
pub const LIST_TITLE: usize = 256;
/// A filter's title.
pub const FILTER_TITLE: usize = 256;
/// One keyword of a filter (Mastodon).
pub const FILTER_KEYWORD: usize = 512;

/// A report's comment (Mastodon).
pub const REPORT_COMMENT: usize = 1_000;
/// Why someone asks to join, where sign-ups wait for approval (Mastodon).
pub const SIGN_UP_REASON: usize = 1_000;
/// What a moderator writes with an action on an account.
pub const MODERATION_TEXT: usize = 5_000;
/// A domain block's private and public comments, each.
pub const DOMAIN_BLOCK_COMMENT: usize = 5_000;

/// One of the instance's rules (Mastodon).
pub const RULE_TEXT: usize = 300;
/// The explanation under a rule.
pub const RULE_HINT: usize = 2_000;

/// An OAuth app's name (Mastodon).
pub const APP_NAME: usize = 60;
/// An OAuth app's website and each of its redirect URIs, in bytes
/// (Mastodon).
pub const URI: usize = 2_000;
/// A Web Push subscription's endpoint, in bytes (as app URIs).
pub const PUSH_ENDPOINT: usize = 2_000;

/// A hashtag's name (Mastodon's `Tag` length limit).
pub const HASHTAG: usize = 100;
/// Private notes on accounts (Mastodon's `AccountNote`).
pub const ACCOUNT_NOTE: usize = 2_000;
/// Hashtags featured on a profile (Mastodon's `FeaturedTag::LIMIT`).
pub const FEATURED_TAGS: usize = 10;

/// Whether `text` has more than `max` characters.
pub fn too_long(text: &str, max: usize) -> bool {
    text.chars().nth(max).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_count_characters_not_bytes() {
        assert!(!too_long("", 0));
        assert!(too_long("a", 0));
        assert!(!too_long(&"é".repeat(LIST_TITLE), LIST_TITLE));
        assert!(too_long(&"é".repeat(LIST_TITLE + 1), LIST_TITLE));
    }
}
