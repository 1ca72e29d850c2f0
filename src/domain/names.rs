//! Names other servers give their accounts, held to what can be stored and
//! shown safely: a remote username is refused unless it is one Mastodon
//! would accept, and a display name is cleaned of characters that reorder,
//! hide or pile up text on the pages that show it.
//!
//! What is removed from display names, and why:
//! - bidi controls (U+202A–202E, U+2066–2069, U+200E/200F, U+061C): they
//!   reorder whatever follows the name on a page ("Mallory\u{202E}moc.evil"
//!   reads as another account);
//! - every other format character (general category Cf: zero-width spaces
//!   and joiners, U+2060, U+FEFF, tag characters...): invisible, they make
//!   two names that look alike differ, or a name that looks empty not be.
//!   The exceptions are the joiner inside an emoji sequence and tag
//!   characters after a flag, which only draw one emoji;
//! - control characters; line breaks become spaces;
//! - more than [`MAX_MARKS_PER_BASE`] combining marks on one character
//!   ("Zalgo" text that spills over the lines around it).
//!
//! A display name is then capped at [`MAX_DISPLAY_NAME`] characters.

use unicode_properties::{
    GeneralCategory, GeneralCategoryGroup, UnicodeEmoji, UnicodeGeneralCategory,
};

/// The longest remote display name kept (Mastodon's is 30 for its own
/// accounts; other servers allow more, so this cuts only abuse).
pub const MAX_DISPLAY_NAME: usize = 100;
/// Combining marks kept on one base character: enough for every script's
/// stacked vowels and tones and for emoji keycaps, not for floods.
pub const MAX_MARKS_PER_BASE: usize = 4;
/// The longest remote username taken. Mastodon sets none; this keeps
/// handles showable.
pub const MAX_REMOTE_USERNAME: usize = 255;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RemoteUsernameError {
    #[error("the username is empty")]
    Empty,
    #[error("the username has more than {MAX_REMOTE_USERNAME} characters")]
    TooLong,
    #[error("the username contains `@`")]
    At,
    #[error(
        "the username may only contain letters a-z, digits and `_`, with `.` or `-` between them"
    )]
    BadCharacter,
}

/// A remote account's username, as Mastodon accepts one from another
/// server (`[a-z0-9_]+([.-]+[a-z0-9_]+)*`, any case): one or more of
/// letters, digits and underscores, with dots and hyphens only between
/// them. Anything else (an `@`, spaces, other scripts, invisible
/// characters) would make a handle that names someone else or nobody.
pub fn remote_username(raw: &str) -> Result<&str, RemoteUsernameError> {
    if raw.is_empty() {
        return Err(RemoteUsernameError::Empty);
    }
    if raw.contains('@') {
        return Err(RemoteUsernameError::At);
    }
    if raw.chars().count() > MAX_REMOTE_USERNAME {
        return Err(RemoteUsernameError::TooLong);
    }
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let separator = |c: char| c == '.' || c == '-';
    if !raw.chars().all(|c| word(c) || separator(c)) {
        return Err(RemoteUsernameError::BadCharacter);
    }
    // Dots and hyphens only between word characters: not first, not last.
    let starts_and_ends_with_a_word =
        raw.chars().next().is_some_and(word) && raw.chars().next_back().is_some_and(word);
    if !starts_and_ends_with_a_word {
        return Err(RemoteUsernameError::BadCharacter);
    }
    Ok(raw)
}

/// A remote actor's username: [`remote_username`], or else the actor's own
/// host (`host[:port]`, from its id), which instance actors are named after
/// (`acct:host@host`, as Mastodon's and Skein's are) and which may carry a
/// port.
pub fn actor_username<'a>(raw: &'a str, host: &str) -> Result<&'a str, RemoteUsernameError> {
    if !host.is_empty() && raw.eq_ignore_ascii_case(host) {
        return Ok(raw);
    }
    remote_username(raw)
}

fn is_mark(c: char) -> bool {
    c.general_category_group() == GeneralCategoryGroup::Mark
}

/// A display name as it may be stored and shown: format characters,
/// controls and mark floods removed (see the module's documentation),
/// whitespace trimmed, at most [`MAX_DISPLAY_NAME`] characters.
pub fn display_name(raw: &str) -> String {
    let cleaned = visible_text(raw);
    let capped: String = cleaned.trim().chars().take(MAX_DISPLAY_NAME).collect();
    capped.trim_end().to_string()
}

/// One line of text without format characters, controls (line breaks
/// become spaces) or more than [`MAX_MARKS_PER_BASE`] marks per character.
pub fn visible_text(raw: &str) -> String {
    let chars: Vec<char> = raw.chars().collect();
    let mut out = String::with_capacity(raw.len());
    let mut marks = 0;
    for (i, &c) in chars.iter().enumerate() {
        let previous = out.chars().next_back();
        let next = chars.get(i + 1).copied();
        let category = c.general_category();
        if matches!(
            category,
            GeneralCategory::LineSeparator | GeneralCategory::ParagraphSeparator
        ) || matches!(c, '\n' | '\r' | '\t' | '\u{85}')
        {
            out.push(' ');
            marks = 0;
            continue;
        }
        if category == GeneralCategory::Control {
            continue;
        }
        if category == GeneralCategory::Format {
            let joins_emoji = c == '\u{200D}'
                && previous.is_some_and(|p| p.is_emoji_char_or_emoji_component())
                && next.is_some_and(|n| n.is_emoji_char());
            // Subdivision flags: a black flag followed by tag characters.
            let flag_tag = matches!(c, '\u{E0020}'..='\u{E007F}')
                && previous
                    .is_some_and(|p| p == '\u{1F3F4}' || matches!(p, '\u{E0020}'..='\u{E007F}'));
            if joins_emoji || flag_tag {
                out.push(c);
            }
            continue;
        }
        if is_mark(c) {
            marks += 1;
            if marks > MAX_MARKS_PER_BASE {
                continue;
            }
        } else {
            marks = 0;
        }
        out.push(c);
    }
    out
}

