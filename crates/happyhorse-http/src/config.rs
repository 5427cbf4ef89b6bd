//! Where the API is and who we are: the base URL rules and the token, held as a secret.
//!
//! Neither is ever repeated whole in an error: a refused token is described, never quoted, and a
//! base URL is shown without its userinfo or query ([`redact_url`]).

use secrecy::{ExposeSecret, SecretString};

use crate::error::{Error, ErrorKind};

/// RunComfy's Model API.
pub const DEFAULT_BASE_URL: &str = "https://model-api.runcomfy.net";

/// Environment variables read by [`Client::from_env`](crate::Client::from_env), in order of preference.
pub const TOKEN_ENV_VARS: [&str; 2] = ["RUNCOMFY_API_TOKEN", "RUNCOMFY_TOKEN"];

/// Environment variables naming the base URL: an origin, or RunComfy's CLI's variable (which ends in `/v1`).
pub const BASE_URL_ENV_VARS: [&str; 2] = ["RUNCOMFY_BASE_URL", "RUNCOMFY_MODEL_API_BASE"];

/// The API's base: an origin plus an optional path prefix, without the `/v1` that request paths carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BaseUrl {
    /// `scheme://host[:port][/prefix]`, no trailing slash.
    root: String,
    origin: (String, String, Option<u16>),
    loopback: bool,
}

impl BaseUrl {
    /// Accepts `https://model-api.runcomfy.net`, the same with `/` or `/v1` at the end, or a
    /// loopback `http://` URL (an emulator).
    pub(crate) fn parse(value: &str) -> Result<Self, Error> {
        let shown = redact_url(value.trim());
        let bad = |why: &str| Error::new(ErrorKind::Config, format!("base URL {shown:?}: {why}"));
        let url = reqwest::Url::parse(value.trim()).map_err(|e| bad(&e.to_string()))?;
        // Only what is known to be safe is echoed: the scheme is checked before anything else.
        if !matches!(url.scheme(), "https" | "http") {
            return Err(bad("must be an https:// URL"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad("must not contain credentials; use a token instead"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(bad("must not have a query or fragment"));
        }
        let host = url.host_str().ok_or_else(|| bad("has no host"))?.to_owned();
        let loopback = is_loopback(&host);
        let path = url.path().trim_end_matches('/');
        let path = path.strip_suffix("/v1").unwrap_or(path);
        let port = url.port();
        let authority = match port {
            Some(port) => format!("{host}:{port}"),
            None => host.clone(),
        };
        Ok(Self {
            root: format!("{}://{authority}{path}", url.scheme()),
            origin: (url.scheme().to_owned(), host, url.port_or_known_default()),
            loopback,
        })
    }

    /// The full URL of a request path such as `/v1/requests/abc/status`.
    pub(crate) fn join(&self, path: &str) -> String {
        format!("{}{path}", self.root)
    }

    pub(crate) fn is_plain_http(&self) -> bool {
        self.origin.0 == "http"
    }

    pub(crate) fn is_loopback(&self) -> bool {
        self.loopback
    }

    /// Whether `url` is on this API's origin (scheme, host and port), the only place the token may go.
    pub(crate) fn same_origin(&self, url: &reqwest::Url) -> bool {
        let other = (
            url.scheme().to_owned(),
            url.host_str().unwrap_or_default().to_owned(),
            url.port_or_known_default(),
        );
        other == self.origin
    }
}

impl std::fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.root)
    }
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The API token. Its `Debug` is redacted and it has no `Display`; it leaves this type only as
/// the `Authorization` header of a request to the API's own origin.
#[derive(Clone)]
pub(crate) struct Token(SecretString);

impl Token {
    /// Accepts a token that can travel in an HTTP header: visible ASCII, no spaces or control
    /// characters (surrounding whitespace, such as a file's newline, is trimmed). A refusal
    /// describes the token, never repeats it.
    pub(crate) fn new(token: &SecretString) -> Result<Self, Error> {
        let token = token.expose_secret().trim();
        if token.is_empty() {
            return Err(Error::new(ErrorKind::Config, "the API token is empty"));
        }
        if let Some((position, c)) = token
            .chars()
            .enumerate()
            .find(|(_, c)| !c.is_ascii_graphic())
        {
            let what = match c {
                ' ' => "a space",
                '\r' | '\n' => "a line break",
                c if c.is_control() => "a control character",
                _ => "a non-ASCII character",
            };
            return Err(Error::new(
                ErrorKind::Config,
                format!(
                    "the API token cannot be sent in an HTTP header: character {} of {} is {what} \
                     (tokens are visible ASCII; check how it was copied)",
                    position + 1,
                    token.chars().count()
                ),
            ));
        }
        Ok(Self(SecretString::from(token)))
    }

