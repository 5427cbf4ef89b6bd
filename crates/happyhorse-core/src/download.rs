//! What a storage host's answers mean for a download, and when a downloaded file counts as whole.
//!
//! Sans-IO like the rest of this crate: the HTTP client hands in the status and header values
//! ([`Answer`]) and, at the end, the file through `Read + Seek`; this module decides
//! ([`read_answer`] → [`Reply`], [`judge`] → [`Proof`] or [`Unproven`]).
//!
//! The rule for renaming a download into place: it is **provably whole**.
//! - When the host declared a length (`Content-Length` on a 200, the total of `Content-Range` on
//!   a 206, or `bytes */N` on a 416 for a partial file of exactly N bytes), the file has it.
//! - Whatever the length says, a file that starts like a known format ([`media`](crate::media):
//!   MP4/MOV, PNG, JPEG, WebP, GIF) must also be whole by its own structure, and a file expected
//!   to be a video must be an MP4. A matched length with a broken structure means the host's copy
//!   itself is broken.
//! - Without a declared length, the structure is the only proof: an unknown format, or an MP4
//!   whose last box runs "to the end of the file", is not proven (the caller may still get the
//!   length by asking to resume past the end, which a host answers with `416 bytes */N`).
//!
//! ```
//! use happyhorse_core::download::{Answer, Reply, read_answer};
//!
//! // A resume answered with the range asked for: append from byte 1000 of 5000.
//! let answer = Answer {
//!     status: 206,
//!     content_range: Some("bytes 1000-4999/5000"),
//!     content_length: Some("4000"),
//!     ..Answer::default()
//! };
//! assert!(matches!(
//!     read_answer(&answer, Some(1000), Some(5000)),
//!     Reply::Body { start: 1000, total: Some(5000), .. }
//! ));
//! // The same answer when the file was 6000 bytes at the start: it changed, start over.
//! assert!(matches!(read_answer(&answer, Some(1000), Some(6000)), Reply::StartOver { .. }));
//! ```

use std::fmt;
use std::io::{Read, Seek};
use std::time::Duration;

use crate::media::{self, MediaFormat, NotWhole};
use crate::vocabulary::parse_retry_after;

/// The parts of a storage host's answer a download needs, as header text.
#[derive(Debug, Clone, Copy, Default)]
pub struct Answer<'a> {
    /// The HTTP status.
    pub status: u16,
    /// `Content-Length`.
    pub content_length: Option<&'a str>,
    /// `Content-Range`.
    pub content_range: Option<&'a str>,
    /// `ETag`.
    pub etag: Option<&'a str>,
    /// `Location` (for redirects).
    pub location: Option<&'a str>,
    /// `Retry-After`.
    pub retry_after: Option<&'a str>,
    /// `Date` (to read an HTTP-date `Retry-After`).
    pub date: Option<&'a str>,
}

/// What to do with an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reply {
    /// Write the body starting at byte `start` of the file: 0 is a fresh start (any partial file
    /// is replaced), anything else appends to the partial file.
    Body {
        /// Where the body's first byte goes.
        start: u64,
        /// The whole file's size, when the host declared it.
        total: Option<u64>,
        /// A strong `ETag` to guard a later resume (`If-Range`); weak ones cannot guard bytes.
        etag: Option<String>,
    },
    /// Follow a redirect to `location` (still to be resolved against the request's URL).
    Redirect {
        /// The `Location` header as sent.
        location: String,
    },
    /// The partial file asked to be resumed is already the whole file: the host says the file
    /// has exactly as many bytes (`416` with `Content-Range: bytes */N`).
    AlreadyWhole {
        /// The file's size.
        total: u64,
    },
    /// The partial file cannot be resumed (refused range, or the file changed): discard it and
    /// start again.
    StartOver {
        /// Why, for people.
        why: String,
    },
    /// The host refused; `retryable` for 408, 429 and 5xx.
    Refused {
        /// The status.
        status: u16,
        /// Whether trying again later may work.
        retryable: bool,
        /// The host's `Retry-After`, if it sent one.
        retry_after: Option<Duration>,
    },
    /// The answer contradicts itself or the request (a range that starts elsewhere, lengths that
    /// disagree): worth another try, from scratch.
    Garbled {
        /// What is wrong, for people.
        why: String,
    },
}

