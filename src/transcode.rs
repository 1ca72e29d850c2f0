//! Video and audio work for uploads, with ffprobe and ffmpeg (the
//! distribution's `ffmpeg` package): what a file is (probe), and what it
//! becomes (an H.264 and AAC MP4 with a poster frame, or an MP3 with a
//! waveform picture).
//!
//! The programs run through `tokio::process`, never a shell, with their
//! arguments as a list; input and output are files in a directory the
//! caller owns. Every run has a time limit and is killed when it is
//! dropped (`kill_on_drop`), so a request given up or a job stopped
//! leaves no ffmpeg behind. Only local files are read
//! (`-protocol_whitelist file`), with the one demuxer the probe found,
//! so a crafted file cannot make ffmpeg fetch or open anything else. No
//! axum, no sqlx.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;

/// The distribution package that brings ffmpeg and ffprobe.
pub const PACKAGE: &str = "ffmpeg";

/// The content types clients may upload as video or audio (Mastodon's).
pub const UPLOAD_TYPES: [&str; 12] = [
    "video/mp4",
    "video/webm",
    "video/quicktime",
    "audio/mpeg",
    "audio/mp3",
    "audio/ogg",
    "audio/wav",
    "audio/wave",
    "audio/x-wav",
    "audio/mp4",
    "audio/x-m4a",
    "audio/webm",
];

/// The longest a probe may run.
const PROBE_LIMIT: Duration = Duration::from_secs(30);
/// The size of an audio file's waveform picture.
const WAVEFORM_SIZE: &str = "640x240";

/// Where the programs are and how long a transcoding may run.
#[derive(Debug, Clone)]
pub struct Tools {
    pub ffmpeg: PathBuf,
    pub ffprobe: PathBuf,
    pub timeout: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum TranscodeError {
    #[error(
        "video and audio uploads need ffmpeg, which this server does not have: its administrator can install the distribution's `ffmpeg` package"
    )]
    Missing,
    #[error(
        "the file is not video or audio Skein reads (MP4, WebM and MOV video; MP3, Ogg, WAV and M4A audio)"
    )]
    Unsupported,
    #[error("ffmpeg ran longer than {0} seconds and was stopped")]
    TimedOut(u64),
    #[error("ffmpeg could not process the file: {0}")]
    Failed(String),
    #[error("running ffmpeg failed: {0}")]
    Io(#[from] std::io::Error),
}

impl TranscodeError {
    /// Whether the file itself is at fault (and trying again is useless).
    pub fn is_input_error(&self) -> bool {
        matches!(
            self,
            TranscodeError::Unsupported | TranscodeError::Failed(_) | TranscodeError::TimedOut(_)
        )
    }
}

/// Video or audio.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Video,
    Audio,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Video => "video",
            Kind::Audio => "audio",
        }
    }

    pub fn parse(raw: &str) -> Option<Kind> {
        match raw {
            "video" => Some(Kind::Video),
            "audio" => Some(Kind::Audio),
            _ => None,
        }
    }

    /// The type of the transcoded file.
    pub fn content_type(self) -> &'static str {
        match self {
            Kind::Video => "video/mp4",
            Kind::Audio => "audio/mpeg",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Kind::Video => "mp4",
            Kind::Audio => "mp3",
        }
    }
}

/// What ffprobe says of a file.
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    pub kind: Kind,
    /// The demuxer to read it with: mov, matroska, mp3, ogg or wav.
    pub format: &'static str,
    /// Seconds.
    pub duration: f64,
    /// Of the first video stream.
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// `(numerator, denominator)` of the first video stream.
    pub frame_rate: Option<(u32, u32)>,
    /// Bits per second of the whole file.
    pub bitrate: Option<u64>,
}

impl Probe {
    /// Frames per second.
    pub fn fps(&self) -> Option<f64> {
        self.frame_rate
            .filter(|(_, d)| *d > 0)
            .map(|(n, d)| f64::from(n) / f64::from(d))
    }

    /// `"30/1"`, as Mastodon shows it.
    pub fn frame_rate_text(&self) -> Option<String> {
        self.frame_rate.map(|(n, d)| format!("{n}/{d}"))
    }
}

/// The limits a probed file is held to.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_duration_seconds: u64,
    pub max_frame_rate: u32,
    pub max_pixels: u64,
}

/// Why a probed file is refused, if it is.
pub fn check_limits(probe: &Probe, limits: &Limits) -> Result<(), String> {
    if probe.duration > limits.max_duration_seconds as f64 {
        return Err(format!(
            "the {} is {:.0} seconds long; at most {} seconds are accepted",
            probe.kind.as_str(),
            probe.duration.ceil(),
            limits.max_duration_seconds
        ));
    }
    if let (Some(w), Some(h)) = (probe.width, probe.height)
        && u64::from(w) * u64::from(h) > limits.max_pixels
    {
        return Err(format!(
            "{w}x{h} videos are not accepted; at most {} pixels a frame",
            limits.max_pixels
        ));
    }
    if let Some(fps) = probe.fps()
        && fps > f64::from(limits.max_frame_rate)
    {
        return Err(format!(
            "videos of {fps:.0} frames per second are not accepted; at most {}",
            limits.max_frame_rate
        ));
    }
    Ok(())
}

