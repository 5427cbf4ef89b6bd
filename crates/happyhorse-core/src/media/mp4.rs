//! MP4 / QuickTime (ISO BMFF) top-level boxes, read through any `Read + Seek` (a file, a
//! `Cursor` over bytes) without reading the media data.
//!
//! A file is a sequence of boxes, each `size (u32 BE) | type (4 bytes)`, where `size` counts the
//! whole box including its header; `size == 1` means a 64-bit `largesize` follows the type, and
//! `size == 0` means "to the end of the file" (allowed for the last box only). A `uuid` box carries
//! 16 more header bytes. [`check_whole`] walks the top level, which costs one small read per box
//! (three for a typical file: `ftyp`, `mdat`, `moov`), whatever the file's size.
//!
//! What "whole" means here: the boxes span the file exactly (a truncated file ends inside its
//! last box, so its declared end lies past the file's end), the first box is `ftyp`, and both
//! `moov` (the index a player needs) and `mdat` (the media) are present. A last box of size 0
//! runs to whatever the end is, so it proves nothing about truncation: [`Layout::open_ended`]
//! says so, and the caller needs another proof of the length (a `Content-Length`).
//!
//! ```
//! use std::io::Cursor;
//! use happyhorse_core::media::mp4::{self, Mp4Error};
//!
//! fn mp4_box(kind: &[u8; 4], payload: usize) -> Vec<u8> {
//!     let mut b = ((8 + payload) as u32).to_be_bytes().to_vec();
//!     b.extend_from_slice(kind);
//!     b.resize(8 + payload, 0);
//!     b
//! }
//! let file = [mp4_box(b"ftyp", 16), mp4_box(b"mdat", 1000), mp4_box(b"moov", 100)].concat();
//! let layout = mp4::check_whole(&mut Cursor::new(&file), file.len() as u64).unwrap();
//! assert_eq!(layout.boxes.len(), 3);
//!
//! // Cut inside `moov`: its declared end lies past the end of the file.
//! let cut = &file[..file.len() - 10];
//! let err = mp4::check_whole(&mut Cursor::new(cut), cut.len() as u64).unwrap_err();
//! assert!(matches!(err, Mp4Error::Truncated { .. }), "{err}");
//! ```

use std::fmt;
use std::io::{self, Read, Seek, SeekFrom};

/// The most top-level boxes [`top_level_boxes`] walks before giving up: real files have a
/// handful (a fragmented one a few per second of video); a hostile one of millions of 8-byte
/// boxes would otherwise cost a read each.
pub const MAX_TOP_LEVEL_BOXES: usize = 100_000;

/// A box type: four bytes, usually ASCII (`ftyp`, `moov`, `mdat`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct FourCc(pub [u8; 4]);

impl FourCc {
    /// `ftyp`: the file type box, first in an MP4.
    pub const FTYP: Self = Self(*b"ftyp");
    /// `moov`: the movie box (tracks, sample tables).
    pub const MOOV: Self = Self(*b"moov");
    /// `mdat`: the media data.
    pub const MDAT: Self = Self(*b"mdat");
    /// `uuid`: a box whose type is a 16-byte UUID after the header.
    pub const UUID: Self = Self(*b"uuid");
}

impl fmt::Display for FourCc {
    /// Printable ASCII as is, anything else escaped (a hostile file's bytes never reach a terminal raw).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in self.0 {
            if byte.is_ascii_graphic() || byte == b' ' {
                write!(f, "{}", char::from(byte))?;
            } else {
                write!(f, "\\x{byte:02x}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for FourCc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FourCc({self})")
    }
}

/// One box's header and where it lies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BoxHeader {
    /// Its type.
    pub kind: FourCc,
    /// Where the box starts, from the start of the file.
    pub offset: u64,
    /// Bytes of header before the payload: 8, 16 with a `largesize`, 16 more for `uuid`.
    pub header_len: u64,
    /// The whole box's size including its header; `None` for size 0, "to the end of the file".
    pub size: Option<u64>,
}

impl BoxHeader {
    /// Where the box ends, given the file's length (for a box of size 0, the file's end).
    pub fn end(&self, file_len: u64) -> u64 {
        self.size
            .map_or(file_len, |size| self.offset.saturating_add(size))
    }
}

