//! The two listeners (API and storage), their connections, the per-request pipeline that injects
//! faults, and [`RunningEmulator`], the handle to a started emulator.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use http::{Method, Request, Response, header};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::{JoinHandle, JoinSet};

use crate::app::App;
use crate::body::EmuBody;
use crate::builder::Config;
use crate::faults::{Endpoint, FaultKind};
use crate::routes::{self, Route};
use crate::stats::StatsSnapshot;
use crate::{storage, wire};

/// How long shutdown waits for in-flight requests before aborting their connections.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(2);

/// A started emulator. Dropping it stops the listeners too; [`RunningEmulator::shutdown`] also
/// waits until every task has ended.
#[derive(Debug)]
pub struct RunningEmulator {
    app: Arc<App>,
    addr: SocketAddr,
    storage_addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl RunningEmulator {
    /// The API's base URL, e.g. `http://127.0.0.1:43123` (use it where the real service has
    /// `https://model-api.runcomfy.net`).
    pub fn base_url(&self) -> &str {
        &self.app.base_url
    }

    /// The storage host's base URL (a different port, hence a different origin).
    pub fn storage_url(&self) -> &str {
        &self.app.storage_url
    }

    /// The API listener's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The storage listener's address.
    pub fn storage_addr(&self) -> SocketAddr {
        self.storage_addr
    }

    /// The counters, as also served at `GET /__emulator/stats`.
    pub fn stats(&self) -> StatsSnapshot {
        self.app.snapshot()
    }

    /// The emulator's own view of a job, whoever owns it, as `GET /__emulator/jobs/{id}` serves
    /// it: `model_id`, `status`, timestamps, `processing_seconds`, `output_seconds`, `cost_usd`
    /// (once finished), and its `log`. `None` for an unknown or expired id.
    pub fn inspect_job(&self, request_id: &str) -> Option<serde_json::Value> {
        crate::routes::inspection(&self.app, request_id)
    }

    /// Moves a manual clock forward by `by` of simulated time; returns false (and does nothing)
    /// unless the emulator was built with [`manual_clock(true)`](crate::EmulatorBuilder::manual_clock).
    pub fn advance(&self, by: Duration) -> bool {
        self.app.clock.advance(by)
    }

    /// Makes the next request to `endpoint` fail with `kind`, whatever the configured rates
    /// (scripted faults are consumed in the order they were queued).
    pub fn inject_fault(&self, endpoint: Endpoint, kind: FaultKind) {
        self.app.faults.push(endpoint, kind);
    }

    /// Stops accepting, lets in-flight requests finish (up to 2 s), and waits for every task.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        for task in std::mem::take(&mut self.tasks) {
            let _ = task.await;
        }
        tracing::info!(base_url = %self.app.base_url, "emulator stopped");
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

/// Which listener a connection came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Listener {
    Api,
    Storage,
}

pub(crate) async fn start(config: Config) -> anyhow::Result<RunningEmulator> {
    let api = TcpListener::bind(config.addr)
        .await
        .with_context(|| format!("cannot listen on {}", config.addr))?;
    let storage = TcpListener::bind(config.storage_addr)
        .await
        .with_context(|| format!("cannot listen on {} (storage)", config.storage_addr))?;
    let addr = api.local_addr()?;
    let storage_addr = storage.local_addr()?;
    let (shutdown, signal) = watch::channel(false);
    let app = Arc::new(App::new(
        config,
        url_of(addr),
        url_of(storage_addr),
        signal.clone(),
    )?);
    // One budget for both listeners: a flood on either cannot take more than the limit.
    let slots = Arc::new(Semaphore::new(app.config.max_connections));
    let tasks = vec![
        tokio::spawn(accept_loop(
            api,
            app.clone(),
            Listener::Api,
            slots.clone(),
            signal.clone(),
        )),
        tokio::spawn(accept_loop(
            storage,
            app.clone(),
            Listener::Storage,
            slots,
            signal,
        )),
    ];
    tracing::info!(base_url = %app.base_url, storage_url = %app.storage_url, "emulator listening");
    Ok(RunningEmulator {
        app,
        addr,
        storage_addr,
        shutdown,
        tasks,
    })
}

