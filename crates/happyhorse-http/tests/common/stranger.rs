//! A stranger for tests on tokio's paused clock: a few lines of hyper in the test's own runtime,
//! answering from a function of the route and how many times it was asked, and recording when
//! (on tokio's clock) each request came.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::time::Instant;

/// One answer: status, `Retry-After`, body.
pub type Answer = (u16, Option<&'static str>, String);

type Handler = dyn Fn(&str, usize) -> Answer + Send + Sync;

/// The server's address and every request it saw, with its time.
#[derive(Clone)]
pub struct Stranger {
    pub base: String,
    seen: Arc<Mutex<Vec<(String, Instant)>>>,
}

impl Stranger {
    /// Serves `answer(route, times_asked_before)` on 127.0.0.1 from the current runtime; `route`
    /// is `METHOD /path` without the query.
    pub async fn start(answer: impl Fn(&str, usize) -> Answer + Send + Sync + 'static) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let seen: Arc<Mutex<Vec<(String, Instant)>>> = Arc::default();
        let handler: Arc<Handler> = Arc::new(answer);
        let recorded = seen.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (handler, seen) = (handler.clone(), recorded.clone());
                let service = service_fn(move |request: Request<hyper::body::Incoming>| {
                    let route = format!("{} {}", request.method(), request.uri().path());
                    let asked = {
                        let mut seen = seen.lock().unwrap();
                        let asked = seen.iter().filter(|(r, _)| *r == route).count();
                        seen.push((route.clone(), Instant::now()));
                        asked
                    };
                    let (status, retry_after, body) = handler(&route, asked);
                    let mut response = Response::builder().status(status);
                    if let Some(seconds) = retry_after {
                        response = response.header("retry-after", seconds);
                    }
                    let response = response.body(Full::new(Bytes::from(body))).unwrap();
                    async move { Ok::<_, Infallible>(response) }
                });
                tokio::spawn(http1::Builder::new().serve_connection(TokioIo::new(stream), service));
            }
        });
        Self { base, seen }
    }

    /// When each request for routes starting with `prefix` came, in order.
    pub fn times(&self, prefix: &str) -> Vec<Instant> {
        let seen = self.seen.lock().unwrap();
        seen.iter()
            .filter(|(route, _)| route.starts_with(prefix))
            .map(|(_, at)| *at)
            .collect()
    }
}
