//! Image work for uploads, pure and synchronous (callers run it on a blocking
//! thread): the type read from the file's first bytes, size limits checked
//! before any pixel is decoded, EXIF orientation applied, metadata dropped by
//! re-encoding, downscaling, the preview and the blurhash. No I/O, no axum, no
//! sqlx.
//!
//! The limits and sizes are Mastodon's (app/models/media_attachment.rb): images
//! of at most 7680x4320 pixels are accepted and stored at no more than
//! 3840x2160 worth of pixels; the preview ("small") has at most 640x360 worth;
//! the blurhash has 4x4 components.
//!
//! What comes out, by what came in:
//! - JPEG: JPEG (quality 90);
//! - PNG and still GIF: PNG;
//! - WebP: PNG when it has transparency, otherwise JPEG (only the first frame
//!   of an animated WebP is kept);
//! - animated GIF: GIF, every frame rewritten with its own palette, delay and
//!   disposal, and nothing else (comments and application blocks such as XMP
//!   go). It is never scaled: one larger than the stored size is refused.
//!   Mastodon turns animated GIFs into MP4 ("gifv"); Skein keeps a GIF and
//!   calls it an image.
//!
//! Previews are JPEG, or PNG when the stored image is not a JPEG.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::{CompressionType, FilterType as PngFilter, PngEncoder};
use image::imageops::FilterType;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader};

/// The most pixels an upload may have (Mastodon: 7680x4320).
pub const MAX_INPUT_PIXELS: u64 = 7680 * 4320;
/// The longest side an upload may have, whatever its area.
pub const MAX_INPUT_SIDE: u32 = 16_384;
/// Stored images have at most this many pixels (Mastodon: 3840x2160).
pub const MAX_STORED_PIXELS: u64 = 3840 * 2160;
/// Previews have at most this many pixels (Mastodon's "small": 640x360).
pub const SMALL_PIXELS: u64 = 640 * 360;
/// The most frames of an animated GIF.
pub const MAX_GIF_FRAMES: usize = 1_000;
/// The most pixels all frames of an animated GIF may have together, so that a
/// small file cannot make the server decode for minutes.
pub const MAX_GIF_TOTAL_PIXELS: u64 = 200_000_000;
/// JPEG quality of stored images and previews (Mastodon's).
const JPEG_QUALITY: u8 = 90;
/// Memory a decoder may allocate: a full-size image at 16 bits per channel
/// with alpha, and some room.
const MAX_DECODER_ALLOC: u64 = MAX_INPUT_PIXELS * 8 + 64 * 1024 * 1024;
/// Blurhash components, as Mastodon computes them.
const BLURHASH_COMPONENTS: u32 = 4;
/// The blurhash is computed on a copy this small: it only keeps a few colours.
const BLURHASH_SIDE: u32 = 64;

/// The image types accepted, as their first bytes tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputType {
    Jpeg,
    Png,
    Gif,
    Webp,
}

impl InputType {
    /// The type of a file by its magic bytes; whatever name or content type
    /// it came with does not matter.
    pub fn detect(bytes: &[u8]) -> Option<InputType> {
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(InputType::Jpeg)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(InputType::Png)
        } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
            Some(InputType::Gif)
        } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
            Some(InputType::Webp)
        } else {
            None
        }
    }

    fn format(self) -> ImageFormat {
        match self {
            InputType::Jpeg => ImageFormat::Jpeg,
            InputType::Png => ImageFormat::Png,
            InputType::Gif => ImageFormat::Gif,
            InputType::Webp => ImageFormat::WebP,
        }
    }
}

/// The types Skein stores and serves. Nothing else is ever served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputType {
    Jpeg,
    Png,
    Gif,
}

impl OutputType {
    pub fn content_type(self) -> &'static str {
        match self {
            OutputType::Jpeg => "image/jpeg",
            OutputType::Png => "image/png",
            OutputType::Gif => "image/gif",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            OutputType::Jpeg => "jpg",
            OutputType::Png => "png",
            OutputType::Gif => "gif",
        }
    }

    /// The type served for a stored content type, when it is one of ours.
    pub fn from_content_type(content_type: &str) -> Option<OutputType> {
        [OutputType::Jpeg, OutputType::Png, OutputType::Gif]
            .into_iter()
            .find(|t| t.content_type() == content_type)
    }
}