/// Why a file is not a whole MP4.
#[derive(Debug)]
#[non_exhaustive]
pub enum Mp4Error {
    /// The file ends inside a box (or inside a box header): it was cut short.
    Truncated {
        /// The box it ends in (`None` when even its header is cut).
        kind: Option<FourCc>,
        /// Where that box starts.
        offset: u64,
        /// Where the box says it ends.
        declared_end: u64,
        /// The file's actual length.
        len: u64,
    },
    /// A box declares a size smaller than its own header.
    BadSize {
        /// The box.
        kind: FourCc,
        /// Where it starts.
        offset: u64,
        /// The size it declares.
        size: u64,
    },
    /// The first box is not `ftyp` (the file is not an MP4, or was saved from something else,
    /// such as an HTML error page).
    NoFtyp {
        /// What the file starts with instead (`None` when it is shorter than one box header).
        first: Option<FourCc>,
    },
    /// No `moov` box: a player cannot read the file.
    NoMoov,
    /// No `mdat` box: there is no media.
    NoMdat,
    /// More than [`MAX_TOP_LEVEL_BOXES`] top-level boxes.
    TooManyBoxes,
    /// Reading failed.
    Io(io::Error),
}

impl fmt::Display for Mp4Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated {
                kind: Some(kind),
                offset,
                declared_end,
                len,
            } => write!(
                f,
                "the file is cut short: its `{kind}` box at byte {offset} should end at byte \
                 {declared_end}, but the file has {len} bytes"
            ),
            Self::Truncated {
                kind: None,
                offset,
                len,
                ..
            } => write!(
                f,
                "the file is cut short: it ends inside a box header at byte {offset} ({len} bytes)"
            ),
            Self::BadSize { kind, offset, size } => write!(
                f,
                "the `{kind}` box at byte {offset} declares an impossible size ({size} bytes)"
            ),
            Self::NoFtyp { .. } => {
                f.write_str("not an MP4 file: it does not start with an `ftyp` box")
            }
            Self::NoMoov => f.write_str("the MP4 has no `moov` box (no index a player can read)"),
            Self::NoMdat => f.write_str("the MP4 has no `mdat` box (no media data)"),
            Self::TooManyBoxes => write!(
                f,
                "the MP4 has more than {MAX_TOP_LEVEL_BOXES} top-level boxes"
            ),
            Self::Io(err) => write!(f, "reading the MP4 failed: {err}"),
        }
    }
}

impl std::error::Error for Mp4Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io(err) => Some(err),
            _ => None,
        }
    }
}

/// A whole MP4's top-level layout, from [`check_whole`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Layout {
    /// The top-level boxes in file order.
    pub boxes: Vec<BoxHeader>,
    /// The last box has size 0 ("to the end of the file"): the layout cannot show that the file
    /// was not cut inside it, so its length needs another proof.
    pub open_ended: bool,
}

impl Layout {
    /// The first top-level box of type `kind`.
    pub fn find(&self, kind: FourCc) -> Option<&BoxHeader> {
        self.boxes.iter().find(|b| b.kind == kind)
    }
}

/// Whether `head` (the first bytes of a file) starts like an MP4: a box of type `ftyp`.
///
/// ```
/// assert!(happyhorse_core::media::mp4::starts_like_mp4(b"\0\0\0\x20ftypisom"));
/// assert!(!happyhorse_core::media::mp4::starts_like_mp4(b"<!DOCTYPE html>"));
/// ```
pub fn starts_like_mp4(head: &[u8]) -> bool {
    head.get(4..8) == Some(b"ftyp".as_slice())
}