    pub(crate) fn bearer(&self) -> Result<reqwest::header::HeaderValue, Error> {
        let mut value =
            reqwest::header::HeaderValue::try_from(format!("Bearer {}", self.0.expose_secret()))
                .map_err(|_| {
                    Error::new(
                        ErrorKind::Config,
                        "the API token is not a valid header value",
                    )
                })?;
        value.set_sensitive(true);
        Ok(value)
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token([redacted])")
    }
}

/// `url` fit to print: userinfo (`user:password@`) replaced by `***@`, and the query and
/// fragment by `?***` / `#***`. Works on text that does not parse as a URL too, since a
/// malformed base URL is exactly what an error message shows:
/// `https://u:secret@host/v1?token=abc` → `https://***@host/v1?***`.
pub(crate) fn redact_url(url: &str) -> String {
    let (rest, fragment) = match url.split_once('#') {
        Some((rest, _)) => (rest, "#***"),
        None => (url, ""),
    };
    let (rest, query) = match rest.split_once('?') {
        Some((rest, _)) => (rest, "?***"),
        None => (rest, ""),
    };
    let (scheme, after_scheme) = match rest.split_once("://") {
        Some((scheme, after)) => (format!("{scheme}://"), after),
        None => (String::new(), rest),
    };
    let authority_end = after_scheme.find('/').unwrap_or(after_scheme.len());
    let (authority, path) = after_scheme.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((_, host)) => format!("***@{host}"),
        None => authority.to_owned(),
    };
    format!("{scheme}{authority}{path}{query}{fragment}")
}

/// The first non-empty value among `names` read by `var` (the environment, or a test's map),
/// with the name it came from.
pub(crate) fn env_first(
    names: &[&'static str],
    var: impl Fn(&str) -> Option<String>,
) -> Option<(&'static str, String)> {
    names.iter().find_map(|name| {
        var(name)
            .filter(|v| !v.trim().is_empty())
            .map(|v| (*name, v))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_normalise_to_an_origin_without_v1() {
        for (input, root) in [
            (
                "https://model-api.runcomfy.net",
                "https://model-api.runcomfy.net",
            ),
            (
                "https://model-api.runcomfy.net/",
                "https://model-api.runcomfy.net",
            ),
            (
                "https://model-api.runcomfy.net/v1",
                "https://model-api.runcomfy.net",
            ),
            (
                "https://model-api.runcomfy.net/v1/",
                "https://model-api.runcomfy.net",
            ),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
            (
                "https://proxy.example/runcomfy/v1",
                "https://proxy.example/runcomfy",
            ),
        ] {
            let base = BaseUrl::parse(input).unwrap();
            assert_eq!(base.to_string(), root, "{input}");
            assert_eq!(
                base.join("/v1/requests/x/status"),
                format!("{root}/v1/requests/x/status")
            );
        }
    }

    #[test]
    fn bad_base_urls_are_refused_with_the_reason() {
        for (input, why) in [
            ("ftp://x", "must be an https:// URL"),
            ("https://user:pw@x", "must not contain credentials"),
            ("https://x/?a=b", "must not have a query"),
            ("not a url", "relative URL without a base"),
        ] {
            let err = BaseUrl::parse(input).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Config);
            assert!(err.to_string().contains(why), "{input}: {err}");
        }
    }

    #[test]
    fn refused_base_urls_never_repeat_credentials_or_queries() {
        for input in [
            "http://user:s3cret-canary@example.com/",
            "https://s3cret-canary@example.com",
            "https://x/?token=s3cret-canary",
            "https://x/v1#s3cret-canary",
            "http://user:s3cret-canary@exa mple.com/",
            "https://user:s3cret-canary@[::1/",
            "ftp://user:s3cret-canary@host/?token=s3cret-canary",
        ] {
            let err = BaseUrl::parse(input).unwrap_err();
            let shown = format!("{err} {err:?}");
            assert!(!shown.contains("s3cret-canary"), "{input}: {shown}");
            assert!(shown.contains("***"), "{input}: {shown}");
        }
        assert_eq!(
            redact_url("https://u:secret@host:8443/v1?token=abc#frag"),
            "https://***@host:8443/v1?***#***"
        );
        assert_eq!(redact_url("https://host/v1"), "https://host/v1");
    }

    #[test]
    fn origins_compare_scheme_host_and_port() {
        let base = BaseUrl::parse("https://model-api.runcomfy.net/v1").unwrap();
        let same = reqwest::Url::parse("https://model-api.runcomfy.net:443/v1/requests/a").unwrap();
        let storage =
            reqwest::Url::parse("https://playgrounds-storage-public.runcomfy.net/a.mp4").unwrap();
        let downgraded = reqwest::Url::parse("http://model-api.runcomfy.net/v1").unwrap();
        assert!(base.same_origin(&same));
        assert!(!base.same_origin(&storage));
        assert!(!base.same_origin(&downgraded));
        assert!(BaseUrl::parse("http://localhost:9").unwrap().is_loopback());
        assert!(BaseUrl::parse("http://[::1]:9").unwrap().is_loopback());
        assert!(!BaseUrl::parse("http://10.0.0.1").unwrap().is_loopback());
    }

    #[test]
    fn tokens_are_redacted() {
        let token = Token::new(&"sk-canary-123\n".into()).unwrap();
        assert_eq!(format!("{token:?}"), "Token([redacted])");
        assert!(Token::new(&"  ".into()).is_err());
        assert!(format!("{:?}", token.bearer().unwrap()).contains("Sensitive"));
    }

    #[test]
    fn tokens_that_cannot_be_a_header_are_refused_without_being_repeated() {
        for (token, what) in [
            ("canary token", "character 7 of 12 is a space"),
            ("canary\r\nX-Evil: 1", "is a line break"),
            ("canary\u{0}", "is a control character"),
            ("canary-tökén", "character 9 of 12 is a non-ASCII character"),
            ("canary\u{200b}", "is a non-ASCII character"),
        ] {
            let err = Token::new(&token.into()).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Config, "{token:?}");
            let shown = format!("{err} {err:?}");
            assert!(shown.contains(what), "{token:?}: {shown}");
            assert!(!shown.contains("canary"), "{token:?}: {shown}");
        }
    }
}