/// Reads an answer to a download request; `asked` is the offset of a `Range: bytes=N-` request
/// (`None` for a plain GET) and `expected_total` the size recorded when the partial file began.
pub fn read_answer(answer: &Answer<'_>, asked: Option<u64>, expected_total: Option<u64>) -> Reply {
    let length = answer.content_length.and_then(parse_u64);
    match answer.status {
        200 => Reply::Body {
            start: 0,
            total: length,
            etag: strong_etag(answer.etag),
        },
        206 => match asked {
            Some(offset) => read_partial(answer, offset, length, expected_total),
            None => garbled("the storage host sent part of the file when all of it was asked for"),
        },
        416 => match (asked, answer.content_range.and_then(unsatisfied_total)) {
            (Some(offset), Some(total)) if total == offset => Reply::AlreadyWhole { total },
            _ => Reply::StartOver {
                why: "the storage host refused to resume".into(),
            },
        },
        301 | 302 | 303 | 307 | 308 => match answer.location {
            Some(location) if !location.trim().is_empty() => Reply::Redirect {
                location: location.trim().to_owned(),
            },
            _ => garbled("the storage host redirected without a Location"),
        },
        status => Reply::Refused {
            status,
            retryable: matches!(status, 408 | 429 | 500..=599),
            retry_after: answer
                .retry_after
                .and_then(|value| parse_retry_after(value, answer.date)),
        },
    }
}

fn read_partial(
    answer: &Answer<'_>,
    offset: u64,
    length: Option<u64>,
    expected_total: Option<u64>,
) -> Reply {
    let Some((start, end, total)) = answer.content_range.and_then(parse_content_range) else {
        return garbled("the storage host sent a partial answer without a valid Content-Range");
    };
    if start != offset {
        return garbled(&format!(
            "the storage host sent bytes from {start} when {offset} was asked for"
        ));
    }
    if length.is_some_and(|length| length != end - start + 1) {
        return garbled("the storage host's Content-Length and Content-Range disagree");
    }
    if let (Some(total), Some(expected)) = (total, expected_total)
        && total != expected
    {
        return Reply::StartOver {
            why: format!(
                "the file changed size since the download began ({expected} bytes then, {total} now)"
            ),
        };
    }
    if total.is_some_and(|total| end + 1 != total) {
        // A resume asks for everything to the end; a host that sends less is not followed.
        return garbled("the storage host sent a range that stops before the end of the file");
    }
    Reply::Body {
        start,
        total: total.or(expected_total),
        etag: strong_etag(answer.etag),
    }
}

fn garbled(why: &str) -> Reply {
    Reply::Garbled { why: why.into() }
}

fn parse_u64(text: &str) -> Option<u64> {
    let text = text.trim();
    (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

/// `bytes <start>-<end>/<total or *>` → (start, end, total).
fn parse_content_range(value: &str) -> Option<(u64, u64, Option<u64>)> {
    let (range, total) = value.trim().strip_prefix("bytes ")?.split_once('/')?;
    let (start, end) = range.split_once('-')?;
    let (start, end) = (parse_u64(start)?, parse_u64(end)?);
    let total = match total.trim() {
        "*" => None,
        total => Some(parse_u64(total)?),
    };
    (end >= start && total.is_none_or(|total| end < total)).then_some((start, end, total))
}

/// `bytes */<total>` (a 416's way of saying the size).
fn unsatisfied_total(value: &str) -> Option<u64> {
    parse_u64(value.trim().strip_prefix("bytes */")?)
}

fn strong_etag(etag: Option<&str>) -> Option<String> {
    etag.map(str::trim)
        .filter(|e| !e.is_empty() && !e.starts_with("W/"))
        .map(str::to_owned)
}

/// What a finished body is judged on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Received {
    /// Bytes in the file.
    pub len: u64,
    /// The size the host declared, if it did.
    pub declared: Option<u64>,
    /// Whether the file must be a video (by its name or its `Content-Type`): then it must be a
    /// whole MP4, whatever the host's length says.
    pub expect_video: bool,
}

/// Why a downloaded file counts as whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Proof {
    /// The host's declared length, which the file has.
    pub length: Option<u64>,
    /// The format whose structure showed the file whole.
    pub format: Option<MediaFormat>,
}

