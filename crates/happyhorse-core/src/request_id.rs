//! The id of a job on the service, checked so it can be put in a URL path as is.

use std::fmt;

use crate::validate::shorten;

/// A job's id, as returned by submit: 1 to 128 characters from `A–Z a–z 0–9 _ -`
/// (the form RunComfy's official clients accept), so it is always safe in a URL path.
///
/// ```
/// use happyhorse_core::RequestId;
///
/// let id = RequestId::new("req_8f2a-11")?;
/// assert_eq!(id.as_str(), "req_8f2a-11");
/// assert!(RequestId::new("../etc").is_err());
/// # Ok::<(), happyhorse_core::InvalidRequestId>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(String);

impl RequestId {
    /// Checks and wraps an id.
    pub fn new(id: impl Into<String>) -> Result<Self, InvalidRequestId> {
        let id = id.into();
        let valid = (1..=128).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if valid {
            Ok(Self(id))
        } else {
            Err(InvalidRequestId {
                value: shorten(&id),
            })
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for RequestId {
    type Err = InvalidRequestId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl AsRef<str> for RequestId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A text that is not a valid [`RequestId`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid request id {value:?}: expected 1 to 128 characters from A-Z, a-z, 0-9, '_' and '-'"
)]
pub struct InvalidRequestId {
    /// The rejected text, shortened when long.
    pub value: String,
}
