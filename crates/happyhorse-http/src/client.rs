//! [`Client`] and its builder: configuration, and the requests that are not part of a job's life.

use std::sync::Arc;
use std::time::Duration;

use happyhorse_core::validate::ValidateOptions;
use happyhorse_core::vocabulary::{Catalogue, ModelEntry};
use happyhorse_core::{PollPolicy, RetryPolicy, oneshot};
use secrecy::SecretString;

use crate::clock::Clock;
use crate::config::{
    BASE_URL_ENV_VARS, BaseUrl, DEFAULT_BASE_URL, TOKEN_ENV_VARS, Token, env_first, redact_url,
};
use crate::download::{DownloadOptions, DownloadReport, Downloader, storage};
use crate::driver;
use crate::error::{Error, ErrorKind};
use crate::outcome::core_error;
use crate::transport::ApiTransport;

/// The default cap on a JSON answer from the API: far above any real one.
pub const DEFAULT_MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// The async client for RunComfy's Model API.
///
/// Cheap to clone (an `Arc` inside); one client serves any number of concurrent jobs.
///
/// ```no_run
/// use happyhorse_http::Client;
/// use happyhorse_types::image_to_video::{ImageToVideo, ImageToVideoInput};
///
/// # async fn demo() -> Result<(), happyhorse_http::Error> {
/// let client = Client::from_env()?;
/// let input = ImageToVideoInput::new("https://example.com/horse.png", "The horse trots towards the camera");
/// let result = client.run::<ImageToVideo>(&input).await?;
/// if let Some(video) = result.video_url() {
///     client.download(video, "horse.mp4".as_ref(), Default::default()).await?;
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) api: ApiTransport,
    /// For image preflights: never carries the token.
    pub(crate) storage: reqwest::Client,
    /// For output files: never carries the token.
    pub(crate) downloads: Downloader,
    pub(crate) poll_policy: PollPolicy,
    pub(crate) retry_policy: RetryPolicy,
    pub(crate) preflight_images: bool,
    /// Whether a job's `/result` is asked for its cost (`?include_cost=true`).
    pub(crate) include_cost: bool,
    /// The catalogue prices fetched for estimates.
    pub(crate) prices: crate::price::PriceCache,
    /// How inputs are validated before a submit.
    pub(crate) validate: ValidateOptions,
    /// Where jobs are recorded, when the user asked for it.
    #[cfg(feature = "ledger")]
    pub(crate) books: Option<crate::ledger::Books>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.api.base.to_string())
            .field("token", &self.inner.api.token)
            .finish_non_exhaustive()
    }
}

/// Configures a [`Client`].
///
/// ```
/// use std::time::Duration;
/// use happyhorse_http::Client;
///
/// let client = Client::builder()
///     .token("my-token")
///     .base_url("https://model-api.runcomfy.net")
///     .request_timeout(Duration::from_secs(20))
///     .build()
///     .unwrap();
/// assert!(!format!("{client:?}").contains("my-token"));
///
/// // Plain HTTP is refused for a real host while a token is configured:
/// let err = Client::builder().token("t").base_url("http://model-api.runcomfy.net").build().unwrap_err();
/// assert_eq!(err.kind(), happyhorse_http::ErrorKind::Config);
///
/// // The builder holds the token as a secret from the first call:
/// let builder = Client::builder().token("my-token");
/// assert!(!format!("{builder:?}").contains("my-token"));
/// ```
#[derive(Clone)]
#[must_use]
pub struct ClientBuilder {
    token: Option<SecretString>,
    base_url: Option<String>,
    poll_policy: PollPolicy,
    retry_policy: RetryPolicy,
    request_timeout: Duration,
    connect_timeout: Duration,
    max_body_bytes: usize,
    preflight_images: bool,
    include_cost: bool,
    validate: ValidateOptions,
    #[cfg(feature = "ledger")]
    ledger: Option<happyhorse_ledger::Ledger>,
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("token", &self.token.as_ref().map(|_| "[redacted]"))
            .field("base_url", &self.base_url.as_deref().map(redact_url))
            .field("poll_policy", &self.poll_policy)
            .field("retry_policy", &self.retry_policy)
            .field("request_timeout", &self.request_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("preflight_images", &self.preflight_images)
            .field("include_cost", &self.include_cost)
            .field("validate", &self.validate)
            .finish()
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            token: None,
            base_url: None,
            poll_policy: PollPolicy::default(),
            retry_policy: RetryPolicy::default(),
            request_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            preflight_images: false,
            include_cost: false,
            validate: ValidateOptions::default(),
            #[cfg(feature = "ledger")]
            ledger: None,
        }
    }
}