/// `http://ip:port`; an unspecified address (`0.0.0.0`) is advertised as loopback.
fn url_of(addr: SocketAddr) -> String {
    let mut addr = addr;
    if addr.ip().is_unspecified() {
        addr.set_ip(if addr.is_ipv4() {
            std::net::Ipv4Addr::LOCALHOST.into()
        } else {
            std::net::Ipv6Addr::LOCALHOST.into()
        });
    }
    format!("http://{addr}")
}

/// Accepts connections while a slot is free. At the limit it stops accepting: one accepted
/// connection waits (unread, costing only its socket) for a slot, and further clients wait in the
/// kernel's backlog, connected and unanswered, until a connection closes. Nothing they could
/// mistake for the service's answer is sent, and memory stays bounded.
async fn accept_loop(
    listener: TcpListener,
    app: Arc<App>,
    kind: Listener,
    slots: Arc<Semaphore>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    let mut waiting: Option<TcpStream> = None;
    let signal = shutdown.clone();
    let serve = |connections: &mut JoinSet<()>, stream: TcpStream, slot: OwnedSemaphorePermit| {
        let connection = Connection {
            stream,
            _slot: slot,
        };
        connections.spawn(serve_connection(
            connection,
            app.clone(),
            kind,
            signal.clone(),
        ));
    };
    loop {
        tokio::select! {
            slot = slots.clone().acquire_owned(), if waiting.is_some() => {
                // The semaphore is never closed.
                if let (Ok(slot), Some(stream)) = (slot, waiting.take()) {
                    serve(&mut connections, stream, slot);
                }
            }
            accepted = listener.accept(), if waiting.is_none() => match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    match slots.clone().try_acquire_owned() {
                        Ok(slot) => serve(&mut connections, stream, slot),
                        Err(_) => waiting = Some(stream),
                    }
                }
                Err(error) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            _ = shutdown.changed() => break,
        }
    }
    drop((listener, waiting));
    let drain = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(DRAIN_TIMEOUT, drain).await.is_err() {
        connections.shutdown().await;
    }
}

/// An accepted connection and the slot it holds until it is dropped.
struct Connection {
    stream: TcpStream,
    _slot: OwnedSemaphorePermit,
}

/// Counts a connection open while it lives; records why it closed.
struct Counted<'a> {
    app: &'a App,
    header_timeout: bool,
}

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        self.app.stats.connection_closed(self.header_timeout);
    }
}

async fn serve_connection(
    connection: Connection,
    app: Arc<App>,
    kind: Listener,
    mut shutdown: watch::Receiver<bool>,
) {
    let Connection { stream, _slot } = connection;
    app.stats.connection_opened();
    let mut counted = Counted {
        app: &app,
        header_timeout: false,
    };
    let header_timeout = app.config.header_read_timeout;
    // Until its first byte, an idle connection costs only its socket: hyper's buffers come
    // later. One that sends nothing within the header-read timeout is closed.
    tokio::select! {
        readable = tokio::time::timeout(header_timeout, stream.readable()) => match readable {
            Ok(Ok(())) => {}
            Ok(Err(_)) => return,
            Err(_) => {
                counted.header_timeout = true;
                return;
            }
        },
        _ = shutdown.changed() => return,
    }
    let reset = Arc::new(AtomicBool::new(false));
    let io = TokioIo::new(ConnectionIo {
        stream,
        reset: reset.clone(),
    });
    let service_app = app.clone();
    let service = service_fn(move |request| {
        let app = service_app.clone();
        let reset = reset.clone();
        async move { serve_request(&app, kind, request, &reset).await }
    });
    let connection = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .keep_alive(true)
        .serve_connection(io, service);
    // Boxed: held inline, hyper's connection state (kilobytes) would be reserved in every
    // connection's task from its accept, idle or not.
    let mut connection = Box::pin(connection);
    tokio::select! {
        result = connection.as_mut() => {
            if let Err(error) = result {
                counted.header_timeout = error.is_timeout();
                tracing::debug!(%error, "connection ended with an error");
            }
        }
        _ = shutdown.changed() => {
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        }
    }
}

