//! Custom emoji without I/O: Mastodon's shortcode rule and how `:shortcode:`
//! is found in text (app/models/custom_emoji.rb, `SHORTCODE_RE_FRAGMENT`
//! and `SCAN_RE`), and the size limit of an emoji's image.

/// The most bytes an emoji's image may have (Mastodon's
/// `CustomEmoji::LOCAL_LIMIT`, 256 KiB).
pub const MAX_IMAGE_BYTES: usize = 256 * 1024;

/// Whether `shortcode` is one Mastodon accepts: at least two of
/// `[a-zA-Z0-9_]`.
pub fn is_shortcode(shortcode: &str) -> bool {
    shortcode.len() >= 2
        && shortcode
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// The shortcodes `text` uses as `:shortcode:`, each once, in order. As in
/// Mastodon, the colons must not touch a letter, a digit or another colon
/// outside (`a:bc:` and `::bc::` are not emoji).
pub fn shortcodes_in(text: &str) -> Vec<String> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut found: Vec<String> = Vec::new();
    let outside = |c: Option<&(usize, char)>| match c {
        None => true,
        Some((_, c)) => !c.is_alphanumeric() && *c != ':',
    };
    let mut i = 0;
    while i < chars.len() {
        if chars[i].1 != ':' || (i > 0 && !outside(chars.get(i - 1))) {
            i += 1;
            continue;
        }
        let mut j = i + 1;
        while j < chars.len() && (chars[j].1.is_ascii_alphanumeric() || chars[j].1 == '_') {
            j += 1;
        }
        if j - i > 2 && chars.get(j).is_some_and(|c| c.1 == ':') && outside(chars.get(j + 1)) {
            let code = &text[chars[i].0 + 1..chars[j].0];
            if !found.iter().any(|f| f == code) {
                found.push(code.to_string());
            }
            i = j + 1;
        } else {
            i = j.max(i + 1);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortcodes_follow_mastodons_rule() {
        for good in ["ab", "blobcat", "Blob_Cat_2", "__"] {
            assert!(is_shortcode(good), "{good}");
        }
        for bad in [
            "", "a", "blob-cat", "blob cat", ":blob:", "blöb", "blob.cat",
        ] {
            assert!(!is_shortcode(bad), "{bad}");
        }
    }

    #[test]
    fn shortcodes_are_found_between_colons_apart_from_words() {
        assert_eq!(
            shortcodes_in("hi :blobcat: and :blob_fox:!"),
            ["blobcat", "blob_fox"]
        );
        assert_eq!(shortcodes_in("<p>:blobcat:</p>"), ["blobcat"]);
        assert_eq!(shortcodes_in(":a: :ok::no: x:yes: :dup: :dup:"), ["dup"]);
        assert_eq!(shortcodes_in("12:30:45 and :x:"), Vec::<String>::new());
        assert_eq!(shortcodes_in("é:blob: :blob:é"), Vec::<String>::new());
        assert_eq!(shortcodes_in(":blob:\n:cat:"), ["blob", "cat"]);
    }
}