/// Runs a program with its arguments, at most `limit`; its standard output.
async fn run(
    program: &Path,
    args: &[OsString],
    limit: Duration,
) -> Result<Vec<u8>, TranscodeError> {
    let child = tokio::process::Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied => {
                TranscodeError::Missing
            }
            _ => TranscodeError::Io(e),
        })?;
    // On timeout the child is dropped, and so killed.
    match tokio::time::timeout(limit, child.wait_with_output()).await {
        Err(_) => Err(TranscodeError::TimedOut(limit.as_secs())),
        Ok(Err(e)) => Err(TranscodeError::Io(e)),
        Ok(Ok(output)) if output.status.success() => Ok(output.stdout),
        Ok(Ok(output)) => {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let last = stderr
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("no message")
                .chars()
                .take(300)
                .collect();
            Err(TranscodeError::Failed(last))
        }
    }
}

fn args<const N: usize>(list: [&str; N]) -> Vec<OsString> {
    list.into_iter().map(OsString::from).collect()
}

/// Probes a file with ffprobe: what it is and how long.
pub async fn probe(tools: &Tools, path: &Path) -> Result<Probe, TranscodeError> {
    let mut list = args([
        "-v",
        "error",
        "-protocol_whitelist",
        "file",
        "-print_format",
        "json",
        "-show_format",
        "-show_streams",
        "-i",
    ]);
    list.push(path.as_os_str().to_owned());
    let out = run(&tools.ffprobe, &list, PROBE_LIMIT.min(tools.timeout)).await?;
    let json: Value = serde_json::from_slice(&out).map_err(|_| TranscodeError::Unsupported)?;
    parse_probe(&json).ok_or(TranscodeError::Unsupported)
}

/// Reads ffprobe's JSON; None when the file is not video or audio Skein
/// takes.
pub fn parse_probe(json: &Value) -> Option<Probe> {
    let format = &json["format"];
    let names = format["format_name"].as_str()?;
    let demuxer = names.split(',').find_map(|n| match n {
        "mov" | "mp4" | "m4a" => Some("mov"),
        "matroska" | "webm" => Some("matroska"),
        "mp3" => Some("mp3"),
        "ogg" => Some("ogg"),
        "wav" => Some("wav"),
        _ => None,
    })?;
    let number = |v: &Value| -> Option<f64> {
        v.as_f64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
    };
    let streams = json["streams"].as_array()?;
    let video = streams.iter().find(|s| {
        s["codec_type"] == "video" && s["disposition"]["attached_pic"].as_i64().unwrap_or(0) == 0
    });
    let audio = streams.iter().find(|s| s["codec_type"] == "audio");
    let kind = match (video, audio) {
        (Some(_), _) if demuxer != "mp3" && demuxer != "wav" => Kind::Video,
        (_, Some(_)) => Kind::Audio,
        _ => return None,
    };
    let duration = number(&format["duration"])
        .or_else(|| streams.iter().find_map(|s| number(&s["duration"])))
        .filter(|d| d.is_finite() && *d >= 0.0)?;
    let (width, height, frame_rate) = match (kind, video) {
        (Kind::Video, Some(v)) => {
            let dimension = |key: &str| v[key].as_u64().and_then(|n| u32::try_from(n).ok());
            let rate = ["avg_frame_rate", "r_frame_rate"].iter().find_map(|key| {
                let (n, d) = v[*key].as_str()?.split_once('/')?;
                let (n, d): (u32, u32) = (n.parse().ok()?, d.parse().ok()?);
                (n > 0 && d > 0).then_some((n, d))
            });
            (dimension("width"), dimension("height"), rate)
        }
        _ => (None, None, None),
    };
    if kind == Kind::Video && (width.unwrap_or(0) == 0 || height.unwrap_or(0) == 0) {
        return None;
    }
    Some(Probe {
        kind,
        format: demuxer,
        duration,
        width,
        height,
        frame_rate,
        bitrate: number(&format["bit_rate"]).map(|b| b as u64),
    })
}

/// What transcoding made: the file and its preview (a JPEG poster frame of
/// video, a JPEG waveform of audio), both in the caller's directory.
#[derive(Debug, Clone)]
pub struct Output {
    pub file: PathBuf,
    pub preview: PathBuf,
}

