//! Sends one of core's requests and hands core's own `Response` back, and nothing more: no
//! retries, no reading, no decisions — those are core's. It adds what only a transport knows: the
//! token (to the API's origin only), a cap on the body it reads, and whether a failed request may
//! have reached the server.

use std::time::Duration;

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, DATE, RETRY_AFTER};

use happyhorse_core::{Method, Response, Transmit};

use crate::config::{BaseUrl, Token};
use crate::error::{Error, ErrorKind};

/// The user agent of every client unless the caller's `reqwest-hook` sets another.
const USER_AGENT: &str = concat!("happyhorse/", env!("CARGO_PKG_VERSION"));

/// How long a request may take.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timeouts {
    /// One API request, whole; for a download, the longest silence between two reads.
    pub(crate) request: Duration,
    /// Opening a connection.
    pub(crate) connect: Duration,
}

fn build_error(what: &str, error: reqwest::Error) -> Error {
    Error::new(
        ErrorKind::Config,
        format!("building {what}: {}", error.without_url()),
    )
}

/// The caller's adjustments to both reqwest clients (the `reqwest-hook` feature's
/// [`ClientBuilder::configure_reqwest`](crate::ClientBuilder::configure_reqwest)); nothing otherwise.
#[derive(Clone, Default)]
pub(crate) struct Customize {
    #[cfg(feature = "reqwest-hook")]
    pub(crate) hook: Option<ReqwestHook>,
}

/// What [`Customize`] holds: a function from reqwest's builder to reqwest's builder.
#[cfg(feature = "reqwest-hook")]
pub(crate) type ReqwestHook =
    std::sync::Arc<dyn Fn(reqwest::ClientBuilder) -> reqwest::ClientBuilder + Send + Sync>;

impl Customize {
    #[cfg_attr(not(feature = "reqwest-hook"), allow(clippy::unused_self))]
    pub(crate) fn apply(&self, builder: reqwest::ClientBuilder) -> reqwest::ClientBuilder {
        #[cfg(feature = "reqwest-hook")]
        if let Some(hook) = &self.hook {
            return hook(builder);
        }
        builder
    }
}

impl std::fmt::Debug for Customize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        #[cfg(feature = "reqwest-hook")]
        if self.hook.is_some() {
            return f.write_str("Customize(reqwest hook)");
        }
        f.write_str("Customize(none)")
    }
}

/// Why a request got no answer, and whether it may have reached the server.
#[derive(Debug)]
pub(crate) struct SendFailure {
    /// `false` only when the connection provably never carried the request (it could not be opened).
    pub(crate) maybe_sent: bool,
    pub(crate) error: Error,
}

/// The API side of the client: one reqwest client that never follows redirects (so the token
/// can never be carried to another host by one) and never sends anything but to `base`.
#[derive(Debug, Clone)]
pub(crate) struct ApiTransport {
    pub(crate) http: reqwest::Client,
    pub(crate) base: BaseUrl,
    pub(crate) token: Option<Token>,
    pub(crate) max_body_bytes: usize,
}

impl ApiTransport {
    pub(crate) fn new(
        base: BaseUrl,
        token: Option<Token>,
        timeouts: Timeouts,
        max_body_bytes: usize,
        customize: &Customize,
    ) -> Result<Self, Error> {
        let builder = reqwest::Client::builder()
            .timeout(timeouts.request)
            .connect_timeout(timeouts.connect)
            .user_agent(USER_AGENT);
        // After the caller's adjustments, so that none of them can make the client follow a
        // redirect (which could carry the token to another host).
        let http = customize
            .apply(builder)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| build_error("the HTTP client", e))?;
        Ok(Self {
            http,
            base,
            token,
            max_body_bytes,
        })
    }

    /// Sends one of core's requests and hands core's own [`Response`] back, for core to read:
    /// the only way anything reaches the API, for the job driver and the one-shot calls alike.
    pub(crate) async fn execute(&self, transmit: Transmit) -> Result<Response, SendFailure> {
        tracing::trace!(request = %transmit.kind, path = %transmit.path, "sending");
        let url = self.base.join(&transmit.path);
        let not_sent = |error: Error| SendFailure {
            maybe_sent: false,
            error,
        };
        let parsed = reqwest::Url::parse(&url)
            .map_err(|e| not_sent(Error::new(ErrorKind::Config, format!("request URL: {e}"))))?;
        if !self.base.same_origin(&parsed) {
            return Err(not_sent(Error::new(
                ErrorKind::Config,
                "refusing to send a request outside the API's origin",
            )));
        }
        let mut request = match transmit.method {
            Method::Get => self.http.get(parsed),
            Method::Post => self.http.post(parsed),
        };
        if let Some(token) = &self.token {
            request = request.header(AUTHORIZATION, token.bearer().map_err(not_sent)?);
        }
        if let Some(body) = transmit.body {
            request = request.header(CONTENT_TYPE, "application/json").body(body);
        }
        let mut response = request.send().await.map_err(classify)?;
        let status = response.status().as_u16();
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
                .map(str::to_owned)
        };
        let (retry_after, date) = (header(RETRY_AFTER), header(DATE));
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() + chunk.len() > self.max_body_bytes {
                        // The request reached the server: an oversized answer is the server's doing.
                        return Err(SendFailure {
                            maybe_sent: true,
                            error: Error::new(
                                ErrorKind::Protocol,
                                format!(
                                    "the service's answer is larger than the {}-byte limit",
                                    self.max_body_bytes
                                ),
                            )
                            .with_status(status),
                        });
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => return Err(classify(e)),
            }
        }
        let mut answer = Response::new(status, body);
        if let Some(retry_after) = retry_after {
            answer = answer.with_retry_after(retry_after);
        }
        if let Some(date) = date {
            answer = answer.with_date(date);
        }
        Ok(answer)
    }
}

/// Only a failure to connect proves the request never left; anything later (a timeout after the
/// connection opened, a reset, a truncated answer) may have reached the server.
fn classify(err: reqwest::Error) -> SendFailure {
    SendFailure {
        maybe_sent: !err.is_connect(),
        error: Error::transport("talking to the API", err),
    }
}
