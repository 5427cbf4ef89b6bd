//! Text is text: bytes read from a file or stdin must be UTF-8 (never "repaired" with U+FFFD),
//! and a text field must not hide control characters other than tab and newline.

use std::fmt;

use serde_json::Value;

use super::error::{InputError, show_value};

/// Where bytes stop being UTF-8: the line (1-based), the byte offset in that line and in the
/// whole input (0-based), and the first offending byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Utf8Problem {
    /// The line, counting from 1.
    pub line: usize,
    /// The offset of the first invalid byte within its line, counting from 0.
    pub line_offset: usize,
    /// The offset of the first invalid byte within the whole input, counting from 0.
    pub offset: usize,
    /// The first invalid byte (or the first byte of a cut-off sequence).
    pub byte: u8,
}

impl fmt::Display for Utf8Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid UTF-8 (byte 0x{:02X}) on line {} at byte offset {}",
            self.byte, self.line, self.line_offset
        )?;
        if self.offset != self.line_offset {
            write!(f, " (offset {} of the input)", self.offset)?;
        }
        Ok(())
    }
}

impl std::error::Error for Utf8Problem {}

/// `bytes` as text, or where they stop being UTF-8.
///
/// ```
/// use happyhorse_core::validate::check_utf8;
///
/// assert_eq!(check_utf8("马\n".as_bytes()), Ok("马\n"));
/// let problem = check_utf8(b"{\"a\":1}\n{\"prompt\":\"caf\xE9\"}").unwrap_err();
/// assert_eq!((problem.line, problem.line_offset, problem.offset), (2, 14, 22));
/// assert_eq!(problem.to_string(), "invalid UTF-8 (byte 0xE9) on line 2 at byte offset 14 (offset 22 of the input)");
/// ```
pub fn check_utf8(bytes: &[u8]) -> Result<&str, Utf8Problem> {
    std::str::from_utf8(bytes).map_err(|error| {
        let offset = error.valid_up_to();
        let before = &bytes[..offset];
        let line_start = memchr::memrchr(b'\n', before).map_or(0, |i| i + 1);
        Utf8Problem {
            line: 1 + memchr::memchr_iter(b'\n', before).count(),
            line_offset: offset - line_start,
            offset,
            byte: bytes[offset],
        }
    })
}

/// The first control character of `text` other than tab and newline (Unicode category Cc:
/// U+0000–U+001F, U+007F–U+009F), with its position in characters, counting from 1.
pub fn find_control_character(text: &str) -> Option<(usize, char)> {
    text.chars()
        .enumerate()
        .find(|(_, c)| c.is_control() && !matches!(c, '\t' | '\n'))
        .map(|(i, c)| (i + 1, c))
}

/// Refuses a text field holding NUL or another control character except tab and newline: the
/// rule `control_character`, naming the character and its position.
///
/// ```
/// use happyhorse_core::validate::check_text_field;
///
/// assert!(check_text_field("prompt", "A horse\ttrots\n").is_ok());
/// let error = check_text_field("prompt", "A horse\0trots").unwrap_err();
/// assert_eq!(error.rule, "control_character");
/// assert_eq!(
///     error.to_string(),
///     "prompt: must not contain control characters other than tab and newline (U+0000 NUL at character 8), got \"A horse\\u0000trots\""
/// );
/// ```
pub fn check_text_field(field: &str, text: &str) -> Result<(), InputError> {
    let Some((position, c)) = find_control_character(text) else {
        return Ok(());
    };
    let name = match c {
        '\0' => " NUL",
        '\r' => " carriage return",
        '\u{1B}' => " ESC",
        '\u{7F}' => " DEL",
        _ => "",
    };
    Err(InputError::new(
        field,
        "control_character",
        &format!(
            "must not contain control characters other than tab and newline (U+{:04X}{name} at character {position})",
            u32::from(c)
        ),
        show_value(&Value::String(text.to_owned())),
    ))
}
