//! Rules for media of local posts: how many a post has, alt text length, the
//! focal point, and the names of stored files.

use rand::Rng;

/// The most media on one post (Mastodon's `MAX_MEDIA_ATTACHMENTS`).
pub const MAX_PER_POST: usize = 4;

/// The longest alt text, in characters (Mastodon's `MAX_DESCRIPTION_LENGTH`).
pub const MAX_DESCRIPTION_CHARS: usize = super::limits::ALT_TEXT;

/// The point of an image that crops keep in view: x from -1 (left) to 1
/// (right), y from -1 (bottom) to 1 (top), as Mastodon's `focus`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Focus {
    pub x: f32,
    pub y: f32,
}

impl Focus {
    /// Reads Mastodon's `focus` parameter, `"x,y"`.
    pub fn parse(raw: &str) -> Result<Focus, String> {
        let message = || format!("focus must be \"x,y\" with both from -1.0 to 1.0, not `{raw}`");
        let (x, y) = raw.split_once(',').ok_or_else(message)?;
        let coordinate = |s: &str| {
            s.trim()
                .parse::<f32>()
                .ok()
                .filter(|v| v.is_finite() && (-1.0..=1.0).contains(v))
        };
        match (coordinate(x), coordinate(y)) {
            (Some(x), Some(y)) => Ok(Focus { x, y }),
            _ => Err(message()),
        }
    }
}

/// Alt text, trimmed, when it is within the limit.
pub fn description(raw: &str) -> Result<String, String> {
    let text = raw.trim();
    let length = text.chars().count();
    if length > MAX_DESCRIPTION_CHARS {
        return Err(format!(
            "a description has at most {MAX_DESCRIPTION_CHARS} characters (this one has {length})"
        ));
    }
    Ok(text.to_string())
}

/// A fresh, unguessable file name: 128 random bits in hex, then the type's
/// extension.
pub fn new_file_name(extension: &str) -> String {
    let bits: u128 = rand::thread_rng().r#gen();
    format!("{bits:032x}.{extension}")
}

/// Whether `name` is a name `new_file_name` could have made for a stored
/// type (an image `imaging` wrote, or a remote video or audio file typed
/// by `sniff`): nothing else (no slash, no dot-dot, no other extension) is ever
/// looked up.
pub fn is_file_name(name: &str) -> bool {
    let Some((stem, extension)) = name.split_once('.') else {
        return false;
    };
    stem.len() == 32
        && stem
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        && (matches!(extension, "jpg" | "png" | "gif" | "mp4" | "mp3" | "src")
            || super::sniff::StreamType::from_extension(extension).is_some())
}

/// What an upload is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadKind {
    Image,
    Video,
    Audio,
}

impl UploadKind {
    /// Mastodon's name (a MediaAttachment's `type`).
    pub fn as_str(self) -> &'static str {
        match self {
            UploadKind::Image => "image",
            UploadKind::Video => "video",
            UploadKind::Audio => "audio",
        }
    }

    pub fn parse(raw: &str) -> Option<UploadKind> {
        [UploadKind::Image, UploadKind::Video, UploadKind::Audio]
            .into_iter()
            .find(|k| k.as_str() == raw)
    }
}

/// Where an upload is: video and audio are `Processing` until transcoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadState {
    Processing,
    Ready,
    Failed,
}

impl UploadState {
    pub fn as_str(self) -> &'static str {
        match self {
            UploadState::Processing => "processing",
            UploadState::Ready => "ready",
            UploadState::Failed => "failed",
        }
    }

    pub fn parse(raw: &str) -> Option<UploadState> {
        [
            UploadState::Processing,
            UploadState::Ready,
            UploadState::Failed,
        ]
        .into_iter()
        .find(|k| k.as_str() == raw)
    }
}

/// An ISO 8601 duration as ActivityStreams' `duration` takes it:
/// `PT1.5S`, `PT754S`.
pub fn iso_duration(seconds: f64) -> String {
    let rounded = (seconds.max(0.0) * 1000.0).round() / 1000.0;
    format!("PT{rounded}S")
}

/// Reads an ISO 8601 duration (`PT1H2M3.5S`, as PeerTube sends it) or a
/// number of seconds (as Funkwhale does); seconds.
pub fn parse_duration(value: &serde_json::Value) -> Option<f64> {
    if let Some(n) = value.as_f64() {
        return (n.is_finite() && n >= 0.0).then_some(n);
    }
    let text = value.as_str()?.strip_prefix('P')?;
    let (days, time) = match text.split_once('T') {
        Some((d, t)) => (d, t),
        None => (text, ""),
    };
    let mut total = 0.0;
    let mut add = |part: &str, units: &[(char, f64)]| -> Option<()> {
        let mut number = String::new();
        for c in part.chars() {
            if c.is_ascii_digit() || c == '.' {
                number.push(c);
            } else {
                let scale = units.iter().find(|(u, _)| *u == c)?.1;
                total += number.parse::<f64>().ok()? * scale;
                number.clear();
            }
        }
        number.is_empty().then_some(())
    };
    add(days, &[('D', 86400.0), ('W', 604800.0)])?;
    add(time, &[('H', 3600.0), ('M', 60.0), ('S', 1.0)])?;
    (total.is_finite() && total >= 0.0).then_some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn focus_is_two_numbers_from_minus_one_to_one() {
        assert_eq!(Focus::parse("-0.5, 0.25"), Ok(Focus { x: -0.5, y: 0.25 }));
        assert_eq!(Focus::parse("1,-1"), Ok(Focus { x: 1.0, y: -1.0 }));
        for bad in ["", "0.5", "1.5,0", "0,-2", "a,b", "NaN,0", "inf,0", "0,0,0"] {
            assert!(Focus::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn descriptions_are_limited_in_characters() {
        assert_eq!(description("  a cat  ").as_deref(), Ok("a cat"));
        assert!(description(&"é".repeat(MAX_DESCRIPTION_CHARS)).is_ok());
        assert!(description(&"é".repeat(MAX_DESCRIPTION_CHARS + 1)).is_err());
    }

    #[test]
    fn only_names_skein_makes_are_file_names() {
        let name = new_file_name("png");
        assert!(is_file_name(&name), "{name}");
        assert_ne!(name, new_file_name("png"));
        for bad in [
            "../etc/passwd",
            "0123456789abcdef0123456789abcdef.html",
            "0123456789abcdef0123456789abcdef.png/..",
            "0123456789ABCDEF0123456789ABCDEF.png",
            "0123456789abcdef0123456789abcde.png",
            "0123456789abcdef0123456789abcdef.png.png",
            "",
        ] {
            assert!(!is_file_name(bad), "{bad}");
        }
    }
    #[test]
    fn durations_read_and_write_as_activitystreams_has_them() {
        assert_eq!(iso_duration(1.0), "PT1S");
        assert_eq!(iso_duration(1.04), "PT1.04S");
        assert_eq!(parse_duration(&serde_json::json!("PT754S")), Some(754.0));
        assert_eq!(
            parse_duration(&serde_json::json!("PT1H2M3.5S")),
            Some(3723.5)
        );
        assert_eq!(parse_duration(&serde_json::json!("P1DT1S")), Some(86401.0));
        assert_eq!(parse_duration(&serde_json::json!(1843)), Some(1843.0));
        assert_eq!(parse_duration(&serde_json::json!("1843")), None);
        assert_eq!(parse_duration(&serde_json::json!("PTxS")), None);
    }
}
