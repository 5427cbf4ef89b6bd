//! The `reqwest-hook` feature: the caller's own reqwest settings (a proxy, a custom CA, a user
//! agent, a connector layer) for both of the client's HTTP clients.
//!
//! It is a feature because it puts reqwest's `ClientBuilder` into this crate's public API: with
//! it on, a reqwest major version bump is a breaking change for your code too. The rest of the
//! API names no reqwest type.

use std::sync::Arc;

use crate::client::ClientBuilder;

impl ClientBuilder {
    /// Adjusts the reqwest clients before they are built: `hook` gets reqwest's builder with
    /// this crate's settings (timeouts, user agent) and returns it with the caller's — a proxy,
    /// extra root certificates, another user agent, a `connector_layer`, local address, HTTP
    /// versions… It is called twice: for the API client and for the download client (output
    /// files and image preflights); both should go through the same proxy and trust the same CAs.
    ///
    /// Two invariants hold whatever `hook` does:
    /// - the API client **never follows a redirect** (so the token cannot be carried to another
    ///   host by one): its redirect policy is set after the hook, overriding the hook's;
    /// - the token is added per request, to API requests only (to the API's origin): the
    ///   download client never carries it. Do not put credentials in `default_headers` here —
    ///   they would go to every host, the storage host included.
    ///
    /// Use the reqwest this crate re-exports ([`happyhorse_http::reqwest`](crate::reqwest)), so
    /// the versions match.
    ///
    /// ```
    /// use happyhorse_http::{Client, reqwest};
    ///
    /// let client = Client::builder()
    ///     .token("my-token")
    ///     .configure_reqwest(|http| {
    ///         http.user_agent("acme-render-farm/2.1")
    ///             .proxy(reqwest::Proxy::https("http://proxy.internal:3128").unwrap())
    ///     })
    ///     .build()
    ///     .unwrap();
    /// # let _ = client;
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "reqwest-hook")))]
    pub fn configure_reqwest(
        mut self,
        hook: impl Fn(reqwest::ClientBuilder) -> reqwest::ClientBuilder + Send + Sync + 'static,
    ) -> Self {
        self.customize.hook = Some(Arc::new(hook));
        self
    }
}
