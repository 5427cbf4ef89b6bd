//! What the user sees: human text (stderr for progress and notes, stdout for results) or `--json`
//! (one JSON object per line on stdout). Colour only when stderr is a terminal and `NO_COLOR`
//! is unset; progress only on a terminal.

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

    /// A note for people on stderr (not with `--json` or `-q`).
    pub(crate) fn note(&self, text: &str) {
        if !self.json && !self.quiet {
            eprintln!("{text}");
        }
    }

    /// A result line for people on stdout (not with `--json`).
    pub(crate) fn result(&self, text: &str) -> std::io::Result<()> {
        if self.json {
            return Ok(());
        }
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{text}")?;
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
        eprintln!("{} {error:#}", self.paint("error:", Paint::Red));
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
    }
    object
}

/// Input errors as JSON: `[{"field","rule","value","message"}]`.
pub(crate) fn input_errors_json(errors: &[InputError]) -> Value {
    errors
        .iter()
        .map(|e| json!({"field": e.field, "rule": e.rule, "value": e.value, "message": e.message}))
        .collect()
}