/// Reads the header of the box at `offset`, which must leave `len - offset` bytes for it.
///
/// # Errors
/// [`Mp4Error::Truncated`] when the header itself is cut, [`Mp4Error::BadSize`] for a size
/// smaller than the header, [`Mp4Error::Io`] when reading fails.
pub fn read_box_header<R: Read + Seek>(
    reader: &mut R,
    offset: u64,
    len: u64,
) -> Result<BoxHeader, Mp4Error> {
    let cut = |needed: u64| Mp4Error::Truncated {
        kind: None,
        offset,
        declared_end: offset.saturating_add(needed),
        len,
    };
    let available = len.saturating_sub(offset);
    if available < 8 {
        return Err(cut(8));
    }
    reader.seek(SeekFrom::Start(offset)).map_err(Mp4Error::Io)?;
    let mut header = [0u8; 8];
    read_exact(reader, &mut header, || cut(8))?;
    let kind = FourCc([header[4], header[5], header[6], header[7]]);
    let mut header_len = 8;
    let size = match u32::from_be_bytes([header[0], header[1], header[2], header[3]]) {
        0 => None,
        1 => {
            if available < 16 {
                return Err(cut(16));
            }
            let mut large = [0u8; 8];
            read_exact(reader, &mut large, || cut(16))?;
            header_len = 16;
            Some(u64::from_be_bytes(large))
        }
        size => Some(u64::from(size)),
    };
    if kind == FourCc::UUID {
        header_len += 16;
    }
    if let Some(size) = size.filter(|size| *size < header_len) {
        return Err(Mp4Error::BadSize { kind, offset, size });
    }
    Ok(BoxHeader {
        kind,
        offset,
        header_len,
        size,
    })
}

/// Walks the top-level boxes of a file of `len` bytes, checking that they span it exactly.
///
/// # Errors
/// [`Mp4Error::Truncated`] when a box (or a header) runs past `len`, [`Mp4Error::BadSize`],
/// [`Mp4Error::TooManyBoxes`], [`Mp4Error::Io`].
pub fn top_level_boxes<R: Read + Seek>(
    reader: &mut R,
    len: u64,
) -> Result<Vec<BoxHeader>, Mp4Error> {
    let mut boxes = Vec::new();
    let mut offset = 0;
    while offset < len {
        if boxes.len() == MAX_TOP_LEVEL_BOXES {
            return Err(Mp4Error::TooManyBoxes);
        }
        let header = read_box_header(reader, offset, len)?;
        let end = match header.size {
            Some(size) => offset.saturating_add(size),
            None => len,
        };
        if end > len {
            return Err(Mp4Error::Truncated {
                kind: Some(header.kind),
                offset,
                declared_end: end,
                len,
            });
        }
        if end < header.offset.saturating_add(header.header_len) {
            // Size 0 with a `uuid` header cut short.
            return Err(Mp4Error::Truncated {
                kind: Some(header.kind),
                offset,
                declared_end: offset + header.header_len,
                len,
            });
        }
        boxes.push(header);
        offset = end;
    }
    Ok(boxes)
}

/// Checks that a file of `len` bytes is a whole MP4 (see the module documentation).
///
/// # Errors
/// As [`top_level_boxes`], and [`Mp4Error::NoFtyp`], [`Mp4Error::NoMoov`], [`Mp4Error::NoMdat`].
pub fn check_whole<R: Read + Seek>(reader: &mut R, len: u64) -> Result<Layout, Mp4Error> {
    // Read the start first: a file that is not an MP4 at all (an HTML page) is named as such
    // rather than as a truncated box.
    if len < 8 {
        return Err(Mp4Error::NoFtyp { first: None });
    }
    let first = read_box_header(reader, 0, len)?;
    if first.kind != FourCc::FTYP {
        return Err(Mp4Error::NoFtyp {
            first: Some(first.kind),
        });
    }
    let boxes = top_level_boxes(reader, len)?;
    let layout = Layout {
        open_ended: boxes.last().is_some_and(|b| b.size.is_none()),
        boxes,
    };
    if layout.find(FourCc::MOOV).is_none() {
        return Err(Mp4Error::NoMoov);
    }
    if layout.find(FourCc::MDAT).is_none() {
        return Err(Mp4Error::NoMdat);
    }
    Ok(layout)
}

fn read_exact<R: Read>(
    reader: &mut R,
    buf: &mut [u8],
    cut: impl FnOnce() -> Mp4Error,
) -> Result<(), Mp4Error> {
    reader.read_exact(buf).map_err(|err| {
        if err.kind() == io::ErrorKind::UnexpectedEof {
            cut()
        } else {
            Mp4Error::Io(err)
        }
    })
}
