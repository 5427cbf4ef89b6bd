//! Every read of a local file or stdin is bounded: at most the limit that applies plus one byte
//! is read, then refused — a 300 MB stdin never costs 600 MB of memory. The token file must be a
//! small regular file: a FIFO or a device is refused before it is opened, so it can never block.

use std::fs::File;
use std::io::{self, BufRead, Read};
use std::path::Path;

/// The largest token file: a RunComfy token is well under 100 bytes.
pub(crate) const TOKEN_FILE_MAX_BYTES: u64 = 4096;

/// Why a bounded read failed.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// More than the limit (the value: the limit).
    TooLarge(u64),
    /// The file is not something to read (a directory, a FIFO, a device).
    NotAFile(&'static str),
    /// The OS refused.
    Io(io::Error),
}

impl ReadError {
    /// A short reason, without OS error numbers: `no such file`, `more than 64 bytes`.
    pub(crate) fn reason(&self) -> String {
        match self {
            Self::TooLarge(limit) => format!("more than {limit} bytes"),
            Self::NotAFile(kind) => format!("{kind}, not a regular file"),
            Self::Io(error) => io_reason(error),
        }
    }
}

/// An I/O error as a short reason without the OS error number.
pub(crate) fn io_reason(error: &io::Error) -> String {
    match error.kind() {
        io::ErrorKind::NotFound => "no such file".into(),
        io::ErrorKind::PermissionDenied => "permission denied".into(),
        io::ErrorKind::IsADirectory => "a directory".into(),
        _ => error.to_string(),
    }
}

/// Reads `reader` to its end, or refuses once it has given more than `limit` bytes.
pub(crate) fn read_bounded(reader: impl Read, limit: u64) -> Result<Vec<u8>, ReadError> {
    let mut bytes = Vec::new();
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge(limit));
    }
    Ok(bytes)
}

/// Reads the file at `path` (a regular file, or a pipe such as `<(…)`) bounded by `limit`; a
/// regular file longer than `limit` is refused before reading. A directory or a device is refused.
pub(crate) fn read_path_bounded(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let meta = std::fs::metadata(path).map_err(ReadError::Io)?;
    if let Some(kind) = special_kind(&meta, true) {
        return Err(ReadError::NotAFile(kind));
    }
    if meta.is_file() && meta.len() > limit {
        return Err(ReadError::TooLarge(limit));
    }
    read_bounded(File::open(path).map_err(ReadError::Io)?, limit)
}

/// Reads a token file: a regular file of at most [`TOKEN_FILE_MAX_BYTES`]. Anything else (a
/// FIFO, which would block; a device such as `/dev/zero`, which never ends) is refused before it
/// is opened, and checked again on the opened file.
pub(crate) fn read_token_file(path: &Path) -> Result<Vec<u8>, ReadError> {
    let check = |meta: &std::fs::Metadata| -> Result<(), ReadError> {
        if let Some(kind) = special_kind(meta, false) {
            return Err(ReadError::NotAFile(kind));
        }
        if meta.len() > TOKEN_FILE_MAX_BYTES {
            return Err(ReadError::TooLarge(TOKEN_FILE_MAX_BYTES));
        }
        Ok(())
    };
    check(&std::fs::metadata(path).map_err(ReadError::Io)?)?;
    let file = File::open(path).map_err(ReadError::Io)?;
    check(&file.metadata().map_err(ReadError::Io)?)?;
    read_bounded(file, TOKEN_FILE_MAX_BYTES)
}

/// What a file is when it is not a regular file; pipes pass when `pipes_ok`.
fn special_kind(meta: &std::fs::Metadata, pipes_ok: bool) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt as _;
    let kind = meta.file_type();
    if kind.is_file() {
        None
    } else if kind.is_dir() {
        Some("a directory")
    } else if kind.is_fifo() {
        (!pipes_ok).then_some("a FIFO (named pipe)")
    } else if kind.is_char_device() || kind.is_block_device() {
        Some("a device")
    } else if kind.is_socket() {
        Some("a socket")
    } else {
        Some("not a file")
    }
}

/// One line of a bounded line reader.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Line {
    /// A line (without its `\n`) of at most the limit.
    Text(Vec<u8>),
    /// A line longer than the limit: skipped to its end without being kept.
    TooLong,
}

/// Reads the next line of `reader`, keeping at most `limit` bytes of it; every byte consumed is
/// also given to `seen` (for a hash of the whole input). `None` at the end.
pub(crate) fn next_line(
    reader: &mut impl BufRead,
    limit: usize,
    mut seen: impl FnMut(&[u8]),
) -> io::Result<Option<Line>> {
    let mut line = Vec::new();
    let mut too_long = false;
    let mut any = false;
    loop {
        let chunk = reader.fill_buf()?;
        if chunk.is_empty() {
            break;
        }
        any = true;
        let (part, used, ended) = match memchr_newline(chunk) {
            Some(at) => (&chunk[..at], at + 1, true),
            None => (chunk, chunk.len(), false),
        };
        if !too_long {
            if line.len() + part.len() > limit {
                too_long = true;
                line = Vec::new();
            } else {
                line.extend_from_slice(part);
            }
        }
        seen(&chunk[..used]);
        reader.consume(used);
        if ended {
            break;
        }
    }
    Ok(match (any, too_long) {
        (false, _) => None,
        (true, true) => Some(Line::TooLong),
        (true, false) => Some(Line::Text(line)),
    })
}

fn memchr_newline(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == b'\n')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_stop_one_byte_past_the_limit() {
        let mut endless = io::repeat(b'x');
        assert!(matches!(
            read_bounded(&mut endless, 1000),
            Err(ReadError::TooLarge(1000))
        ));
        assert_eq!(read_bounded(&b"abc"[..], 3).unwrap(), b"abc");
        assert!(matches!(
            read_path_bounded(Path::new("/dev/zero"), 10),
            Err(ReadError::NotAFile("a device"))
        ));
    }

    #[test]
    fn token_files_must_be_small_regular_files() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            read_token_file(Path::new("/dev/zero"))
                .unwrap_err()
                .reason(),
            "a device, not a regular file"
        );
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            // Opening a FIFO without a writer would block: it must be refused before that.
            assert_eq!(
                read_token_file(&fifo).unwrap_err().reason(),
                "a FIFO (named pipe), not a regular file"
            );
        }
        let big = dir.path().join("big");
        std::fs::write(&big, vec![b'a'; 5000]).unwrap();
        assert_eq!(
            read_token_file(&big).unwrap_err().reason(),
            "more than 4096 bytes"
        );
        assert_eq!(
            read_token_file(dir.path()).unwrap_err().reason(),
            "a directory, not a regular file"
        );
    }

    #[test]
    fn lines_are_bounded_and_every_byte_is_seen() {
        let text = b"short\nthis one is far too long\n\nlast";
        let mut reader = io::BufReader::with_capacity(4, &text[..]);
        let mut seen = Vec::new();
        let mut lines = Vec::new();
        while let Some(line) = next_line(&mut reader, 10, |b| seen.extend_from_slice(b)).unwrap() {
            lines.push(line);
        }
        assert_eq!(
            lines,
            [
                Line::Text(b"short".to_vec()),
                Line::TooLong,
                Line::Text(Vec::new()),
                Line::Text(b"last".to_vec()),
            ]
        );
        assert_eq!(seen, text);
    }
}
