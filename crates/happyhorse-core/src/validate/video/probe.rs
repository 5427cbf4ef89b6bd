//! Reading what a video is without decoding it: the top-level boxes are walked by their headers
//! (a few bytes each, skipping the media data), the `moov` box is read whole and handed to
//! Mozilla's `mp4parse`, and the video track's sample entry, timescale and sample tables give the
//! codec, sides, duration and frame rate.
//!
//! The walk also proves the file whole as far as its structure can tell: every top-level box ends
//! within the file, and the media data holds at least as many bytes as the video's samples
//! declare. What it cannot see — well-framed samples garbled inside — is left to the service.

use std::io::Cursor;

use happyhorse_types::rules::{VideoCodec, VideoContainer};
use memchr::memmem;
use mp4parse::{CodecType, SampleEntry, TrackType};

use super::VideoInfo;

/// Where a video's bytes come from: a file read at offsets, or bytes in memory.
///
/// The caller does the IO (this crate does none): `happyhorse-http` implements it for files, and
/// `&[u8]` implements it here.
pub trait ReadAt {
    /// The length in bytes.
    fn len(&self) -> u64;
    /// Whether it holds no bytes.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Fills `buf` with the bytes at `offset` (exactly `buf.len()` of them), or says why not.
    ///
    /// # Errors
    /// Why the bytes could not be read.
    fn read_exact_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), String>;
}

impl ReadAt for &[u8] {
    fn len(&self) -> u64 {
        <[u8]>::len(self) as u64
    }

    fn read_exact_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), String> {
        let start = usize::try_from(offset).map_err(|_| "offset out of range".to_owned())?;
        let end = start.checked_add(buf.len()).ok_or("length out of range")?;
        let bytes = self.get(start..end).ok_or("past the end")?;
        buf.copy_from_slice(bytes);
        Ok(())
    }
}

/// The largest `moov` box read: its sample tables grow with the frames (a 60 s clip at 60 fps
/// needs a few hundred KB), so 64 MiB is far beyond any video the models accept.
pub(crate) const MOOV_MAX_BYTES: u64 = 64 * 1024 * 1024;
/// The largest `ftyp` box read.
const FTYP_MAX_BYTES: u64 = 4096;
/// Top-level boxes walked before the file is declared corrupt (a real file has a handful).
const MAX_TOP_LEVEL_BOXES: usize = 100_000;

/// Why a file is not a video that can be measured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Unreadable {
    /// Not an MP4 or MOV at all: what it is instead (`Matroska/WebM video`, `PNG`, `3GP`).
    NotMp4(String),
    /// The file ends before its structure does (`video_truncated`).
    Truncated(String),
    /// The structure is broken (`video_corrupt`).
    Corrupt(String),
    /// No video track, or a video track without frames (`video_no_track`).
    NoVideo(String),
    /// Fragmented: its frames are described in fragments this check does not read
    /// (`video_fragmented`).
    Fragmented,
    /// Reading failed (`video_file`).
    Io(String),
}

/// One top-level box: its type, where its content starts and how long it is.
struct TopBox {
    kind: [u8; 4],
    offset: u64,
    header: u64,
    size: u64,
}

