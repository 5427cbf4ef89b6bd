//! The errors validation reports: one [`InputError`] per broken rule, gathered in [`InputErrors`].

use std::fmt;

/// How many characters of an offending value a message repeats before shortening it.
const MAX_SHOWN: usize = 60;

/// One broken rule: which field, which rule, which value, and a sentence saying all three.
///
/// ```
/// use happyhorse_core::validate::validate_input;
/// use happyhorse_types::image_to_video;
///
/// let input = serde_json::json!({"image_url": "https://example.com/a.png", "prompt": "hi", "duration": 16});
/// let errors = validate_input(&image_to_video::SPEC, &input).unwrap_err();
/// let error = &errors.errors()[0];
/// assert_eq!(error.field, "duration");
/// assert_eq!(error.rule, "enum");
/// assert_eq!(error.value, "16");
/// assert_eq!(error.to_string(), "duration: must be an integer from 3 to 15, got 16");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct InputError {
    /// The field, as a JSON pointer without the leading `/` (`"duration"`, `"images/0"`);
    /// empty for the input as a whole.
    pub field: String,
    /// The rule's name: a JSON Schema keyword (`"enum"`, `"maxLength"`, `"required"`, …) or one of
    /// this crate's rules (`"unknown_field"`, `"control_character"`, `"prompt_length"`,
    /// `"image_format"`, `"image_truncated"`, `"image_corrupt"`, `"image_no_data"`,
    /// `"image_data_size"`, `"image_min_side"`, `"image_aspect"`, `"image_max_bytes"`,
    /// `"image_ref"`, `"data_uri"`, `"integer_literal"`). Callers add their own for what they
    /// read (the CLI: `"utf8"`, `"input_file"`, `"stdin"`, …).
    pub rule: String,
    /// The offending value, shortened when long (never a whole prompt or data URI);
    /// `"(missing)"` for a required field that is absent.
    pub value: String,
    /// A sentence for people: `"<field>: must be <requirement>, got <value>"`.
    pub message: String,
}

impl InputError {
    /// An error for `field` breaking `rule`: `requirement` completes "must be …" / "must …"
    /// (e.g. `"must be at least 0"`), `value` is shown as given (shorten it with [`shorten`] first).
    pub fn new(
        field: impl Into<String>,
        rule: impl Into<String>,
        requirement: &str,
        value: impl Into<String>,
    ) -> Self {
        let field = field.into();
        let value = value.into();
        let subject = if field.is_empty() { "input" } else { &field };
        let message = format!("{subject}: {requirement}, got {value}");
        Self {
            field,
            rule: rule.into(),
            value,
            message,
        }
    }

    /// The same error reported for another field (used when a helper checked a value on behalf
    /// of a field it did not know).
    pub fn for_field(self, field: impl Into<String>) -> Self {
        let field = field.into();
        let old_subject = if self.field.is_empty() {
            "input"
        } else {
            &self.field
        };
        let rest = self
            .message
            .strip_prefix(old_subject)
            .unwrap_or(&self.message)
            .to_owned();
        Self {
            message: format!("{field}{rest}"),
            field,
            ..self
        }
    }
}

impl InputError {
    /// The same error showing another value (e.g. with the file it came from appended).
    ///
    /// ```
    /// use happyhorse_core::validate::InputError;
    ///
    /// let error = InputError::new("image_url", "image_max_bytes", "must be small", "12 bytes");
    /// let error = error.with_value("12 bytes (big.png)");
    /// assert_eq!(error.to_string(), "image_url: must be small, got 12 bytes (big.png)");
    /// ```
    pub fn with_value(self, value: impl Into<String>) -> Self {
        let value = value.into();
        let suffix = format!(", got {}", self.value);
        let head = self.message.strip_suffix(&suffix).unwrap_or(&self.message);
        Self {
            message: format!("{head}, got {value}"),
            value,
            ..self
        }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for InputError {}

/// Every rule an input breaks, in a stable order (schema errors first, then this crate's rules).
///
/// Display prints one error per line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputErrors(Vec<InputError>);

impl InputErrors {
    /// Wraps a list of errors.
    pub fn new(errors: Vec<InputError>) -> Self {
        Self(errors)
    }

    /// The errors, in report order.
    pub fn errors(&self) -> &[InputError] {
        &self.0
    }

    /// The errors, owned.
    pub fn into_vec(self) -> Vec<InputError> {
        self.0
    }

    /// How many errors there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none (never true for an `Err` from [`validate_input`](super::validate_input)).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The errors about one field.
    pub fn for_field<'a>(&'a self, field: &'a str) -> impl Iterator<Item = &'a InputError> + 'a {
        self.0.iter().filter(move |error| error.field == field)
    }
}

impl fmt::Display for InputErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for InputErrors {}

impl IntoIterator for InputErrors {
    type Item = InputError;
    type IntoIter = std::vec::IntoIter<InputError>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a InputErrors {
    type Item = &'a InputError;
    type IntoIter = std::slice::Iter<'a, InputError>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl From<InputError> for InputErrors {
    fn from(error: InputError) -> Self {
        Self(vec![error])
    }
}

/// `text` cut to its first 60 characters, followed by `… (N characters)` when it was longer.
///
/// ```
/// let long = "a".repeat(5000);
/// assert_eq!(happyhorse_core::validate::shorten(&long), format!("{}… (5000 characters)", "a".repeat(60)));
/// assert_eq!(happyhorse_core::validate::shorten("short"), "short");
/// ```
pub fn shorten(text: &str) -> String {
    match text.char_indices().nth(MAX_SHOWN) {
        None => text.to_owned(),
        Some((cut, _)) => format!("{}… ({} characters)", &text[..cut], text.chars().count()),
    }
}

/// A JSON value as it would be written, shortened: strings quoted, long ones cut.
pub(crate) fn show_value(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => match text.char_indices().nth(MAX_SHOWN) {
            None => format!("{value}"),
            Some((cut, _)) => {
                format!(
                    "\"{}…\" ({} characters)",
                    &text[..cut],
                    text.chars().count()
                )
            }
        },
        other => shorten(&other.to_string()),
    }
}