impl ClientBuilder {
    /// The API token, held as a [`SecretString`] from this call on (redacted from `Debug`,
    /// never logged). A `&str` or `String` converts; [`build`](Self::build) refuses one that
    /// cannot be sent as an HTTP header value, without repeating it.
    pub fn token(mut self, token: impl Into<SecretString>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// The API token, if any (for callers that read it from somewhere optional).
    pub fn token_opt(mut self, token: Option<impl Into<SecretString>>) -> Self {
        self.token = token.map(Into::into);
        self
    }

    /// The API's base URL: an origin such as `https://model-api.runcomfy.net`, optionally ending
    /// in `/v1` (RunComfy's CLI's convention). Defaults to [`DEFAULT_BASE_URL`].
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// How jobs are polled.
    pub fn poll_policy(mut self, policy: PollPolicy) -> Self {
        self.poll_policy = policy;
        self
    }

    /// How failed status, result and cancel requests are retried (a submit is retried only when it
    /// provably never reached the service).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry_policy = policy;
        self
    }

    /// The time limit of one API request (default 30 s).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// The time limit for opening a connection (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The largest JSON answer the client reads before refusing it (default [`DEFAULT_MAX_BODY_BYTES`]).
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// Whether [`Client::submit`] first fetches and checks a remote `image_url` (default `false`):
    /// it catches an unreachable or invalid image before a paid submit, at the cost of one download.
    pub fn preflight_images(mut self, preflight: bool) -> Self {
        self.preflight_images = preflight;
        self
    }

    /// Whether each job's `/result` is asked for the job's cost (`?include_cost=true`, default
    /// `false`); it arrives in [`JobResult::raw`](crate::JobResult)'s `cost`.
    pub fn include_cost(mut self, include: bool) -> Self {
        self.include_cost = include;
        self
    }

    /// Whether a submit may carry fields the model's schema does not know (default `false`: they
    /// are refused as [`ErrorKind::InvalidInput`] with a suggestion, because the service ignores
    /// them and bills its defaults). Allow them only for fields the service added before this
    /// crate's schema did.
    pub fn allow_unknown_fields(mut self, allow: bool) -> Self {
        self.validate = self.validate.allow_unknown_fields(allow);
        self
    }

    /// Records every job this client submits or follows in `ledger` (feature `ledger`): the
    /// intent before the submit is sent, the id as soon as it is known, how the job ended and its
    /// cost — what `happyhorse jobs` lists. A ledger that fails never stops a job: it is logged
    /// once (`tracing::warn!`) and the job goes on.
    ///
    /// ```
    /// # fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// use happyhorse_ledger::{Ledger, Location};
    ///
    /// let dir = tempfile::tempdir()?;
    /// // The CLI's own ledger would be `Location::from_env()?`.
    /// let ledger = Ledger::open(dir.path().join("ledger.sqlite3"))?;
    /// let client = happyhorse_http::Client::builder().token("t").ledger(ledger).build()?;
    /// # let _ = (client, Location::Off);
    /// # Ok(()) }
    /// # demo().unwrap();
    /// ```
    #[cfg(feature = "ledger")]
    pub fn ledger(mut self, ledger: happyhorse_ledger::Ledger) -> Self {
        self.ledger = Some(ledger);
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] for a malformed base URL (shown without its userinfo or query), an
    /// empty token or one that cannot be an HTTP header value (described, never repeated), or a
    /// plain `http://` base URL on a non-loopback host while a token is configured (the token
    /// would cross the network in clear).
    pub fn build(self) -> Result<Client, Error> {
        install_crypto_provider();
        let base = BaseUrl::parse(self.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL))?;
        let token = self.token.as_ref().map(Token::new).transpose()?;
        if token.is_some() && base.is_plain_http() && !base.is_loopback() {
            return Err(Error::new(
                ErrorKind::Config,
                format!(
                    "refusing to send the API token over plain http to {base}; use https (plain http is allowed only for loopback)"
                ),
            ));
        }
        let api = ApiTransport::new(
            base,
            token,
            self.request_timeout,
            self.connect_timeout,
            self.max_body_bytes,
        )?;
        Ok(Client {
            inner: Arc::new(Inner {
                api,
                storage: storage::fetch_client(self.connect_timeout, self.request_timeout)?,
                downloads: Downloader::new(self.connect_timeout, self.retry_policy.clone()),
                poll_policy: self.poll_policy,
                retry_policy: self.retry_policy,
                preflight_images: self.preflight_images,
                include_cost: self.include_cost,
                prices: crate::price::PriceCache::default(),
                validate: self.validate,
                #[cfg(feature = "ledger")]
                books: self.ledger.map(crate::ledger::Books::new),
            }),
        })
    }
}

