//! The `reqwest-hook` feature: the caller's reqwest settings reach both clients (API and
//! downloads), and none of them can make the API client follow a redirect or send the token
//! anywhere but the API's origin. Servers written here, on 127.0.0.1.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

use happyhorse_http::{Client, RetryPolicy, reqwest};

const TOKEN: &str = "sk-hook-canary-51c2";

/// What a server saw of one request.
#[derive(Debug, Clone)]
struct Seen {
    /// The request target as sent: a path, or an absolute URL when it came through a proxy.
    target: String,
    user_agent: String,
    authorization: Option<String>,
}

/// A server that records every request and answers from `answer(target)`: status, headers, body.
struct Recorder {
    base: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

type Answer = (u16, Vec<(&'static str, String)>, &'static str);

impl Recorder {
    async fn start(answer: impl Fn(&str) -> Answer + Send + Sync + 'static) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let answer = Arc::new(answer);
        let recorded = seen.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (answer, seen) = (answer.clone(), recorded.clone());
                let service = service_fn(move |request: Request<hyper::body::Incoming>| {
                    let header = |name: &str| {
                        request
                            .headers()
                            .get(name)
                            .map(|v| v.to_str().unwrap_or_default().to_owned())
                    };
                    let target = request.uri().to_string();
                    seen.lock().unwrap().push(Seen {
                        target: target.clone(),
                        user_agent: header("user-agent").unwrap_or_default(),
                        authorization: header("authorization"),
                    });
                    let (status, headers, body) = answer(&target);
                    let mut response = Response::builder().status(status);
                    for (name, value) in headers {
                        response = response.header(name, value);
                    }
                    let response = response.body(Full::new(Bytes::from(body))).unwrap();
                    async move { Ok::<_, Infallible>(response) }
                });
                tokio::spawn(http1::Builder::new().serve_connection(TokioIo::new(stream), service));
            }
        });
        Self { base, seen }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

const QUEUED: &str = r#"{"request_id": "abc", "status": "in_queue", "queue_position": 2}"#;

#[tokio::test]
async fn the_hook_reaches_the_api_client_and_the_download_client() {
    let server = Recorder::start(|target| {
        if target.ends_with("/status") {
            (200, vec![], QUEUED)
        } else {
            (200, vec![("content-length", "5".into())], "video")
        }
    })
    .await;
    let client = Client::builder()
        .token(TOKEN)
        .base_url(server.base.as_str())
        .configure_reqwest(|http| http.user_agent("acme-render-farm/2.1"))
        .build()
        .unwrap();
    client.status("abc").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    // Not a video: a file of another kind is kept when its declared length arrives whole (a
    // video would also need its MP4 boxes).
    let file = dir.path().join("out.bin");
    let url = format!("{}/files/out.bin", server.base);
    client
        .download(&url, &file, Default::default())
        .await
        .unwrap();

    let seen = server.seen();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(
        seen.iter().all(|s| s.user_agent == "acme-render-farm/2.1"),
        "{seen:?}"
    );
    // The token went with the API request only, never with the download.
    assert!(
        seen[0]
            .authorization
            .as_deref()
            .is_some_and(|a| a.ends_with(TOKEN))
    );
    assert_eq!(seen[1].authorization, None, "the download carried a token");
}

#[tokio::test]
async fn a_hook_that_allows_redirects_cannot_make_the_api_client_follow_one() {
    let elsewhere = Recorder::start(|_| (200, vec![], QUEUED)).await;
    let location = format!("{}/v1/requests/abc/status", elsewhere.base);
    let api = Recorder::start(move |_| (302, vec![("location", location.clone())], "")).await;
    let client = Client::builder()
        .token(TOKEN)
        .base_url(api.base.as_str())
        .retry_policy(RetryPolicy::none())
        .configure_reqwest(|http| http.redirect(reqwest::redirect::Policy::limited(10)))
        .build()
        .unwrap();

    let err = client.status("abc").await.unwrap_err();
    assert_eq!(err.status(), Some(302), "{err}");
    assert_eq!(api.seen().len(), 1);
    assert!(
        elsewhere.seen().is_empty(),
        "the redirect was followed: {:?}",
        elsewhere.seen()
    );
    assert!(!format!("{err} {err:?}").contains(TOKEN));
}

#[tokio::test]
async fn requests_go_through_the_callers_proxy() {
    let proxy = Recorder::start(|_| (200, vec![], QUEUED)).await;
    let proxy_url = proxy.base.clone();
    // Nothing listens on port 9 of loopback: only the proxy can answer.
    let client = Client::builder()
        .token(TOKEN)
        .base_url("http://127.0.0.1:9")
        .retry_policy(RetryPolicy::none())
        .configure_reqwest(move |http| http.proxy(reqwest::Proxy::all(proxy_url.as_str()).unwrap()))
        .build()
        .unwrap();

    let report = client.status("abc").await.unwrap();
    assert_eq!(
        report.state,
        happyhorse_http::JobState::Queued { position: Some(2) }
    );
    let seen = proxy.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].target, "http://127.0.0.1:9/v1/requests/abc/status");
}