/// Transcodes `input` (read with the demuxer `format` only) into `dir`:
/// video to H.264 (yuv420p, even sizes) and AAC in an MP4 that starts
/// playing before it is whole, with its first frame as the poster; audio
/// to MP3 with a waveform picture. Metadata (places, devices, names) is
/// left behind.
pub async fn transcode(
    tools: &Tools,
    kind: Kind,
    format: &str,
    input: &Path,
    dir: &Path,
) -> Result<Output, TranscodeError> {
    let file = dir.join(format!("out.{}", kind.extension()));
    let preview = dir.join("preview.jpg");
    let mut list = args([
        "-nostdin",
        "-hide_banner",
        "-v",
        "error",
        "-threads",
        "2",
        "-protocol_whitelist",
        "file",
        "-f",
    ]);
    list.push(format.into());
    list.push("-i".into());
    list.push(input.as_os_str().to_owned());
    match kind {
        Kind::Video => {
            list.extend(args([
                "-map",
                "0:v:0",
                "-map",
                "0:a:0?",
                "-map_metadata",
                "-1",
                "-map_chapters",
                "-1",
                "-c:v",
                "libx264",
                "-preset",
                "veryfast",
                "-crf",
                "23",
                "-pix_fmt",
                "yuv420p",
                "-vf",
                "scale=trunc(iw/2)*2:trunc(ih/2)*2",
                "-c:a",
                "aac",
                "-b:a",
                "128k",
                "-movflags",
                "+faststart",
                "-f",
                "mp4",
                "-y",
            ]));
            list.push(file.as_os_str().to_owned());
            list.extend(args([
                "-map",
                "0:v:0",
                "-map_metadata",
                "-1",
                "-frames:v",
                "1",
                "-c:v",
                "mjpeg",
                "-pix_fmt",
                "yuvj420p",
                "-q:v",
                "3",
                "-f",
                "image2",
                "-y",
            ]));
            list.push(preview.as_os_str().to_owned());
        }
        Kind::Audio => {
            list.extend(args(["-filter_complex"]));
            list.push(
                format!("[0:a:0]showwavespic=s={WAVEFORM_SIZE}:colors=0x6364ff[wave]").into(),
            );
            list.extend(args([
                "-map",
                "0:a:0",
                "-map_metadata",
                "-1",
                "-vn",
                "-c:a",
                "libmp3lame",
                "-q:a",
                "2",
                "-f",
                "mp3",
                "-y",
            ]));
            list.push(file.as_os_str().to_owned());
            list.extend(args([
                "-map",
                "[wave]",
                "-frames:v",
                "1",
                "-c:v",
                "mjpeg",
                "-pix_fmt",
                "yuvj420p",
                "-q:v",
                "3",
                "-f",
                "image2",
                "-y",
            ]));
            list.push(preview.as_os_str().to_owned());
        }
    }
    run(&tools.ffmpeg, &list, tools.timeout).await?;
    Ok(Output { file, preview })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_probe_reads_video_and_audio_and_refuses_the_rest() {
        let video = parse_probe(&json!({
            "format": {"format_name": "mov,mp4,m4a,3gp,3g2,mj2", "duration": "1.000000", "bit_rate": "51234"},
            "streams": [
                {"codec_type": "video", "width": 320, "height": 240, "avg_frame_rate": "25/1"},
                {"codec_type": "audio"}
            ]
        }))
        .unwrap();
        assert_eq!(video.kind, Kind::Video);
        assert_eq!(video.format, "mov");
        assert_eq!((video.width, video.height), (Some(320), Some(240)));
        assert_eq!(video.frame_rate_text().as_deref(), Some("25/1"));
        assert_eq!(video.bitrate, Some(51234));

        // An MP3 with a cover picture is audio.
        let audio = parse_probe(&json!({
            "format": {"format_name": "mp3", "duration": "2.5"},
            "streams": [
                {"codec_type": "audio"},
                {"codec_type": "video", "width": 500, "height": 500, "disposition": {"attached_pic": 1}}
            ]
        }))
        .unwrap();
        assert_eq!(audio.kind, Kind::Audio);
        assert_eq!(audio.width, None);

        assert_eq!(
            parse_probe(&json!({
                "format": {"format_name": "image2", "duration": "1"},
                "streams": [{"codec_type": "video", "width": 1, "height": 1}]
            })),
            None
        );
        assert_eq!(
            parse_probe(&json!({"format": {"format_name": "mov"}, "streams": []})),
            None
        );
    }

    #[test]
    fn limits_name_what_is_too_much() {
        let probe = Probe {
            kind: Kind::Video,
            format: "mov",
            duration: 12.2,
            width: Some(7680),
            height: Some(4320),
            frame_rate: Some((240, 1)),
            bitrate: None,
        };
        let limits = Limits {
            max_duration_seconds: 10,
            max_frame_rate: 120,
            max_pixels: 8_294_400,
        };
        assert!(
            check_limits(&probe, &limits)
                .unwrap_err()
                .contains("13 seconds")
        );
        let limits = Limits {
            max_duration_seconds: 60,
            ..limits
        };
        assert!(
            check_limits(&probe, &limits)
                .unwrap_err()
                .contains("7680x4320")
        );
        let probe = Probe {
            width: Some(640),
            height: Some(480),
            ..probe
        };
        assert!(
            check_limits(&probe, &limits)
                .unwrap_err()
                .contains("240 frames")
        );
    }
}
