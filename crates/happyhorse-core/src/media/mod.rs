//! Media files checked without IO of their own: the caller hands in a `Read + Seek` (a file, a
//! `Cursor` over bytes) and its length.
//!
//! [`check_whole`] answers one question for a file that arrived over the network: does its own
//! structure show that it is complete? A download that ends without a `Content-Length` (or with a
//! length the host got wrong) is renamed into place only when this says so.
//!
//! - MP4 / MOV: the top-level boxes span the file exactly, start with `ftyp`, include `moov` and
//!   `mdat` ([`mp4`]; also the starting point for checking local input videos).
//! - PNG: the last 12 bytes are the `IEND` chunk. JPEG: it ends with the EOI marker (`FF D9`).
//!   WebP: the RIFF header's size matches the length. GIF: it ends with the trailer byte `3B`.
//! - Anything else: [`NotWhole::Unrecognised`], nothing to check; the caller needs another proof.
//!
//! ```
//! use std::io::Cursor;
//! use happyhorse_core::media::{self, MediaFormat, NotWhole};
//!
//! let png = [&b"\x89PNG\r\n\x1a\n"[..], &[0; 20], b"\0\0\0\0IEND\xaeB`\x82"].concat();
//! let whole = media::check_whole(&mut Cursor::new(&png), png.len() as u64).unwrap();
//! assert_eq!(whole.format, MediaFormat::Png);
//!
//! let cut = &png[..png.len() - 3];
//! let err = media::check_whole(&mut Cursor::new(cut), cut.len() as u64).unwrap_err();
//! assert!(matches!(err, NotWhole::Incomplete { format: MediaFormat::Png, .. }), "{err}");
//! ```

pub mod mp4;

use std::fmt;
use std::io::{self, Read, Seek, SeekFrom};

/// A file format whose completeness [`check_whole`] can judge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MediaFormat {
    /// MP4 or QuickTime MOV (ISO base media file format, starting with `ftyp`).
    Mp4,
    /// PNG.
    Png,
    /// JPEG.
    Jpeg,
    /// WebP (RIFF).
    Webp,
    /// GIF.
    Gif,
}

impl fmt::Display for MediaFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Mp4 => "MP4",
            Self::Png => "PNG",
            Self::Jpeg => "JPEG",
            Self::Webp => "WebP",
            Self::Gif => "GIF",
        })
    }
}

/// How many leading bytes [`sniff`] needs to recognise every format.
pub const SNIFF_LEN: usize = 12;

/// The format `head` (a file's first bytes, ideally [`SNIFF_LEN`] of them) starts like.
///
/// ```
/// use happyhorse_core::media::{sniff, MediaFormat};
/// assert_eq!(sniff(b"\0\0\0\x18ftypmp42"), Some(MediaFormat::Mp4));
/// assert_eq!(sniff(b"\xff\xd8\xff\xe0"), Some(MediaFormat::Jpeg));
/// assert_eq!(sniff(b"<html>"), None);
/// ```
pub fn sniff(head: &[u8]) -> Option<MediaFormat> {
    if mp4::starts_like_mp4(head) {
        Some(MediaFormat::Mp4)
    } else if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(MediaFormat::Png)
    } else if head.starts_with(b"\xff\xd8\xff") {
        Some(MediaFormat::Jpeg)
    } else if head.starts_with(b"RIFF") && head.get(8..12) == Some(b"WEBP".as_slice()) {
        Some(MediaFormat::Webp)
    } else if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        Some(MediaFormat::Gif)
    } else {
        None
    }
}

/// A file [`check_whole`] found complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Whole {
    /// Its format.
    pub format: MediaFormat,
    /// An MP4 whose last box runs "to the end of the file" (size 0): well-formed, but its
    /// structure cannot show it was not cut inside that box; it needs a length from elsewhere.
    pub open_ended: bool,
}

/// Why [`check_whole`] could not show a file complete.
#[derive(Debug)]
#[non_exhaustive]
pub enum NotWhole {
    /// Not a format this module knows: nothing to check.
    Unrecognised,
    /// An MP4 that is cut short, malformed, or lacks a box a player needs.
    Mp4(mp4::Mp4Error),
    /// A recognised image whose ending is missing or wrong.
    Incomplete {
        /// The format.
        format: MediaFormat,
        /// What is wrong, for people.
        why: &'static str,
    },
    /// Reading failed.
    Io(io::Error),
}

impl fmt::Display for NotWhole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unrecognised => f.write_str("its format is not one whose end can be checked"),
            Self::Mp4(err) => err.fmt(f),
            Self::Incomplete { format, why } => write!(f, "the {format} file is cut short: {why}"),
            Self::Io(err) => write!(f, "reading the file failed: {err}"),
        }
    }
}

impl std::error::Error for NotWhole {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Mp4(err) => Some(err),
            Self::Io(err) => Some(err),
            _ => None,
        }
    }
}

/// Checks, from its own structure, that a file of `len` bytes is complete.
///
/// # Errors
/// [`NotWhole::Unrecognised`] for a format it cannot judge; otherwise why the file is not whole.
pub fn check_whole<R: Read + Seek>(reader: &mut R, len: u64) -> Result<Whole, NotWhole> {
    let mut head = [0u8; SNIFF_LEN];
    let got = read_at(reader, 0, &mut head)?;
    let format = sniff(&head[..got]).ok_or(NotWhole::Unrecognised)?;
    let incomplete = |why| Err(NotWhole::Incomplete { format, why });
    let mut tail = [0u8; 12];
    let tail_len = usize::try_from(len.min(12)).unwrap_or(12);
    let tail = &mut tail[..tail_len];
    read_at(reader, len - tail_len as u64, tail)?;
    match format {
        MediaFormat::Mp4 => {
            let layout = mp4::check_whole(reader, len).map_err(NotWhole::Mp4)?;
            return Ok(Whole {
                format,
                open_ended: layout.open_ended,
            });
        }
        MediaFormat::Png if tail != b"\0\0\0\0IEND\xaeB`\x82" => {
            return incomplete("it does not end with the IEND chunk");
        }
        MediaFormat::Jpeg if !tail.ends_with(b"\xff\xd9") => {
            return incomplete("it does not end with the end-of-image marker");
        }
        MediaFormat::Webp => {
            // RIFF's size counts the bytes after its 8-byte header; an odd chunk is padded.
            let declared = u64::from(u32::from_le_bytes([head[4], head[5], head[6], head[7]]));
            if len != declared + 8 + (declared & 1) {
                return incomplete("its length differs from the one its RIFF header declares");
            }
        }
        MediaFormat::Gif if !tail.ends_with(b"\x3b") => {
            return incomplete("it does not end with the trailer byte");
        }
        _ => {}
    }
    Ok(Whole {
        format,
        open_ended: false,
    })
}

/// Reads up to `buf.len()` bytes at `offset`; returns how many (fewer only at the end of the file).
fn read_at<R: Read + Seek>(reader: &mut R, offset: u64, buf: &mut [u8]) -> Result<usize, NotWhole> {
    reader.seek(SeekFrom::Start(offset)).map_err(NotWhole::Io)?;
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(NotWhole::Io(err)),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests;
