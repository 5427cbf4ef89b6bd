//! Connection flood: the emulator's memory (RSS) idle, at the peak of `--connections` idle TCP
//! connections, and after they are gone — with the default connection limit and with none.
//!
//! ```text
//! cargo build --release -p happyhorse-emulator --example flood
//! target/release/examples/flood [--connections 10000] [--json]
//! ```
//!
//! Each configuration runs the emulator in a child process of its own (`flood --serve MAX`),
//! so its RSS is the emulator's alone, read from `/proc/PID/status`. The idle figure (after 200
//! requests) is the baseline. Idle connections send nothing; the client gives each connect 3 s
//! (past the kernel's backlog, connects wait or time out: that is the limit at work). After the
//! flood the client closes everything, waits until the emulator's stats show no open connection,
//! lets 2 s pass and reads the RSS again, then checks 200 more requests are served.
//!
//! The process needs about `--connections` + 100 file descriptors (`ulimit -n`).
//! `--json` prints one object last: `{"connections", "configs": [{"label", "max_connections",
//! "connected", "idle_mib", "peak_mib", "after_mib", "served_after"}]}`.

use std::io::{BufRead as _, BufReader, Write as _};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use happyhorse_emulator::{DEFAULT_MAX_CONNECTIONS, Emulator};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let mut connections = 10_000usize;
    let mut json = false;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--serve" => {
                let max: usize = args.next().context("--serve needs MAX")?.parse()?;
                return serve(max);
            }
            "--connections" => connections = args.next().context("a number")?.parse()?,
            "--json" => json = true,
            other => bail!("unknown argument {other:?}"),
        }
    }
    let open_files = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|limits| {
            let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
            line.split_whitespace().nth(3)?.parse::<usize>().ok()
        });
    if let Some(limit) = open_files {
        ensure!(
            limit >= connections + 200,
            "{connections} connections need about {} open files, the limit is {limit} (ulimit -n)",
            connections + 200
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let mut configs = Vec::new();
    for (label, max) in [
        ("default limit", DEFAULT_MAX_CONNECTIONS),
        ("no limit (1,000,000)", 1_000_000),
    ] {
        let row = runtime.block_on(flood(label, max, connections))?;
        eprintln!("{row}");
        configs.push(row);
    }
    if json {
        println!(
            "{}",
            serde_json::json!({"connections": connections, "configs": configs})
        );
    }
    Ok(())
}

/// Child mode: an emulator with `max` connections, its address on stdout, until stdin closes.
fn serve(max: usize) -> Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let emulator = Emulator::builder().max_connections(max).start().await?;
        println!("{}", emulator.addr());
        std::io::stdout().flush()?;
        tokio::task::spawn_blocking(|| {
            let mut sink = String::new();
            while std::io::stdin().read_line(&mut sink).is_ok_and(|n| n > 0) {}
        })
        .await?;
        emulator.shutdown().await;
        Ok(())
    })
}

struct Server {
    child: Child,
    addr: String,
}

impl Server {
    fn start(max: usize) -> Result<Self> {
        let mut child = Command::new(std::env::current_exe()?)
            .args(["--serve", &max.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().context("no stdout")?).read_line(&mut line)?;
        ensure!(!line.trim().is_empty(), "the emulator did not start");
        Ok(Self {
            child,
            addr: line.trim().to_owned(),
        })
    }

    /// Resident memory in MiB (`VmRSS`), or the peak so far (`VmHWM`).
    fn memory_mib(&self, field: &str) -> Result<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        let kib: f64 = status
            .lines()
            .find_map(|l| {
                l.strip_prefix(field)?
                    .trim()
                    .strip_suffix("kB")?
                    .trim()
                    .parse()
                    .ok()
            })
            .with_context(|| format!("no {field} in /proc/PID/status"))?;
        Ok(kib / 1024.0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

/// One request on its own connection; the body of the answer.
async fn get(addr: &str, path: &str) -> Result<String> {
    let mut stream = TcpStream::connect(addr).await?;
    let request = format!("GET {path} HTTP/1.1\r\nhost: flood\r\nconnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await?;
    let text = String::from_utf8_lossy(&answer).into_owned();
    ensure!(
        text.starts_with("HTTP/1.1 200"),
        "unexpected answer: {text:.80}"
    );
    Ok(text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default())
}

async fn requests(addr: &str, count: usize) -> usize {
    let mut served = 0;
    for _ in 0..count {
        served += usize::from(get(addr, "/__emulator/stats").await.is_ok());
    }
    served
}

async fn flood(label: &str, max: usize, count: usize) -> Result<serde_json::Value> {
    let server = Server::start(max)?;
    let addr = server.addr.clone();
    ensure!(
        requests(&addr, 200).await == 200,
        "the emulator does not answer"
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle = server.memory_mib("VmRSS:")?;

    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..count {
        let addr = addr.clone();
        tasks.spawn(async move {
            tokio::time::timeout(Duration::from_secs(3), TcpStream::connect(addr))
                .await
                .ok()
                .and_then(Result::ok)
        });
    }
    let mut held = Vec::new();
    while let Some(done) = tasks.join_next().await {
        if let Some(stream) = done? {
            held.push(stream);
        }
    }
    // Let the emulator take what it will take.
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(2) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let connected = held.len();
    drop(held);

    let drained = Instant::now();
    loop {
        let stats: serde_json::Value =
            serde_json::from_str(&get(&addr, "/__emulator/stats").await?)?;
        // The stats request itself is the one connection left open.
        if stats["connections"]["open"].as_u64() <= Some(1) {
            break;
        }
        ensure!(
            drained.elapsed() < Duration::from_secs(120),
            "connections never closed"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = server.memory_mib("VmRSS:")?;
    // The high-water mark covers the flood and the draining of the backlog after it.
    let peak = server.memory_mib("VmHWM:")?;
    let served_after = requests(&addr, 200).await;
    Ok(serde_json::json!({
        "label": label,
        "max_connections": max,
        "connected": connected,
        "idle_mib": idle,
        "peak_mib": peak,
        "after_mib": after,
        "served_after": served_after,
    }))
}