/// One encoded file and its size in pixels.
#[derive(Debug, Clone)]
pub struct Encoded {
    pub bytes: Vec<u8>,
    pub kind: OutputType,
    pub width: u32,
    pub height: u32,
}

/// What an upload becomes: the image to store, its preview and blurhash.
#[derive(Debug, Clone)]
pub struct Processed {
    pub original: Encoded,
    pub small: Encoded,
    pub blurhash: String,
    /// Whether the stored image is an animated GIF.
    pub animated: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("the file is not a JPEG, PNG, GIF or WebP image")]
    UnknownType,
    #[error(
        "the image is {width}x{height} pixels; at most {MAX_INPUT_PIXELS} pixels and \
         {MAX_INPUT_SIDE} on a side are accepted"
    )]
    TooLarge { width: u64, height: u64 },
    #[error(
        "the animated GIF is {width}x{height} pixels; animated GIFs are accepted up to {MAX_STORED_PIXELS} pixels"
    )]
    AnimationTooLarge { width: u64, height: u64 },
    #[error(
        "the animated GIF has too many frames (at most {MAX_GIF_FRAMES}, and {MAX_GIF_TOTAL_PIXELS} pixels in all)"
    )]
    TooManyFrames,
    #[error("the image needs too much memory to decode")]
    TooMuchMemory,
    #[error("the image cannot be read: it is damaged or truncated")]
    Unreadable(String),
    /// Our own failure to write an image we could read.
    #[error("the image could not be encoded: {0}")]
    Encoding(String),
}

impl ImageError {
    /// Whether the upload is at fault (rather than the server).
    pub fn is_input_error(&self) -> bool {
        !matches!(self, ImageError::Encoding(_))
    }
}

fn unreadable(e: impl std::fmt::Display) -> ImageError {
    ImageError::Unreadable(e.to_string())
}

fn decoding_error(e: image::ImageError) -> ImageError {
    match e {
        image::ImageError::Limits(_) => ImageError::TooMuchMemory,
        other => unreadable(other),
    }
}

fn encoding(e: impl std::fmt::Display) -> ImageError {
    ImageError::Encoding(e.to_string())
}

/// Checks, decodes and re-encodes an uploaded image.
pub fn process(bytes: &[u8]) -> Result<Processed, ImageError> {
    let input = InputType::detect(bytes).ok_or(ImageError::UnknownType)?;
    if input == InputType::Gif && gif_frames(bytes)? > 1 {
        return process_animated_gif(bytes);
    }
    let image = decode(bytes, input)?;
    let kind = match input {
        InputType::Jpeg => OutputType::Jpeg,
        InputType::Png | InputType::Gif => OutputType::Png,
        InputType::Webp if image.color().has_alpha() => OutputType::Png,
        InputType::Webp => OutputType::Jpeg,
    };
    let stored = scale_to(&image, MAX_STORED_PIXELS);
    let small = scale_to(&stored, SMALL_PIXELS);
    Ok(Processed {
        blurhash: blurhash(&small)?,
        original: encode(&stored, kind)?,
        small: encode(&small, kind)?,
        animated: false,
    })
}

/// A custom emoji's image as stored: the image, and its first frame as a
/// PNG when it is animated (the `static_url` Mastodon shows when motion
/// is reduced).
#[derive(Debug, Clone)]
pub struct EmojiImage {
    pub image: Encoded,
    pub still: Option<Encoded>,
}

/// Checks and re-encodes a custom emoji's image: an animated GIF stays an
/// animated GIF (rewritten as uploads are) with its first frame as a PNG;
/// anything else becomes a PNG (an animated WebP keeps its first frame),
/// scaled down like uploads when larger than the stored size.
pub fn process_emoji(bytes: &[u8]) -> Result<EmojiImage, ImageError> {
    let input = InputType::detect(bytes).ok_or(ImageError::UnknownType)?;
    if input == InputType::Gif && gif_frames(bytes)? > 1 {
        let animated = process_animated_gif(bytes)?;
        return Ok(EmojiImage {
            image: animated.original,
            still: Some(animated.small),
        });
    }
    let image = decode(bytes, input)?;
    let stored = scale_to(&image, MAX_STORED_PIXELS);
    Ok(EmojiImage {
        image: encode(&stored, OutputType::Png)?,
        still: None,
    })
}

