//! Load benchmark: `GET /v1/requests/{id}/status` on the emulator versus a minimal hyper server
//! that returns the same bytes (the ceiling on this machine), measured in the same run by a
//! keep-alive HTTP/1.1 load generator written on hyper.
//!
//! ```text
//! cargo run --release -p happyhorse-emulator --example load -- [--connections 32] [--seconds 5]
//!     [--server-threads 1] [--client-threads 1] [--rounds 3] [--json | --serve]
//! ```
//!
//! The two targets are measured alternately, `--rounds` times each, so a noisy neighbour on a
//! shared machine hits both; the summary takes each target's median round.
//!
//! Server and load generator run in separate tokio runtimes (their own worker threads), so the
//! thread counts split the machine's cores between them.
//!
//! `--json` prints one JSON object instead of the tables (read by `cargo xtask bench`):
//! `{"connections", "seconds", "server_threads", "client_threads", "cores", "body_bytes",
//! "rounds": [{"round", "ceiling": M, "emulator": M}], "status_200"}`, where `M` is
//! `{"requests", "errors", "requests_per_s", "p50_ms", "p99_ms", "max_ms"}`.
//!
//! `--serve` measures nothing: it starts both targets, prints one JSON line
//! `{"ceiling": "IP:PORT", "emulator": "IP:PORT", "path", "authorization"}` and serves until its
//! standard input closes — for an outside load generator such as `wrk` (`cargo xtask bench` uses
//! it for the `wrk` cross-check).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Empty, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Clone)]
struct Options {
    connections: usize,
    seconds: f64,
    server_threads: usize,
    client_threads: usize,
    rounds: usize,
    json: bool,
    serve: bool,
}

fn options() -> anyhow::Result<Options> {
    let mut options = Options {
        connections: 32,
        seconds: 5.0,
        server_threads: 1,
        client_threads: 1,
        rounds: 3,
        json: false,
        serve: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || {
            args.next()
                .ok_or_else(|| anyhow::anyhow!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--connections" => options.connections = value()?.parse()?,
            "--seconds" => options.seconds = value()?.parse()?,
            "--server-threads" => options.server_threads = value()?.parse()?,
            "--client-threads" => options.client_threads = value()?.parse()?,
            "--rounds" => options.rounds = value()?.parse::<usize>()?.max(1),
            "--json" => options.json = true,
            "--serve" => options.serve = true,
            other => anyhow::bail!("unknown flag {other}"),
        }
    }
    Ok(options)
}

/// What one run measured.
struct Measured {
    requests: usize,
    errors: usize,
    elapsed: Duration,
    /// Sorted latencies in microseconds.
    latencies: Vec<u32>,
}

impl Measured {
    fn rate(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }

    fn percentile(&self, p: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let index = ((self.latencies.len() - 1) as f64 * p).round() as usize;
        f64::from(self.latencies[index]) / 1000.0
    }

    fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "requests": self.requests,
            "errors": self.errors,
            "requests_per_s": self.rate(),
            "p50_ms": self.percentile(0.50),
            "p99_ms": self.percentile(0.99),
            "max_ms": self.percentile(1.0),
        })
    }
}