/// Reads the video's facts: container, codec, sides, duration, frames.
pub(crate) fn probe(source: &mut dyn ReadAt) -> Result<VideoInfo, Unreadable> {
    let len = source.len();
    if len == 0 {
        return Err(Unreadable::NotMp4("no bytes".into()));
    }
    let mut ftyp: Option<Vec<u8>> = None;
    let mut moov: Vec<u8> = Vec::new();
    let mut media_bytes: u64 = 0;
    let mut fragments = false;
    let mut offset = 0;
    let mut count = 0;
    while offset < len {
        count += 1;
        if count > MAX_TOP_LEVEL_BOXES {
            return Err(Unreadable::Corrupt(format!(
                "more than {MAX_TOP_LEVEL_BOXES} top-level boxes"
            )));
        }
        let top = read_box_header(source, offset, len, count == 1)?;
        let content = top.size - top.header;
        match &top.kind {
            b"ftyp" if ftyp.is_none() => {
                if top.size > FTYP_MAX_BYTES {
                    return Err(Unreadable::Corrupt(format!(
                        "the `ftyp` box is {} bytes long",
                        top.size
                    )));
                }
                ftyp = Some(read_whole(source, &top)?);
            }
            b"moov" => {
                if top.size + moov.len() as u64 > MOOV_MAX_BYTES {
                    return Err(Unreadable::Corrupt(format!(
                        "the `moov` box is {} bytes long (at most {MOOV_MAX_BYTES} are read)",
                        top.size
                    )));
                }
                moov.extend(read_whole(source, &top)?);
            }
            b"mdat" => media_bytes = media_bytes.saturating_add(content),
            b"moof" => fragments = true,
            _ => {}
        }
        offset = top.offset + top.size;
    }
    let container = container(ftyp.as_deref())?;
    if moov.is_empty() {
        return Err(if media_bytes > 0 {
            Unreadable::Truncated("it has media data but no `moov` box describing it".into())
        } else {
            Unreadable::Corrupt("it has no `moov` box".into())
        });
    }
    let mut parsed = ftyp.unwrap_or_default();
    parsed.extend_from_slice(&moov);
    let context = mp4parse::read_mp4(&mut Cursor::new(&parsed)).map_err(|e| {
        Unreadable::Corrupt(format!("its `moov` box cannot be read ({})", describe(&e)))
    })?;
    if fragments || context.mvex.is_some() {
        return Err(Unreadable::Fragmented);
    }
    measure(&context, container, &moov, media_bytes, len)
}

fn describe(error: &mp4parse::Error) -> String {
    let text = format!("{error:?}");
    text.chars().take(120).collect()
}

/// The header of the box at `offset`; `first` says whether it is the file's first box, where
/// anything that does not look like an MP4 or MOV is named rather than called corrupt.
fn read_box_header(
    source: &mut dyn ReadAt,
    offset: u64,
    len: u64,
    first: bool,
) -> Result<TopBox, Unreadable> {
    let left = len - offset;
    let mut head = [0u8; 16];
    let short = left < 8;
    if short || first {
        let n = left.min(16) as usize;
        source
            .read_exact_at(offset, &mut head[..n])
            .map_err(Unreadable::Io)?;
        if first && !is_first_box(&head[..n]) {
            return Err(Unreadable::NotMp4(super::super::image::describe_content(
                &head[..n],
            )));
        }
        if short {
            return Err(Unreadable::Truncated(format!(
                "it ends inside a box header at byte {offset}"
            )));
        }
    } else {
        source
            .read_exact_at(offset, &mut head[..8])
            .map_err(Unreadable::Io)?;
    }
    let kind: [u8; 4] = head[4..8].try_into().unwrap_or_default();
    let name = String::from_utf8_lossy(&kind).into_owned();
    if !kind
        .iter()
        .all(|b| b.is_ascii_graphic() || *b == b' ' || *b == 0xA9)
    {
        return Err(Unreadable::Corrupt(format!(
            "the box at byte {offset} has no valid type"
        )));
    }
    let (header, size) = match u32::from_be_bytes(head[..4].try_into().unwrap_or_default()) {
        0 => (8, left),
        1 => {
            if left < 16 {
                return Err(Unreadable::Truncated(format!(
                    "it ends inside the `{name}` box's header"
                )));
            }
            if !first {
                source
                    .read_exact_at(offset + 8, &mut head[8..16])
                    .map_err(Unreadable::Io)?;
            }
            (
                16,
                u64::from_be_bytes(head[8..16].try_into().unwrap_or_default()),
            )
        }
        n => (8, u64::from(n)),
    };
    if size < header {
        return Err(Unreadable::Corrupt(format!(
            "the `{name}` box at byte {offset} declares {size} bytes, less than its own header"
        )));
    }
    if size > left {
        return Err(Unreadable::Truncated(format!(
            "the `{name}` box at byte {offset} declares {size} bytes but the file ends {left} bytes after it starts"
        )));
    }
    Ok(TopBox {
        kind,
        offset,
        header,
        size,
    })
}

