//! Shared test helpers: a minimal HTTP/1.1 client on hyper (one connection per request, so a
//! fault on one request never leaks into the next) and the I2V model's id and example body.

#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, Request};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpStream;

pub const I2V: &str = "happyhorse/happyhorse-1.0/image-to-video";
pub const TOKEN: &str = "test-token-7f3a9c";

/// The body of the seed page's submit example.
pub fn seed_body() -> Value {
    json!({
        "image_url": "https://playgrounds-storage-public.runcomfy.net/tools/7345/media-files/ref-promo.webp",
        "prompt": "Slow cinematic camera drift around the subject, soft natural motion, identity-stable face and clothing, gentle wind moving hair, premium photoreal look."
    })
}

/// A whole answer.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {} {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Sends one request on a fresh connection; `Err` describes a transport failure
/// (reset, truncated body, …).
pub async fn send(
    method: Method,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<Vec<u8>>,
) -> Result<Reply, String> {
    let uri: http::Uri = url.parse().map_err(|e| format!("bad url {url}: {e}"))?;
    let authority = uri.authority().unwrap().as_str().to_owned();
    let stream = TcpStream::connect(&authority)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    let driver = tokio::spawn(connection);
    let mut request = Request::builder()
        .method(method)
        .uri(uri.path_and_query().map_or("/", |p| p.as_str()))
        .header("host", authority);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request
        .body(Full::new(Bytes::from(body.unwrap_or_default())))
        .unwrap();
    let result = async {
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| format!("request: {e:?}"))?;
        let (parts, body) = response.into_parts();
        let body = body
            .collect()
            .await
            .map_err(|e| format!("body: {e:?}"))?
            .to_bytes();
        Ok(Reply {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body,
        })
    }
    .await;
    drop(sender);
    driver.abort();
    result
}

/// Like [`send`] but gives up after `timeout`.
pub async fn send_with_timeout(
    timeout: Duration,
    method: Method,
    url: &str,
    headers: &[(&str, &str)],
) -> Result<Reply, String> {
    tokio::time::timeout(timeout, send(method, url, headers, None))
        .await
        .map_err(|_| "timed out".to_owned())?
}

/// An API client for one token.
pub struct Client {
    pub base: String,
    pub token: String,
}

impl Client {
    pub fn new(base: &str) -> Self {
        Self::with_token(base, TOKEN)
    }

    pub fn with_token(base: &str, token: &str) -> Self {
        Self {
            base: base.to_owned(),
            token: token.to_owned(),
        }
    }

    fn auth(&self) -> String {
        format!("Bearer {}", self.token)
    }

    pub async fn try_submit_raw(&self, model: &str, body: Vec<u8>) -> Result<Reply, String> {
        let auth = self.auth();
        send(
            Method::POST,
            &format!("{}/v1/models/{model}", self.base),
            &[
                ("authorization", &auth),
                ("content-type", "application/json"),
            ],
            Some(body),
        )
        .await
    }

    pub async fn submit_raw(&self, model: &str, body: Vec<u8>) -> Reply {
        self.try_submit_raw(model, body).await.unwrap()
    }

    pub async fn submit(&self, body: &Value) -> Reply {
        self.submit_raw(I2V, serde_json::to_vec(body).unwrap())
            .await
    }

    /// Submits the seed body and returns the new request id.
    pub async fn submit_ok(&self) -> String {
        let reply = self.submit(&seed_body()).await;
        assert_eq!(
            reply.status,
            200,
            "{}",
            String::from_utf8_lossy(&reply.body)
        );
        reply.json()["request_id"].as_str().unwrap().to_owned()
    }

    pub async fn try_get(&self, path: &str) -> Result<Reply, String> {
        let auth = self.auth();
        send(
            Method::GET,
            &format!("{}{path}", self.base),
            &[("authorization", &auth)],
            None,
        )
        .await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.try_get(path).await.unwrap()
    }

    pub async fn status(&self, id: &str) -> Reply {
        self.get(&format!("/v1/requests/{id}/status")).await
    }

    pub async fn result(&self, id: &str) -> Reply {
        self.get(&format!("/v1/requests/{id}/result")).await
    }

    pub async fn cancel(&self, id: &str) -> Reply {
        let auth = self.auth();
        send(
            Method::POST,
            &format!("{}/v1/requests/{id}/cancel", self.base),
            &[("authorization", &auth)],
            None,
        )
        .await
        .unwrap()
    }

    /// Polls `/status` until it reads `completed` or `cancelled` (bounded by `attempts` × 20 ms).
    pub async fn wait_finished(&self, id: &str, attempts: usize) -> Value {
        for _ in 0..attempts {
            let status = self.status(id).await.json();
            if matches!(status["status"].as_str(), Some("completed" | "cancelled")) {
                return status;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("job {id} did not finish after {attempts} polls");
    }
}

/// A real PNG of the given size (blank, 1-bit): the emulator checks images whole, so a header
/// alone would be refused.
pub fn png(width: u32, height: u32) -> Vec<u8> {
    happyhorse_core::validate::blank_png(width, height)
}