/// Text for places where no HTML element can isolate it (a page's
/// `<title>`, OpenGraph tags): wrapped in FIRST STRONG ISOLATE and POP
/// DIRECTIONAL ISOLATE, so that its direction neither leaks into nor takes
/// from the text around it. The text must already be free of bidi controls
/// ([`visible_text`]), or an unpaired PDI inside could end the isolate early.
pub fn isolate(text: &str) -> String {
    format!("\u{2068}{text}\u{2069}")
}

/// Whether `c` is a bidi control character (embeddings, overrides,
/// isolates and the directional marks).
pub fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mastodon_style_usernames_from_other_servers_are_taken() {
        for ok in [
            "alice",
            "Alice_2",
            "_",
            "a.b",
            "first-last",
            "a..b",
            "x-.-y",
            "0",
        ] {
            assert_eq!(remote_username(ok), Ok(ok), "{ok}");
        }
    }

    #[test]
    fn usernames_with_at_signs_or_other_characters_are_refused() {
        assert_eq!(remote_username(""), Err(RemoteUsernameError::Empty));
        assert_eq!(
            remote_username("alice@evil.example"),
            Err(RemoteUsernameError::At)
        );
        assert_eq!(remote_username("@alice"), Err(RemoteUsernameError::At));
        for bad in [
            "al ice",
            "ali\u{202E}ce",
            "ali\u{200B}ce",
            "alicé",
            "алиса",
            ".alice",
            "alice.",
            "-alice",
            "alice-",
            "a/b",
            "a:b",
            "../x",
        ] {
            assert_eq!(
                remote_username(bad),
                Err(RemoteUsernameError::BadCharacter),
                "{bad}"
            );
        }
        assert_eq!(
            remote_username(&"a".repeat(MAX_REMOTE_USERNAME + 1)),
            Err(RemoteUsernameError::TooLong)
        );
        assert!(remote_username(&"a".repeat(MAX_REMOTE_USERNAME)).is_ok());
    }

    #[test]
    fn an_instance_actor_may_be_named_after_its_host_and_port() {
        assert_eq!(
            actor_username("beta.test:8080", "beta.test:8080"),
            Ok("beta.test:8080")
        );
        assert_eq!(
            actor_username("Social.Example", "social.example"),
            Ok("Social.Example")
        );
        assert_eq!(actor_username("alice", "social.example"), Ok("alice"));
        assert_eq!(
            actor_username("other.test:8080", "beta.test:8080"),
            Err(RemoteUsernameError::BadCharacter)
        );
        assert_eq!(
            actor_username("a@beta.test", "beta.test"),
            Err(RemoteUsernameError::At)
        );
    }

    #[test]
    fn bidi_controls_and_zero_width_characters_leave_display_names() {
        let hostile = "\u{202E}Mallory\u{202A}\u{202B}\u{202C}\u{202D}\u{2066}\u{2067}\u{2068}\u{2069}\u{200B}\u{200C}\u{200E}\u{200F}\u{2060}\u{FEFF}\u{061C}\u{00AD} Admin";
        assert_eq!(display_name(hostile), "Mallory Admin");
        assert!(!display_name(hostile).chars().any(is_bidi_control));
        assert_eq!(
            display_name("Zoë \u{0007}Smith\n(she/her)"),
            "Zoë Smith (she/her)"
        );
        assert_eq!(display_name("  \u{200B} "), "");
    }

    #[test]
    fn emoji_sequences_keep_their_joiners() {
        let family = "\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}";
        assert_eq!(
            display_name(&format!("Ann {family}")),
            format!("Ann {family}")
        );
        let england = "\u{1F3F4}\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F}";
        assert_eq!(display_name(england), england);
        // A joiner between letters, or tag characters alone, are only hiding.
        assert_eq!(display_name("a\u{200D}b\u{E0067}"), "ab");
    }

    #[test]
    fn combining_mark_floods_are_trimmed_and_real_accents_kept() {
        let zalgo = format!("Z{}ed", "\u{0301}\u{0316}\u{0327}".repeat(20));
        let trimmed = display_name(&zalgo);
        assert_eq!(trimmed.chars().count(), 1 + MAX_MARKS_PER_BASE + 2);
        assert!(trimmed.starts_with('Z') && trimmed.ends_with("ed"));
        // Vietnamese in decomposed form: two marks on one letter.
        assert_eq!(display_name("Vie\u{0302}\u{0323}t"), "Vie\u{0302}\u{0323}t");
        // A keycap: a digit, a variation selector and an enclosing mark.
        assert_eq!(display_name("1\u{FE0F}\u{20E3}"), "1\u{FE0F}\u{20E3}");
    }

    #[test]
    fn display_names_are_capped_after_cleaning() {
        let long = format!("{}{}", "\u{200B}".repeat(50), "n".repeat(300));
        assert_eq!(display_name(&long), "n".repeat(MAX_DISPLAY_NAME));
        assert_eq!(
            display_name(&format!("{} x", "a".repeat(99))),
            "a".repeat(99)
        );
    }

    #[test]
    fn isolated_text_is_wrapped_in_first_strong_isolate() {
        assert_eq!(isolate("אבג"), "\u{2068}אבג\u{2069}");
    }
}
