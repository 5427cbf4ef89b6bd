//! What the user sees: human text (stderr for progress and notes, stdout for results) or `--json`
//! (one JSON object per line on stdout). Colour only when stderr is a terminal and `NO_COLOR`
//! is unset; progress only on a terminal.
//!
//! Every line of human text goes through [`terminal_safe`] on its way out, so nothing from
//! outside — the service's statuses, messages, details and URLs, or the user's own prompts, file
//! names and jobs-file lines echoed back — can move the cursor, retitle the window, hide text or
//! reorder it. JSON output stays exact: serde escapes control characters itself.

use std::borrow::Cow;
use std::io::{IsTerminal, Write};

use happyhorse_core::validate::InputError;
use serde_json::{Value, json};

use crate::cli::GlobalArgs;
use crate::exit::{self, Failure};

/// How output is written, decided once from the global flags and the environment.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Output {
    /// `--json`: machine-readable stdout, nothing but errors on stderr.
    pub(crate) json: bool,
    quiet: bool,
    /// Colour on stderr.
    color: bool,
    /// Live progress (spinner, download bar) on stderr.
    progress: bool,
}

/// A colour for [`Output::paint`].
#[derive(Debug, Clone, Copy)]
pub(crate) enum Paint {
    /// Errors.
    Red,
    /// Success.
    Green,
    /// Something the user must act on.
    Yellow,
    /// Identifiers worth copying (request ids, paths).
    Bold,
}

impl Output {
    /// From the global flags; `NO_COLOR` (any non-empty value) turns colour off.
    pub(crate) fn new(global: &GlobalArgs) -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let terminal = std::io::stderr().is_terminal();
        Self {
            json: global.json,
            quiet: global.quiet,
            color: terminal && !no_color,
            progress: terminal && !global.json && !global.quiet,
        }
    }

    /// Whether live progress may be drawn (stderr is a terminal, no `--json`, no `-q`).
    pub(crate) fn progress(&self) -> bool {
        self.progress
    }

    /// `text` in `paint`, or as is without colour.
    pub(crate) fn paint(&self, text: &str, paint: Paint) -> String {
        if !self.color {
            return text.to_owned();
        }
        let code = match paint {
            Paint::Red => "31",
            Paint::Green => "32",
            Paint::Yellow => "33",
            Paint::Bold => "1",
        };
        format!("\x1b[{code}m{text}\x1b[0m")
    }

    /// `text` made safe for this output's terminal: [`terminal_safe`], keeping only the colour
    /// codes [`paint`](Self::paint) itself writes, and only when colour is on.
    pub(crate) fn safe<'a>(&self, text: &'a str) -> Cow<'a, str> {
        terminal_safe(text, self.color)
    }

    /// A note for people on stderr (not with `--json` or `-q`).
    pub(crate) fn note(&self, text: &str) {
        if !self.json && !self.quiet {
            // Never a panic: after SIGHUP the terminal may be gone.
            crate::interrupt::say(&self.safe(text));
        }
    }

    /// A line on stderr that is always shown (even with `--json` or `-q`): an error, a warning,
    /// what a second Ctrl-C leaves behind.
    pub(crate) fn always(&self, text: &str) {
        crate::interrupt::say(&self.safe(text));
    }

    /// A result line for people on stdout (not with `--json`).
    pub(crate) fn result(&self, text: &str) -> std::io::Result<()> {
        if self.json {
            return Ok(());
        }
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{}", self.safe(text))?;
        stdout.flush()
    }

    /// One JSON object as a line on stdout (only with `--json`).
    pub(crate) fn json_line(&self, value: &Value) -> std::io::Result<()> {
        if !self.json {
            return Ok(());
        }
        let mut stdout = std::io::stdout().lock();
        serde_json::to_writer(&mut stdout, value)?;
        writeln!(stdout)?;
        stdout.flush()
    }

    /// Reports the error that ends the command: on stderr for people, and with `--json` also as
    /// an `error` object on stdout. Returns the exit code.
    pub(crate) fn report_error(&self, error: &anyhow::Error) -> u8 {
        let code = exit::code_of(error);
        let failure = error.chain().find_map(|c| c.downcast_ref::<Failure>());
        if failure.is_some_and(|f| f.reported) {
            return code;
        }
        self.always(&format!("{} {error:#}", self.paint("error:", Paint::Red)));
        if self.json {
            let _ = self.json_line(&error_object(error, code, failure));
        }
        code
    }
}