/// rustls needs one process-wide crypto provider; ring unless the `aws-lc-rs` feature picks the other.
fn install_crypto_provider() {
    #[cfg(not(feature = "aws-lc-rs"))]
    let provider = rustls::crypto::ring::default_provider();
    #[cfg(feature = "aws-lc-rs")]
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    // Already installed (by us or the application) is fine.
    let _ = provider.install_default();
}

impl Client {
    /// A builder with the defaults.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client configured from the environment: the token from `RUNCOMFY_API_TOKEN` (or
    /// `RUNCOMFY_TOKEN`, RunComfy's CLI's name), the base URL from `RUNCOMFY_BASE_URL` (or
    /// `RUNCOMFY_MODEL_API_BASE`, which includes `/v1`), else [`DEFAULT_BASE_URL`].
    ///
    /// # Errors
    /// [`ErrorKind::Auth`] when no token is set; otherwise as [`ClientBuilder::build`].
    pub fn from_env() -> Result<Self, Error> {
        let (_, token) = env_first(&TOKEN_ENV_VARS).ok_or_else(|| {
            Error::new(
                ErrorKind::Auth,
                format!(
                    "no API token: set {} (or {})",
                    TOKEN_ENV_VARS[0], TOKEN_ENV_VARS[1]
                ),
            )
        })?;
        let mut builder = Self::builder().token(token);
        if let Some((_, base)) = env_first(&BASE_URL_ENV_VARS) {
            builder = builder.base_url(base);
        }
        builder.build()
    }

    /// The API base URL requests go to (no token in it).
    pub fn base_url(&self) -> String {
        self.inner.api.base.to_string()
    }

    /// Downloads a job's output file to `path` atomically: a failed or interrupted download never
    /// leaves a truncated file at `path`; a later call resumes it. The API token is never sent.
    ///
    /// # Errors
    /// [`ErrorKind::Download`] (or a transport kind) when the file cannot be fetched or saved.
    pub async fn download(
        &self,
        url: &str,
        path: &std::path::Path,
        options: DownloadOptions,
    ) -> Result<DownloadReport, Error> {
        self.inner.downloads.download(url, path, &options).await
    }

    /// The model catalogue (`GET /v1/models`), read by core: each entry's id, name and price
    /// (numbers sent as strings included), and the answer as sent. Retried like a job's polls.
    ///
    /// # Errors
    /// As any API request: transport, auth or protocol errors (an error sent with HTTP 200 too).
    pub async fn models(&self) -> Result<Catalogue, Error> {
        let call = oneshot::Call::models(self.job_config(), Clock.now());
        driver::call(&self.inner.api, call)
            .await
            .map_err(|e| core_error(&e))
    }

    /// One model's entry (`GET /v1/models/{id}`): display name, pricing, and the entry as sent
    /// (with its input schema).
    ///
    /// # Errors
    /// As any API request; [`ErrorKind::Rejected`] for an unknown model id.
    pub async fn model(&self, model_id: &str) -> Result<ModelEntry, Error> {
        let call = oneshot::Call::model(model_id, self.job_config(), Clock.now());
        driver::call(&self.inner.api, call)
            .await
            .map_err(|e| core_error(&e))
    }
}