/// Whether the first bytes open an MP4 or MOV: a box of a type such files start with.
fn is_first_box(head: &[u8]) -> bool {
    let Some(kind) = head.get(4..8) else {
        return false;
    };
    [
        &b"ftyp"[..],
        b"moov",
        b"mdat",
        b"wide",
        b"free",
        b"skip",
        b"pnot",
        b"uuid",
    ]
    .contains(&kind)
}

fn read_whole(source: &mut dyn ReadAt, top: &TopBox) -> Result<Vec<u8>, Unreadable> {
    let len = usize::try_from(top.size).map_err(|_| Unreadable::Corrupt("box too large".into()))?;
    let mut bytes = vec![0u8; len];
    source
        .read_exact_at(top.offset, &mut bytes)
        .map_err(Unreadable::Io)?;
    // A size-0 box ("to the end of the file") carries its real length in no header mp4parse
    // reads; spell it out so the parser sees a box of the length it has.
    if top.header == 8 && bytes[..4] == [0, 0, 0, 0] {
        if let Ok(size) = u32::try_from(top.size) {
            bytes[..4].copy_from_slice(&size.to_be_bytes());
        } else {
            return Err(Unreadable::Corrupt("box too large".into()));
        }
    }
    Ok(bytes)
}

/// The container by the file's brands: QuickTime (`qt  `), an ISO/MP4 brand, or something else
/// built on the same boxes (3GP, HEIF, AVIF). A file without `ftyp` is classic QuickTime.
fn container(ftyp: Option<&[u8]>) -> Result<VideoContainer, Unreadable> {
    let Some(ftyp) = ftyp else {
        return Ok(VideoContainer::Mov);
    };
    let brands: Vec<&[u8]> = ftyp
        .get(8..)
        .unwrap_or_default()
        .chunks_exact(4)
        .enumerate()
        .filter(|(i, _)| *i != 1) // the minor version
        .map(|(_, brand)| brand)
        .collect();
    let major = brands.first().copied().unwrap_or_default();
    let other = |name: &str| Err(Unreadable::NotMp4(name.to_owned()));
    match major {
        b"qt  " => Ok(VideoContainer::Mov),
        b"3gp4" | b"3gp5" | b"3gp6" | b"3gp7" | b"3gp8" | b"3gp9" | b"3g2a" | b"3g2b" | b"3g2c" => {
            other("3GP video")
        }
        b"heic" | b"heix" | b"heim" | b"heis" | b"mif1" | b"msf1" => other("HEIF image"),
        b"avif" | b"avis" => other("AVIF image"),
        b"M4A " | b"M4B " | b"M4P " => other("M4A audio"),
        b"crx " => other("Canon RAW image"),
        _ if brands.contains(&&b"qt  "[..]) && !is_iso_brand(major) => Ok(VideoContainer::Mov),
        _ => Ok(VideoContainer::Mp4),
    }
}

fn is_iso_brand(brand: &[u8]) -> bool {
    brand.starts_with(b"iso") || brand.starts_with(b"mp4") || brand.starts_with(b"avc")
}

