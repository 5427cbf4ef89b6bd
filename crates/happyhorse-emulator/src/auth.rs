//! Bearer-token authentication and job ownership.
//!
//! Tokens are kept only to compare them; owners are keyed by a keyed hash so no job, log line or
//! stats entry ever holds a token.

use std::collections::HashSet;
use std::fmt;
use std::hash::{BuildHasher, RandomState};
use std::sync::Mutex;

use http::HeaderMap;
use http::header::AUTHORIZATION;

/// An API token the emulator accepts. Its `Debug` output is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiToken(String);

impl ApiToken {
    /// Wraps a token.
    pub fn new(token: String) -> Self {
        Self(token)
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiToken(<redacted>)")
    }
}

impl std::str::FromStr for ApiToken {
    type Err = String;

    fn from_str(token: &str) -> Result<Self, String> {
        if token.trim().is_empty() {
            return Err("a token must not be empty".to_owned());
        }
        Ok(Self(token.to_owned()))
    }
}

/// Why a request was not authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AuthFailure {
    Missing,
    Unknown,
}

/// Checks `Authorization: Bearer …` and maps tokens to owner keys.
#[derive(Debug)]
pub(crate) struct Auth {
    hasher: RandomState,
    /// `None`: any non-empty token is accepted.
    allowed: Option<HashSet<u64>>,
    /// Owner keys of tokens that submitted a job (to recognise them on the storage host).
    submitters: Mutex<HashSet<u64>>,
}

impl Auth {
    pub(crate) fn new(tokens: &[ApiToken]) -> Self {
        let hasher = RandomState::new();
        let allowed = (!tokens.is_empty()).then(|| {
            tokens
                .iter()
                .map(|t| hasher.hash_one(t.0.as_str()))
                .collect()
        });
        Self {
            hasher,
            allowed,
            submitters: Mutex::new(HashSet::new()),
        }
    }

    /// The owner key of the request's token.
    pub(crate) fn check(&self, headers: &HeaderMap) -> Result<u64, AuthFailure> {
        let token = headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(bearer_token)
            .ok_or(AuthFailure::Missing)?;
        let owner = self.hasher.hash_one(token);
        match &self.allowed {
            Some(allowed) if !allowed.contains(&owner) => Err(AuthFailure::Unknown),
            _ => Ok(owner),
        }
    }

    pub(crate) fn remember_submitter(&self, owner: u64) {
        self.submitters.lock().unwrap().insert(owner);
    }

    /// Whether an `Authorization` value seen elsewhere carries an API token.
    pub(crate) fn is_api_credential(&self, header_value: &str) -> bool {
        let credential = match header_value.split_once(' ') {
            Some((_, rest)) => rest.trim(),
            None => header_value.trim(),
        };
        let key = self.hasher.hash_one(credential);
        self.allowed.as_ref().is_some_and(|a| a.contains(&key))
            || self.submitters.lock().unwrap().contains(&key)
    }
}

/// The token of a `Bearer <token>` header value (scheme case-insensitive), if non-empty.
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn open_mode_accepts_any_bearer_token_and_separates_owners() {
        let auth = Auth::new(&[]);
        let a = auth.check(&headers("Bearer a")).unwrap();
        let b = auth.check(&headers("bearer b")).unwrap();
        assert_ne!(a, b);
        assert_eq!(auth.check(&headers("Bearer a")), Ok(a));
        assert_eq!(auth.check(&HeaderMap::new()), Err(AuthFailure::Missing));
        assert_eq!(auth.check(&headers("Bearer ")), Err(AuthFailure::Missing));
        assert_eq!(auth.check(&headers("Basic a")), Err(AuthFailure::Missing));
    }

    #[test]
    fn restricted_mode_rejects_unknown_tokens() {
        let auth = Auth::new(&["good".parse().unwrap()]);
        assert!(auth.check(&headers("Bearer good")).is_ok());
        assert_eq!(
            auth.check(&headers("Bearer bad")),
            Err(AuthFailure::Unknown)
        );
        assert!(auth.is_api_credential("Bearer good"));
        assert!(!auth.is_api_credential("Bearer bad"));
    }

    #[test]
    fn submitters_are_recognised_elsewhere() {
        let auth = Auth::new(&[]);
        let owner = auth.check(&headers("Bearer secret")).unwrap();
        assert!(!auth.is_api_credential("Bearer secret"));
        auth.remember_submitter(owner);
        assert!(auth.is_api_credential("Bearer secret"));
    }

    #[test]
    fn debug_never_shows_the_token() {
        let token: ApiToken = "super-secret".parse().unwrap();
        assert!(!format!("{token:?}").contains("super-secret"));
    }
}