/// Returned by a request handler to drop the connection without answering.
#[derive(Debug)]
struct DropConnection;

impl std::fmt::Display for DropConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped on purpose (injected fault)")
    }
}

impl std::error::Error for DropConnection {}

async fn serve_request(
    app: &App,
    listener: Listener,
    request: Request<Incoming>,
    reset: &AtomicBool,
) -> Result<Response<EmuBody>, DropConnection> {
    let started = Instant::now();
    let seq = app.stats.request_arrived();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let route = match listener {
        Listener::Api => Some(Route::of(&method, &path)),
        Listener::Storage => {
            storage::record(app, &request);
            None
        }
    };
    let endpoint = route.as_ref().map_or(Endpoint::Storage, Route::endpoint);
    let fault = app.faults.decide(endpoint);
    if let Some(kind) = fault {
        app.stats.fault_injected(seq, endpoint, kind);
        tracing::info!(seq, endpoint = endpoint.as_str(), fault = kind.as_str(), %method, path, "injecting fault");
    }
    let outcome = respond(app, route, request, fault).await;
    match &outcome {
        Ok(response) => app
            .stats
            .request_answered(endpoint, response.status().as_u16()),
        Err(_) => {
            reset.store(true, Ordering::Relaxed);
            app.stats.request_reset(endpoint);
        }
    }
    tracing::debug!(
        seq,
        %method,
        path,
        status = outcome.as_ref().map_or(0, |r| r.status().as_u16()),
        elapsed_us = started.elapsed().as_micros() as u64,
        "request"
    );
    outcome
}

async fn respond(
    app: &App,
    route: Option<Route>,
    request: Request<Incoming>,
    fault: Option<FaultKind>,
) -> Result<Response<EmuBody>, DropConnection> {
    let storage = route.is_none();
    match fault {
        Some(FaultKind::Reset) => return Err(DropConnection),
        Some(
            kind @ (FaultKind::Http500
            | FaultKind::Http502
            | FaultKind::Http503
            | FaultKind::RateLimited
            | FaultKind::ErrorWith200),
        ) => {
            return Ok(wire::fault_response(
                kind,
                storage,
                app.config.faults.retry_after_secs,
            ));
        }
        _ => {}
    }
    let head = request.method() == Method::HEAD;
    let unknown_status = (fault == Some(FaultKind::UnknownStatus)).then_some("preprocessing");
    let response = match route {
        Some(route) => routes::handle(app, route, request, unknown_status).await,
        None => storage::handle(app, &request),
    };
    match fault {
        Some(FaultKind::LostSubmit) => Err(DropConnection),
        Some(FaultKind::Delay) => {
            app.sleep(app.config.faults.delay).await;
            Ok(response)
        }
        Some(FaultKind::TruncatedBody) if !head => truncate(response),
        _ => Ok(response),
    }
}

/// Announces the full length but sends only half the body; an empty body becomes a reset.
fn truncate(response: Response<EmuBody>) -> Result<Response<EmuBody>, DropConnection> {
    let (mut parts, body) = response.into_parts();
    let len = body.len();
    if len == 0 {
        return Err(DropConnection);
    }
    parts
        .headers
        .insert(header::CONTENT_LENGTH, http::HeaderValue::from(len));
    Ok(Response::from_parts(parts, body.truncate()))
}

/// A TCP stream that, once a handler asked for a reset, closes with RST instead of FIN.
struct ConnectionIo {
    stream: TcpStream,
    reset: Arc<AtomicBool>,
}

impl Drop for ConnectionIo {
    fn drop(&mut self) {
        if self.reset.load(Ordering::Relaxed) {
            // SO_LINGER 0: the kernel answers the close with RST, discarding unsent data.
            let _ = self.stream.set_zero_linger();
        }
    }
}

impl AsyncRead for ConnectionIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for ConnectionIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