impl fmt::Display for Proof {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.length, self.format) {
            (Some(_), Some(format)) => write!(f, "the declared length and the {format} structure"),
            (Some(_), None) => f.write_str("the declared length"),
            (None, Some(format)) => write!(f, "the {format} structure"),
            (None, None) => f.write_str("nothing"),
        }
    }
}

/// Why a downloaded file is not (yet) shown whole.
#[derive(Debug)]
#[non_exhaustive]
pub enum Unproven {
    /// Fewer (or more) bytes than the host declared: the transfer was cut.
    LengthMismatch {
        /// Bytes received.
        len: u64,
        /// Bytes declared.
        declared: u64,
    },
    /// No length was declared and the file's structure shows it cut short.
    Cut(NotWhole),
    /// The file has the declared length but its structure is broken: the host's copy itself is.
    Broken(NotWhole),
    /// A video was expected and this is not an MP4 (often an error page saved under the video's name).
    NotVideo(Option<MediaFormat>),
    /// No length was declared and nothing in the file can show it whole (an unknown format, or an
    /// MP4 whose last box runs to the end of the file).
    NoProof(Option<MediaFormat>),
}

impl Unproven {
    /// Whether fetching (or resuming) again may end with a whole file.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::LengthMismatch { .. } | Self::Cut(_) | Self::NoProof(_)
        )
    }
}

impl fmt::Display for Unproven {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::LengthMismatch { len, declared } if len < declared => write!(
                f,
                "the download ended early: {len} of {declared} bytes"
            ),
            Self::LengthMismatch { len, declared } => write!(
                f,
                "the storage host sent {len} bytes but declared {declared}"
            ),
            Self::Cut(why) => write!(
                f,
                "the storage host sent no length and the file is not whole: {why}"
            ),
            Self::Broken(why) => write!(
                f,
                "the storage host's file is itself broken (it has the declared length): {why}"
            ),
            Self::NotVideo(Some(format)) => {
                write!(f, "a video was expected but the file is a {format}")
            }
            Self::NotVideo(None) => f.write_str(
                "a video was expected but the file is not an MP4 (perhaps an error page)",
            ),
            Self::NoProof(Some(format)) => write!(
                f,
                "the storage host sent no length and the {format} file's structure cannot show it whole"
            ),
            Self::NoProof(None) => f.write_str(
                "the storage host sent no length and the file's format has no structure to show it whole",
            ),
        }
    }
}

impl std::error::Error for Unproven {}

/// Judges whether a downloaded file is provably whole (see the module documentation).
///
/// # Errors
/// [`Unproven`] says why not; [`Unproven::is_retryable`] whether another try may help.
pub fn judge<R: Read + Seek>(file: &mut R, received: Received) -> Result<Proof, Unproven> {
    let Received {
        len,
        declared,
        expect_video,
    } = received;
    if let Some(declared) = declared.filter(|declared| *declared != len) {
        return Err(Unproven::LengthMismatch { len, declared });
    }
    let structure = media::check_whole(file, len);
    match structure {
        Ok(whole) if expect_video && whole.format != MediaFormat::Mp4 => {
            Err(Unproven::NotVideo(Some(whole.format)))
        }
        Ok(whole) if whole.open_ended && declared.is_none() => {
            Err(Unproven::NoProof(Some(whole.format)))
        }
        Ok(whole) => Ok(Proof {
            length: declared,
            format: Some(whole.format),
        }),
        Err(NotWhole::Unrecognised) if expect_video => Err(Unproven::NotVideo(None)),
        Err(NotWhole::Unrecognised) => match declared {
            Some(_) => Ok(Proof {
                length: declared,
                format: None,
            }),
            None => Err(Unproven::NoProof(None)),
        },
        // A file that cannot be read back says nothing about the host.
        Err(why @ NotWhole::Io(_)) => Err(Unproven::Cut(why)),
        Err(why) if declared.is_some() => Err(Unproven::Broken(why)),
        Err(why) => Err(Unproven::Cut(why)),
    }
}

#[cfg(test)]
mod tests;
