//! The clients that talk to storage hosts (output files, and remote input images checked before
//! a submit). Neither carries the API token, cookies (reqwest is built without a cookie store)
//! or a `Referer`: a signed output URL is a credential of its own, and a redirect must not carry
//! it to another host.

use std::time::Duration;

use reqwest::redirect::{Attempt, Policy};

use crate::error::{Error, ErrorKind};

const USER_AGENT: &str = concat!("happyhorse/", env!("CARGO_PKG_VERSION"));

fn base(connect_timeout: Duration) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .connect_timeout(connect_timeout)
        .referer(false)
        .user_agent(USER_AGENT)
        // A large file over HTTP/2: let the flow-control window grow with the link.
        .http2_adaptive_window(true)
}

/// The client for downloads: it never follows a redirect on its own (downloads follow them by
/// hand, to count them across retries) and has no read timeout (the stall guard replaces it).
pub(super) fn download_client(connect_timeout: Duration) -> Result<reqwest::Client, Error> {
    build(base(connect_timeout).redirect(Policy::none()))
}

/// The client for other storage fetches (remote input images checked before a submit):
/// at most [`MAX_REDIRECTS`](super::MAX_REDIRECTS) redirects per request, never from `https` to
/// plain `http`.
pub(crate) fn fetch_client(
    connect_timeout: Duration,
    read_timeout: Duration,
) -> Result<reqwest::Client, Error> {
    build(
        base(connect_timeout)
            .read_timeout(read_timeout)
            .redirect(Policy::custom(follow)),
    )
}

fn follow(attempt: Attempt<'_>) -> reqwest::redirect::Action {
    if attempt.previous().len() > super::MAX_REDIRECTS as usize {
        attempt.error("too many redirects")
    } else if let Some(why) = refused_redirect(attempt.previous().last(), attempt.url()) {
        attempt.error(why)
    } else {
        attempt.follow()
    }
}

/// Why a redirect from `from` to `to` is not followed: a downgrade from `https` to plain `http`
/// (the file could be altered in transit), or a scheme other than those two.
pub(super) fn refused_redirect(
    from: Option<&reqwest::Url>,
    to: &reqwest::Url,
) -> Option<&'static str> {
    match to.scheme() {
        "https" => None,
        "http" if from.is_some_and(|from| from.scheme() == "https") => {
            Some("a redirect from https to plain http is not followed")
        }
        "http" => None,
        _ => Some("a redirect to a scheme other than http or https is not followed"),
    }
}

fn build(builder: reqwest::ClientBuilder) -> Result<reqwest::Client, Error> {
    builder.build().map_err(|e| {
        Error::new(
            ErrorKind::Config,
            format!("building the storage client: {}", e.without_url()),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_never_downgrade_to_plain_http_or_leave_http() {
        let url = |u: &str| reqwest::Url::parse(u).unwrap();
        let https = url("https://storage.example/a.mp4");
        let http = url("http://127.0.0.1:9/a.mp4");
        assert_eq!(
            refused_redirect(Some(&https), &url("https://cdn.example/a")),
            None
        );
        assert_eq!(
            refused_redirect(Some(&http), &url("http://127.0.0.1:8/a")),
            None
        );
        assert!(refused_redirect(Some(&https), &url("http://cdn.example/a")).is_some());
        assert!(refused_redirect(Some(&http), &url("file:///etc/passwd")).is_some());
        assert!(refused_redirect(Some(&https), &url("ftp://cdn.example/a")).is_some());
    }
}
