//! Video and audio types read from a file's first bytes, for remote media
//! stored as they came (`service::remote_media`): whatever `Content-Type`
//! a server sent, a file is stored and served only as one of these types,
//! or as an image `imaging` re-encoded. Images are `imaging::InputType`'s.

/// The video and audio types stored as they come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamType {
    /// ISO base media (`ftyp`): MP4 and QuickTime.
    Mp4,
    /// MPEG-4 audio (`ftyp` with an `M4A ` brand).
    M4a,
    /// WebM (Matroska with the `webm` doctype).
    Webm,
    /// Ogg (Vorbis, Opus).
    Ogg,
    /// MP3, with or without an ID3 tag.
    Mp3,
    Wav,
    Flac,
}

/// Whether a stream type is a video or audio, as Mastodon's attachment
/// kinds name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamClass {
    Video,
    Audio,
}

impl StreamType {
    pub const ALL: [StreamType; 7] = [
        StreamType::Mp4,
        StreamType::M4a,
        StreamType::Webm,
        StreamType::Ogg,
        StreamType::Mp3,
        StreamType::Wav,
        StreamType::Flac,
    ];

    /// The type of a file by its magic bytes, when it is one of these.
    pub fn detect(bytes: &[u8]) -> Option<StreamType> {
        if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
            return Some(if &bytes[8..12] == b"M4A " {
                StreamType::M4a
            } else {
                StreamType::Mp4
            });
        }
        if bytes.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
            // The EBML header names its doctype within its first bytes;
            // other Matroska files are not taken.
            let head = &bytes[..bytes.len().min(64)];
            return head
                .windows(4)
                .any(|w| w == b"webm")
                .then_some(StreamType::Webm);
        }
        if bytes.starts_with(b"OggS") {
            return Some(StreamType::Ogg);
        }
        if bytes.starts_with(b"fLaC") {
            return Some(StreamType::Flac);
        }
        if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WAVE" {
            return Some(StreamType::Wav);
        }
        if bytes.starts_with(b"ID3")
            || (bytes.len() >= 2 && bytes[0] == 0xFF && matches!(bytes[1], 0xFB | 0xF3 | 0xF2))
        {
            return Some(StreamType::Mp3);
        }
        None
    }

    pub fn content_type(self) -> &'static str {
        match self {
            StreamType::Mp4 => "video/mp4",
            StreamType::M4a => "audio/mp4",
            StreamType::Webm => "video/webm",
            StreamType::Ogg => "audio/ogg",
            StreamType::Mp3 => "audio/mpeg",
            StreamType::Wav => "audio/wav",
            StreamType::Flac => "audio/flac",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            StreamType::Mp4 => "mp4",
            StreamType::M4a => "m4a",
            StreamType::Webm => "webm",
            StreamType::Ogg => "ogg",
            StreamType::Mp3 => "mp3",
            StreamType::Wav => "wav",
            StreamType::Flac => "flac",
        }
    }

    pub fn class(self) -> StreamClass {
        match self {
            StreamType::Mp4 | StreamType::Webm => StreamClass::Video,
            _ => StreamClass::Audio,
        }
    }

    /// The type served for a stored content type, when it is one of these.
    pub fn from_content_type(content_type: &str) -> Option<StreamType> {
        StreamType::ALL
            .into_iter()
            .find(|t| t.content_type() == content_type)
    }

    /// The type of a stored file, by the extension Skein gave it.
    pub fn from_extension(extension: &str) -> Option<StreamType> {
        StreamType::ALL
            .into_iter()
            .find(|t| t.extension() == extension)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_come_from_bytes() {
        let mut mp4 = vec![0, 0, 0, 0x20];
        mp4.extend_from_slice(b"ftypisom\0\0\0\0");
        assert_eq!(StreamType::detect(&mp4), Some(StreamType::Mp4));
        let mut m4a = vec![0, 0, 0, 0x20];
        m4a.extend_from_slice(b"ftypM4A \0\0\0\0");
        assert_eq!(StreamType::detect(&m4a), Some(StreamType::M4a));
        let mut webm = vec![0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x82, 0x84];
        webm.extend_from_slice(b"webm");
        assert_eq!(StreamType::detect(&webm), Some(StreamType::Webm));
        let mut mkv = vec![0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x82, 0x88];
        mkv.extend_from_slice(b"matroska");
        assert_eq!(StreamType::detect(&mkv), None);
        assert_eq!(StreamType::detect(b"OggS\0\x02"), Some(StreamType::Ogg));
        assert_eq!(StreamType::detect(b"ID3\x04\0"), Some(StreamType::Mp3));
        assert_eq!(
            StreamType::detect(&[0xFF, 0xFB, 0x90]),
            Some(StreamType::Mp3)
        );
        assert_eq!(StreamType::detect(b"fLaC\0"), Some(StreamType::Flac));
        assert_eq!(
            StreamType::detect(b"RIFF\0\0\0\0WAVEfmt "),
            Some(StreamType::Wav)
        );
        assert_eq!(StreamType::detect(b"RIFF\0\0\0\0WEBPVP8 "), None);
        assert_eq!(StreamType::detect(b"<!DOCTYPE html><html>"), None);
        assert_eq!(StreamType::detect(b""), None);
    }

    #[test]
    fn classes_types_and_extensions_agree() {
        for t in StreamType::ALL {
            assert_eq!(StreamType::from_content_type(t.content_type()), Some(t));
            assert_eq!(StreamType::from_extension(t.extension()), Some(t));
        }
        assert_eq!(StreamType::Webm.class(), StreamClass::Video);
        assert_eq!(StreamType::Ogg.class(), StreamClass::Audio);
        assert_eq!(StreamType::from_content_type("text/html"), None);
    }
}