/// The `--json` object of a failed command (see docs/cli.md, "error").
pub(crate) fn error_object(error: &anyhow::Error, code: u8, failure: Option<&Failure>) -> Value {
    let mut object = json!({
        "event": "error",
        "kind": exit::kind_name(code),
        "exit_code": code,
        "message": format!("{error:#}"),
    });
    if let Some(failure) = failure {
        if !failure.input_errors.is_empty() {
            object["errors"] = input_errors_json(&failure.input_errors);
        }
        if let Some(id) = &failure.request_id {
            object["request_id"] = Value::String(id.clone());
        }
        if let Some(extra) = &failure.extra {
            if let Some(detail) = &extra.detail {
                object["detail"] = detail.clone();
            }
            if let Some(resume) = &extra.resume {
                object["resume"] = Value::String(resume.clone());
            }
        }
    }
    object
}

/// The colour codes [`Output::paint`] writes: the only escape sequences ever let through.
const OWN_SGR: [&str; 5] = ["\x1b[31m", "\x1b[32m", "\x1b[33m", "\x1b[1m", "\x1b[0m"];

/// `text` made safe for a terminal: every control character (C0 but line feed and tab, DEL, C1),
/// and so every ESC/CSI/OSC sequence, and every bidirectional-text control (which can reorder what
/// is shown) is written visibly as an escape (`\x1b`, `\u{202e}`) instead of acting. A lone
/// carriage return or a line separator cannot overwrite or fake a line either. With
/// `keep_own_colours`, the exact colour codes this program writes are kept.
///
/// The one function every human line passes through (see [`Output::safe`]).
pub(crate) fn terminal_safe(text: &str, keep_own_colours: bool) -> Cow<'_, str> {
    let needs = |c: char| c != '\n' && c != '\t' && (c.is_control() || is_bidi_or_separator(c));
    if !text.chars().any(needs) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c == '\x1b'
            && keep_own_colours
            && let Some(code) = OWN_SGR.iter().find(|code| rest.starts_with(**code))
        {
            out.push_str(code);
            rest = &rest[code.len()..];
            continue;
        }
        if needs(c) {
            let code = u32::from(c);
            if code < 0x100 {
                out.push_str(&format!("\\x{code:02x}"));
            } else {
                out.push_str(&format!("\\u{{{code:04x}}}"));
            }
        } else {
            out.push(c);
        }
        rest = &rest[c.len_utf8()..];
    }
    Cow::Owned(out)
}

/// Bidirectional-text controls (Trojan Source) and the Unicode line/paragraph separators.
fn is_bidi_or_separator(c: char) -> bool {
    matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}')
}

/// Input errors as JSON: `[{"field","rule","value","message"}]`.
pub(crate) fn input_errors_json(errors: &[InputError]) -> Value {
    errors
        .iter()
        .map(|e| json!({"field": e.field, "rule": e.rule, "value": e.value, "message": e.message}))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::terminal_safe;

    #[test]
    fn escapes_and_controls_are_shown_not_obeyed() {
        let hostile = "ok\x1b[2J\x1b]0;pwned\x07\rfake\u{9b}31m\u{202e}txt.exe\u{2028}x\x7f";
        let safe = terminal_safe(hostile, false);
        assert_eq!(
            safe,
            "ok\\x1b[2J\\x1b]0;pwned\\x07\\x0dfake\\x9b31m\\u{202e}txt.exe\\u{2028}x\\x7f"
        );
        assert!(!safe.chars().any(|c| c.is_control()));
        assert_eq!(
            terminal_safe("two\nlines\tand a tab", false),
            "two\nlines\tand a tab"
        );
    }

    #[test]
    fn only_our_own_colours_survive_and_only_when_asked() {
        let painted = "\x1b[31merror:\x1b[0m \x1b[8mhidden";
        assert_eq!(
            terminal_safe(painted, true),
            "\x1b[31merror:\x1b[0m \\x1b[8mhidden"
        );
        assert_eq!(
            terminal_safe(painted, false),
            "\\x1b[31merror:\\x1b[0m \\x1b[8mhidden"
        );
    }
}