/// Decodes a still image (the first frame of an animated one), refusing one
/// that is too large before its pixels are decoded, and turns it upright as
/// its EXIF orientation says.
fn decode(bytes: &[u8], input: InputType) -> Result<DynamicImage, ImageError> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), input.format());
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(MAX_DECODER_ALLOC);
    reader.limits(limits);
    // Only the headers are read here: the size is known before any pixel is.
    let mut decoder = reader.into_decoder().map_err(decoding_error)?;
    let (width, height) = decoder.dimensions();
    check_input_size(width, height)?;
    // A broken EXIF block is no reason to refuse the picture.
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(decoding_error)?;
    image.apply_orientation(orientation);
    Ok(image)
}

fn check_input_size(width: u32, height: u32) -> Result<(), ImageError> {
    let pixels = u64::from(width) * u64::from(height);
    if width == 0
        || height == 0
        || width > MAX_INPUT_SIDE
        || height > MAX_INPUT_SIDE
        || pixels > MAX_INPUT_PIXELS
    {
        return Err(ImageError::TooLarge {
            width: width.into(),
            height: height.into(),
        });
    }
    Ok(())
}

/// The size that keeps the aspect ratio and has at most `max_pixels`.
pub fn fit(width: u32, height: u32, max_pixels: u64) -> (u32, u32) {
    let pixels = u64::from(width) * u64::from(height);
    if pixels <= max_pixels {
        return (width, height);
    }
    let scale = (max_pixels as f64 / pixels as f64).sqrt();
    let scaled = |side: u32| ((f64::from(side) * scale).floor() as u32).max(1);
    let (mut w, mut h) = (scaled(width), scaled(height));
    // A side that would round to nothing stays one pixel; the other gives way.
    let cap = |other: u32| u32::try_from(max_pixels / u64::from(other)).unwrap_or(u32::MAX);
    if u64::from(w) * u64::from(h) > max_pixels {
        if w >= h {
            w = cap(h).max(1);
        } else {
            h = cap(w).max(1);
        }
    }
    (w, h)
}

/// The image scaled down to at most `max_pixels`, in 8 bits per channel,
/// with alpha only when it had some.
fn scale_to(image: &DynamicImage, max_pixels: u64) -> DynamicImage {
    let (width, height) = fit(image.width(), image.height(), max_pixels);
    let scaled = if (width, height) == (image.width(), image.height()) {
        image.clone()
    } else {
        image.resize_exact(width, height, FilterType::CatmullRom)
    };
    if scaled.color().has_alpha() {
        DynamicImage::ImageRgba8(scaled.into_rgba8())
    } else {
        DynamicImage::ImageRgb8(scaled.into_rgb8())
    }
}

/// Encodes a still image. The encoders write pixels and nothing else: no
/// EXIF, XMP, comments or colour profiles.
fn encode(image: &DynamicImage, kind: OutputType) -> Result<Encoded, ImageError> {
    let mut bytes = Vec::new();
    match kind {
        OutputType::Jpeg => {
            let rgb = DynamicImage::ImageRgb8(image.to_rgb8());
            rgb.write_with_encoder(JpegEncoder::new_with_quality(&mut bytes, JPEG_QUALITY))
                .map_err(encoding)?;
        }
        OutputType::Png => image
            .write_with_encoder(PngEncoder::new_with_quality(
                &mut bytes,
                CompressionType::Default,
                PngFilter::Adaptive,
            ))
            .map_err(encoding)?,
        OutputType::Gif => return Err(ImageError::Encoding("still GIFs are stored as PNG".into())),
    }
    Ok(Encoded {
        bytes,
        kind,
        width: image.width(),
        height: image.height(),
    })
}

fn blurhash(image: &DynamicImage) -> Result<String, ImageError> {
    let tiny = image.thumbnail(BLURHASH_SIDE, BLURHASH_SIDE).into_rgba8();
    blurhash::encode(
        BLURHASH_COMPONENTS,
        BLURHASH_COMPONENTS,
        tiny.width(),
        tiny.height(),
        tiny.as_raw(),
    )
    .map_err(encoding)
}

fn gif_options() -> gif::DecodeOptions {
    let mut options = gif::DecodeOptions::new();
    options.set_color_output(gif::ColorOutput::Indexed);
    // One indexed frame may not be larger than the largest stored image.
    if let Some(limit) = std::num::NonZeroU64::new(MAX_STORED_PIXELS) {
        options.set_memory_limit(gif::MemoryLimit::Bytes(limit));
    }
    options
}

