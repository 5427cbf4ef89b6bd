//! The error a typed value reports when it is outside its schema's rule.

use std::fmt;

/// A value that breaks its field's rule: names the field, the rule and the value.
///
/// ```
/// use happyhorse_types::image_to_video::Seed;
///
/// let err = Seed::new(-1).unwrap_err();
/// assert_eq!(err.field(), "seed");
/// assert_eq!(err.to_string(), "seed: must be an integer from 0 to 2147483647, got -1");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueError {
    field: &'static str,
    rule: &'static str,
    value: String,
}

/// How many characters of an offending value an error repeats.
const MAX_SHOWN: usize = 60;

impl ValueError {
    /// A value of `field` that is not `rule` (a phrase such as "an integer from 3 to 15").
    pub fn new(field: &'static str, rule: &'static str, value: impl fmt::Display) -> Self {
        Self {
            field,
            rule,
            value: shorten(&value.to_string()),
        }
    }

    /// The field's name on the wire.
    pub fn field(&self) -> &'static str {
        self.field
    }

    /// The rule the value breaks.
    pub fn rule(&self) -> &'static str {
        self.rule
    }

    /// The offending value, shortened when long.
    pub fn value(&self) -> &str {
        &self.value
    }
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: must be {}, got {}",
            self.field, self.rule, self.value
        )
    }
}

impl std::error::Error for ValueError {}

fn shorten(value: &str) -> String {
    match value.char_indices().nth(MAX_SHOWN) {
        None => value.to_owned(),
        Some((cut, _)) => format!("{}… ({} characters)", &value[..cut], value.chars().count()),
    }
}
