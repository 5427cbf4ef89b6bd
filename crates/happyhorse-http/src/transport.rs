//! Sends one of core's requests and hands core's own `Response` back, and nothing more: no
//! retries, no reading, no decisions — those are core's. It adds what only a transport knows: the
//! token (to the API's origin only), a cap on the body it reads, and whether a failed request may
//! have reached the server.

use std::time::Duration;

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, DATE, RETRY_AFTER};

use happyhorse_core::{Method, Response, Transmit};

use crate::config::{BaseUrl, Token};
use crate::error::{Error, ErrorKind};

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
        request_timeout: Duration,
        connect_timeout: Duration,
        max_body_bytes: usize,
    ) -> Result<Self, Error> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(request_timeout)
            .connect_timeout(connect_timeout)
            .user_agent(concat!("happyhorse/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                Error::new(
                    ErrorKind::Config,
                    format!("building the HTTP client: {}", e.without_url()),
                )
            })?;
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
