//! A stranger: a few dozen lines of hyper answering the way RunComfy's partly documented API may
//! answer — not our emulator, which agrees with the client by construction. Each route replays
//! its answers in order, repeating the last; `{base}` in a body becomes the server's own URL, and
//! `/files/NAME` serves [`file_body`] (`file NAME`, wrapped in MP4 boxes for a `.mp4`, since a
//! download is kept only when a video's boxes show it whole) so downloads can be checked byte
//! for byte. A route can be held: its request is counted on arrival, and answered only when
//! the test releases it (never, if it does not).

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

type Routes = Arc<Mutex<HashMap<String, Vec<(u16, String)>>>>;
type Holds = Arc<Mutex<HashMap<String, Arc<tokio::sync::Semaphore>>>>;

/// A server on 127.0.0.1 (OS-chosen port); dropping it drops its runtime, which stops it.
pub(super) struct Stranger {
    _runtime: tokio::runtime::Runtime,
    routes: Routes,
    hits: Arc<Mutex<Vec<String>>>,
    holds: Holds,
    pub(super) base: String,
}

impl Stranger {
    pub(super) fn start() -> Self {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let routes: Routes = Arc::default();
        let hits: Arc<Mutex<Vec<String>>> = Arc::default();
        let holds: Holds = Arc::default();
        let (served_routes, served_hits, served_holds, served_base) =
            (routes.clone(), hits.clone(), holds.clone(), base.clone());
        runtime.spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (routes, hits, holds, base) = (
                    served_routes.clone(),
                    served_hits.clone(),
                    served_holds.clone(),
                    served_base.clone(),
                );
                tokio::spawn(async move {
                    let service = service_fn(move |request: Request<hyper::body::Incoming>| {
                        let answer = answer(&routes, &hits, &base, &request);
                        let gate = holds.lock().unwrap().get(&route_of(&request)).cloned();
                        async move {
                            if let Some(gate) = gate {
                                gate.acquire().await.unwrap().forget();
                            }
                            Ok::<_, Infallible>(answer)
                        }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self {
            _runtime: runtime,
            routes,
            hits,
            holds,
            base,
        }
    }

    /// Holds every answer of `route` until [`Stranger::release`] (each release lets one go).
    pub(super) fn hold(&self, route: &str) -> &Self {
        self.holds
            .lock()
            .unwrap()
            .insert(route.to_owned(), Arc::new(tokio::sync::Semaphore::new(0)));
        self
    }

    /// Lets one held answer of `route` go.
    pub(super) fn release(&self, route: &str) {
        self.holds.lock().unwrap()[route].add_permits(1);
    }

    /// `route` ("GET /v1/requests/req-1/result") answers `answers` in order, then the last again.
    pub(super) fn on(&self, route: &str, answers: &[(u16, &str)]) -> &Self {
        let answers = answers.iter().map(|(s, b)| (*s, (*b).to_owned())).collect();
        self.routes
            .lock()
            .unwrap()
            .insert(route.to_owned(), answers);
        self
    }

    /// `happyhorse --base-url <this server> ARGS` with a token, in `dir`.
    pub(super) fn cli(&self, dir: &std::path::Path, args: &[&str]) -> std::process::Output {
        super::common::happyhorse(dir)
            .env("RUNCOMFY_API_TOKEN", "test-token")
            .args(["--base-url", &self.base])
            .args(args)
            .output()
            .unwrap()
    }

    /// Every request received, as `METHOD /path`, in order.
    pub(super) fn routes(&self) -> Vec<String> {
        self.hits.lock().unwrap().clone()
    }

    /// How many requests `route` received.
    pub(super) fn hits(&self, route: &str) -> usize {
        self.hits
            .lock()
            .unwrap()
            .iter()
            .filter(|h| *h == route)
            .count()
    }
}

fn answer(
    routes: &Routes,
    hits: &Mutex<Vec<String>>,
    base: &str,
    request: &Request<hyper::body::Incoming>,
) -> Response<Full<Bytes>> {
    let route = route_of(request);
    hits.lock().unwrap().push(route.clone());
    if let Some(name) = route.strip_prefix("GET /files/") {
        return Response::new(Full::new(Bytes::from(file_body(name))));
    }
    let mut routes = routes.lock().unwrap();
    let (status, body) = match routes.get_mut(&route) {
        Some(answers) if answers.len() > 1 => answers.remove(0),
        Some(answers) => answers[0].clone(),
        None => (
            404,
            r#"{"error_code":404001,"error_message":"no such route"}"#.to_owned(),
        ),
    };
    respond(status, body.replace("{base}", base))
}

/// What `/files/NAME` serves: `file NAME`, as the media data of a minimal MP4 (`ftyp`, `mdat`,
/// `moov`) when NAME ends in `.mp4`.
pub(crate) fn file_body(name: &str) -> Vec<u8> {
    let text = format!("file {name}");
    if !name.ends_with(".mp4") {
        return text.into_bytes();
    }
    let mut mp4 = Vec::new();
    for (kind, body) in [
        (b"ftyp", &b"isom\0\0\0\0isom"[..]),
        (b"mdat", text.as_bytes()),
        (b"moov", &[0u8; 8][..]),
    ] {
        mp4.extend_from_slice(&u32::try_from(8 + body.len()).unwrap().to_be_bytes());
        mp4.extend_from_slice(kind);
        mp4.extend_from_slice(body);
    }
    mp4
}

/// "METHOD /path", without the query.
fn route_of(request: &Request<hyper::body::Incoming>) -> String {
    let path = request.uri().path_and_query().map_or("/", |p| p.as_str());
    format!(
        "{} {}",
        request.method(),
        path.split('?').next().unwrap_or(path)
    )
}

fn respond(status: u16, body: String) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .unwrap()
}