/// The first video track's facts.
fn measure(
    context: &mp4parse::MediaContext,
    container: VideoContainer,
    moov: &[u8],
    media_bytes: u64,
    len: u64,
) -> Result<VideoInfo, Unreadable> {
    let no_video = || Unreadable::NoVideo("it has no video track".into());
    let track = context
        .tracks
        .iter()
        .find(|t| t.track_type == TrackType::Video)
        .ok_or_else(no_video)?;
    let entry = track
        .stsd
        .as_ref()
        .and_then(|stsd| stsd.descriptions.first());
    let (codec, codec_name, mut width, mut height) = match entry {
        Some(SampleEntry::Video(video)) => {
            let (codec, name) = codec_of(video.codec_type, moov);
            (codec, name, u32::from(video.width), u32::from(video.height))
        }
        _ => {
            let (codec, name) = codec_of(CodecType::Unknown, moov);
            (codec, name, 0, 0)
        }
    };
    if (width == 0 || height == 0)
        && let Some(tkhd) = &track.tkhd
    {
        width = tkhd.width >> 16;
        height = tkhd.height >> 16;
    }
    let stts = track.stts.as_ref();
    let frames: u64 = stts
        .map(|stts| stts.samples.iter().map(|s| u64::from(s.sample_count)).sum())
        .unwrap_or(0);
    if frames == 0 {
        return Err(Unreadable::NoVideo(
            "its video track holds no frames".into(),
        ));
    }
    let timescale = track.timescale.map_or(0, |t| t.0);
    if timescale == 0 {
        return Err(Unreadable::Corrupt(
            "its video track has no timescale".into(),
        ));
    }
    let from_samples: u64 = stts
        .map(|stts| {
            stts.samples
                .iter()
                .map(|s| u64::from(s.sample_count).saturating_mul(u64::from(s.sample_delta)))
                .fold(0u64, u64::saturating_add)
        })
        .unwrap_or(0);
    let units = track
        .duration
        .map(|d| d.0)
        .filter(|d| *d > 0)
        .unwrap_or(from_samples);
    if units == 0 {
        return Err(Unreadable::Corrupt("its video track lasts no time".into()));
    }
    let duration_secs = units as f64 / timescale as f64;
    let sample_bytes = track.stsz.as_ref().map_or(0, |stsz| {
        if stsz.sample_size > 0 {
            u64::from(stsz.sample_size).saturating_mul(frames)
        } else {
            stsz.sample_sizes
                .iter()
                .map(|&s| u64::from(s))
                .fold(0u64, u64::saturating_add)
        }
    });
    if sample_bytes > media_bytes {
        return Err(Unreadable::Truncated(format!(
            "its video samples need {sample_bytes} bytes but the file holds {media_bytes} bytes of media data"
        )));
    }
    Ok(VideoInfo {
        container,
        codec,
        codec_name,
        width,
        height,
        duration_secs,
        frames,
        fps: frames as f64 / duration_secs,
        bytes: len,
    })
}

/// The codec as a rule names it, and as a person would: mp4parse's own reading, else the sample
/// entry's four-character code found in an `stsd` box (HEVC, ProRes, … which mp4parse does not
/// name).
fn codec_of(codec: CodecType, moov: &[u8]) -> (Option<VideoCodec>, String) {
    let name = match codec {
        CodecType::H264 => return (Some(VideoCodec::H264), "H.264".to_owned()),
        CodecType::AV1 => "AV1",
        CodecType::VP9 => "VP9",
        CodecType::VP8 => "VP8",
        CodecType::MP4V => "MPEG-4 Part 2",
        CodecType::H263 => "H.263",
        CodecType::EncryptedVideo => "encrypted video",
        _ => return (None, sample_entry_name(moov)),
    };
    (None, name.to_owned())
}

/// The first video sample entry's code in any `stsd` box, named when known.
fn sample_entry_name(moov: &[u8]) -> String {
    // After `stsd`: version and flags (4), entry count (4), the entry's size (4), its code (4).
    for at in memmem::find_iter(moov, b"stsd") {
        let Some(code) = moov.get(at + 16..at + 20) else {
            continue;
        };
        let name = match code {
            b"hvc1" | b"hev1" => "HEVC (H.265)",
            b"dvh1" | b"dvhe" => "Dolby Vision (HEVC)",
            b"apch" | b"apcn" | b"apcs" | b"apco" | b"ap4h" | b"ap4x" => "Apple ProRes",
            b"mjpa" | b"mjpb" | b"jpeg" => "Motion JPEG",
            b"vvc1" | b"vvi1" => "VVC (H.266)",
            _ => continue,
        };
        return name.to_owned();
    }
    "an unrecognised codec".to_owned()
}