/// Runs `connections` keep-alive connections against `addr` for `seconds`, each sending
/// `GET path` back to back.
async fn generate(addr: SocketAddr, path: String, auth: String, options: Options) -> Measured {
    let warmup = Duration::from_millis(500);
    let start = Instant::now() + warmup;
    let deadline = start + Duration::from_secs_f64(options.seconds);
    let mut tasks = Vec::new();
    for _ in 0..options.connections {
        let (path, auth) = (path.clone(), auth.clone());
        tasks.push(tokio::spawn(async move {
            let stream = TcpStream::connect(addr).await.unwrap();
            stream.set_nodelay(true).unwrap();
            let (mut sender, connection) =
                hyper::client::conn::http1::handshake(TokioIo::new(stream))
                    .await
                    .unwrap();
            tokio::spawn(connection);
            let mut latencies = Vec::with_capacity(200_000);
            let (mut requests, mut errors) = (0usize, 0usize);
            loop {
                let sent = Instant::now();
                if sent >= deadline {
                    break;
                }
                let request = Request::get(path.as_str())
                    .header("host", "127.0.0.1")
                    .header("authorization", auth.as_str())
                    .body(Empty::<Bytes>::new())
                    .unwrap();
                let ok = match sender.send_request(request).await {
                    Ok(response) => {
                        let ok = response.status() == 200;
                        ok && response.into_body().collect().await.is_ok()
                    }
                    Err(_) => false,
                };
                if sent < start {
                    continue;
                }
                requests += 1;
                if !ok {
                    errors += 1;
                }
                latencies.push(sent.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
            }
            (requests, errors, latencies)
        }));
    }
    let mut measured = Measured {
        requests: 0,
        errors: 0,
        elapsed: Duration::ZERO,
        latencies: Vec::new(),
    };
    for task in tasks {
        let (requests, errors, latencies) = task.await.unwrap();
        measured.requests += requests;
        measured.errors += errors;
        measured.latencies.extend(latencies);
    }
    measured.elapsed = deadline.saturating_duration_since(start);
    measured.latencies.sort_unstable();
    measured
}

/// The ceiling: a hyper server that answers every request with the same bytes.
async fn minimal_server(body: Bytes) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let _ = stream.set_nodelay(true);
            let body = body.clone();
            tokio::spawn(async move {
                let service = service_fn(move |_request| {
                    let body = body.clone();
                    async move {
                        let mut response = Response::new(Full::new(body));
                        response
                            .headers_mut()
                            .insert("content-type", "application/json".parse().unwrap());
                        Ok::<_, Infallible>(response)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

fn runtime(threads: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .unwrap()
}

fn main() -> anyhow::Result<()> {
    let options = options()?;
    let server = runtime(options.server_threads);
    let client = runtime(options.client_threads);
    let token = "Bearer load-test-token";

    // The emulator, with one job that stays in progress for the whole run.
    let (emulator, id, status_body) = server.block_on(async {
        let emulator = happyhorse_emulator::Emulator::builder()
            .processing_time(happyhorse_emulator::ProcessingTime::Fixed(
                Duration::from_secs(3600),
            ))
            .start()
            .await?;
        let addr = emulator.addr();
        let body = serde_json::json!({
            "image_url": "https://example.com/horse.webp",
            "prompt": "A horse gallops along the beach at sunset"
        });
        let submit = Request::post(format!(
            "/v1/models/{}",
            "happyhorse/happyhorse-1.0/image-to-video"
        ))
        .header("host", "127.0.0.1")
        .header("authorization", token)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))?;
        let id = one_request(addr, submit).await?["request_id"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("no request_id"))?
            .to_owned();
        let status = Request::get(format!("/v1/requests/{id}/status"))
            .header("host", "127.0.0.1")
            .header("authorization", token)
            .body(Full::new(Bytes::new()))?;
        let status_body = one_request(addr, status).await?;
        anyhow::Ok((emulator, id, status_body))
    })?;
    let fixed = Bytes::from(serde_json::to_vec(&status_body)?);
    let ceiling_addr = server.block_on(minimal_server(fixed.clone()));
    let path = format!("/v1/requests/{id}/status");

    if options.serve {
        let targets = serde_json::json!({
            "ceiling": ceiling_addr.to_string(),
            "emulator": emulator.addr().to_string(),
            "path": path,
            "authorization": token,
        });
        println!("{targets}");
        // Serve (on the server runtime's threads) until whoever started us closes our stdin.
        std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink())?;
        server.block_on(emulator.shutdown());
        return Ok(());
    }

    if !options.json {
        println!(
            "load: {} keep-alive connections, {} s per target (after 0.5 s warm-up), server {} thread(s), load generator {} thread(s), {} cores",
            options.connections,
            options.seconds,
            options.server_threads,
            options.client_threads,
            std::thread::available_parallelism().map_or(0, |n| n.get())
        );
        println!(
            "response body: {} bytes: {}",
            fixed.len(),
            String::from_utf8_lossy(&fixed)
        );
    }
    let mut ceilings = Vec::new();
    let mut emulated = Vec::new();
    for _ in 0..options.rounds {
        ceilings.push(client.block_on(generate(
            ceiling_addr,
            path.clone(),
            token.into(),
            options.clone(),
        )));
        emulated.push(client.block_on(generate(
            emulator.addr(),
            path.clone(),
            token.into(),
            options.clone(),
        )));
    }

    if options.json {
        let rounds: Vec<_> = ceilings
            .iter()
            .zip(&emulated)
            .enumerate()
            .map(|(round, (ceiling, measured))| {
                serde_json::json!({
                    "round": round + 1,
                    "ceiling": ceiling.to_json(),
                    "emulator": measured.to_json(),
                })
            })
            .collect();
        let stats = emulator.stats();
        let report = serde_json::json!({
            "connections": options.connections,
            "seconds": options.seconds,
            "server_threads": options.server_threads,
            "client_threads": options.client_threads,
            "cores": std::thread::available_parallelism().map_or(0, |n| n.get()),
            "body_bytes": fixed.len(),
            "rounds": rounds,
            "status_200": stats.requests_with(happyhorse_emulator::Endpoint::Status, "200"),
        });
        println!("{report}");
        server.block_on(emulator.shutdown());
        return Ok(());
    }

    println!();
    println!("| round | target | requests | errors | requests/s | p50 ms | p99 ms | max ms |");
    println!("|---:|---|---:|---:|---:|---:|---:|---:|");
    for (round, (ceiling, measured)) in ceilings.iter().zip(&emulated).enumerate() {
        for (name, m) in [
            ("minimal hyper server, fixed body (ceiling)", ceiling),
            ("emulator `GET /v1/requests/{id}/status`", measured),
        ] {
            println!(
                "| {} | {name} | {} | {} | {:.0} | {:.3} | {:.3} | {:.3} |",
                round + 1,
                m.requests,
                m.errors,
                m.rate(),
                m.percentile(0.50),
                m.percentile(0.99),
                m.percentile(1.0)
            );
        }
    }
    let mut ratios: Vec<f64> = ceilings
        .iter()
        .zip(&emulated)
        .map(|(c, e)| 100.0 * e.rate() / c.rate())
        .collect();
    ratios.sort_by(f64::total_cmp);
    println!();
    println!(
        "emulator / ceiling per round (sorted): {} %; median {:.1} %",
        ratios
            .iter()
            .map(|r| format!("{r:.1}"))
            .collect::<Vec<_>>()
            .join(", "),
        ratios[ratios.len() / 2]
    );
    let median = |runs: &mut Vec<Measured>| {
        runs.sort_by(|a, b| a.rate().total_cmp(&b.rate()));
        runs.swap_remove(runs.len() / 2)
    };
    let (ceiling, measured) = (median(&mut ceilings), median(&mut emulated));
    println!();
    println!(
        "median rounds: ceiling {:.0} req/s (p99 {:.3} ms), emulator {:.0} req/s (p99 {:.3} ms), ratio of medians {:.1} %",
        ceiling.rate(),
        ceiling.percentile(0.99),
        measured.rate(),
        measured.percentile(0.99),
        100.0 * measured.rate() / ceiling.rate()
    );
    let stats = emulator.stats();
    println!(
        "emulator stats: {} status requests answered 200",
        stats.requests_with(happyhorse_emulator::Endpoint::Status, "200")
    );
    server.block_on(emulator.shutdown());
    Ok(())
}

async fn one_request(
    addr: SocketAddr,
    request: Request<Full<Bytes>>,
) -> anyhow::Result<serde_json::Value> {
    let stream = TcpStream::connect(addr).await?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    let response = sender.send_request(request).await?;
    anyhow::ensure!(response.status() == 200, "HTTP {}", response.status());
    let body = response.into_body().collect().await?.to_bytes();
    Ok(serde_json::from_slice(&body)?)
}