/// Counts the frames of a GIF without decoding them, checking the canvas and
/// every frame against the limits on the way.
fn gif_frames(bytes: &[u8]) -> Result<usize, ImageError> {
    let mut options = gif_options();
    options.skip_frame_decoding(true);
    let mut decoder = options.read_info(bytes).map_err(unreadable)?;
    let (width, height) = (u32::from(decoder.width()), u32::from(decoder.height()));
    check_input_size(width, height)?;
    let canvas = u64::from(width) * u64::from(height);
    let mut frames = 0;
    let mut total: u64 = 0;
    while let Some(frame) = decoder.next_frame_info().map_err(unreadable)? {
        let area = u64::from(frame.width) * u64::from(frame.height);
        if area > canvas {
            return Err(unreadable("a frame is larger than the canvas"));
        }
        frames += 1;
        total += area;
        if frames > MAX_GIF_FRAMES || total > MAX_GIF_TOTAL_PIXELS {
            return Err(ImageError::TooManyFrames);
        }
        // The next call skips this frame's data without decompressing it.
    }
    if frames == 0 {
        return Err(unreadable("the GIF has no frame"));
    }
    Ok(frames)
}

/// Rewrites an animated GIF frame by frame (decoding each, so a damaged one
/// is refused), keeping its palettes, timing and looping and nothing else.
/// Its preview is the first frame.
fn process_animated_gif(bytes: &[u8]) -> Result<Processed, ImageError> {
    let mut decoder = gif_options().read_info(bytes).map_err(unreadable)?;
    let (width, height) = (decoder.width(), decoder.height());
    if u64::from(width) * u64::from(height) > MAX_STORED_PIXELS {
        return Err(ImageError::AnimationTooLarge {
            width: width.into(),
            height: height.into(),
        });
    }
    let global = decoder.global_palette().map(<[u8]>::to_vec);
    let repeat = decoder.repeat();
    let mut out = Vec::new();
    {
        let mut encoder =
            gif::Encoder::new(&mut out, width, height, global.as_deref().unwrap_or(&[]))
                .map_err(encoding)?;
        encoder.set_repeat(repeat).map_err(encoding)?;
        while let Some(frame) = decoder.read_next_frame().map_err(unreadable)? {
            if frame.palette.is_none() && global.is_none() {
                return Err(unreadable("a frame has no colour table"));
            }
            let mut frame = frame.clone();
            // The decoder gives rows in display order.
            frame.interlaced = false;
            encoder.write_frame(&frame).map_err(encoding)?;
        }
    }
    let first = decode(bytes, InputType::Gif)?;
    let small = scale_to(&first, SMALL_PIXELS);
    Ok(Processed {
        blurhash: blurhash(&small)?,
        original: Encoded {
            bytes: out,
            kind: OutputType::Gif,
            width: width.into(),
            height: height.into(),
        },
        small: encode(&small, OutputType::Png)?,
        animated: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_come_from_the_first_bytes() {
        assert_eq!(
            InputType::detect(b"\xFF\xD8\xFF\xE0rest"),
            Some(InputType::Jpeg)
        );
        assert_eq!(
            InputType::detect(b"\x89PNG\r\n\x1a\nrest"),
            Some(InputType::Png)
        );
        assert_eq!(InputType::detect(b"GIF89a..."), Some(InputType::Gif));
        assert_eq!(
            InputType::detect(b"RIFF\0\0\0\0WEBPVP8 "),
            Some(InputType::Webp)
        );
        assert_eq!(InputType::detect(b"RIFF\0\0\0\0WAVEfmt "), None);
        assert_eq!(InputType::detect(b"<html><script>"), None);
        assert_eq!(InputType::detect(b""), None);
    }

    #[test]
    fn fitting_keeps_the_aspect_and_the_pixel_budget() {
        assert_eq!(fit(640, 360, SMALL_PIXELS), (640, 360));
        assert_eq!(fit(1280, 720, SMALL_PIXELS), (640, 360));
        let (w, h) = fit(4000, 3000, MAX_STORED_PIXELS);
        assert!(u64::from(w) * u64::from(h) <= MAX_STORED_PIXELS);
        assert_eq!((w, h), (3325, 2494));
        assert_eq!(fit(100_000, 1, 10), (10, 1));
        assert_eq!(fit(1, 100_000, 10), (1, 10));
    }
}
