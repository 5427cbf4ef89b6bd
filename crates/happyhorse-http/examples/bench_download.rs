//! One download, as its own process so its CPU time and peak memory can be read alone (the
//! storage host runs elsewhere). Used by `bench_report`; runnable by hand:
//!
//! ```text
//! cargo run --release -p happyhorse-http --example bench_download -- [--connections N] URL DEST
//! ```
//!
//! Without `--connections`: [`Client::download`]. With `--connections N`: a parallel-range
//! download written here for measurement only (N `Range` requests over N connections, each
//! writing its part with positional writes, then one `fsync`); the library has no such mode
//! unless it wins, and `docs/benchmarks.md` says whether it did.
//!
//! Prints one line: `bytes=<n> wall_s=<seconds>` (the wall time of the download call alone,
//! runtime start-up excluded).

use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use happyhorse_http::{Client, DownloadOptions};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

#[tokio::main]
async fn main() -> Result<()> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut connections = 1;
    if args.first().map(String::as_str) == Some("--connections") {
        connections = args.get(1).ok_or("--connections needs a value")?.parse()?;
        args.drain(..2);
    }
    let [url, dest] = &args[..] else {
        return Err("usage: bench_download [--connections N] URL DEST".into());
    };
    let dest = PathBuf::from(dest);
    let started = Instant::now();
    let bytes = if connections > 1 {
        parallel(url, &dest, connections).await?
    } else {
        // No token: a download never needs one (and the download client never carries it).
        let client = Client::builder().build()?;
        client
            .download(url, &dest, DownloadOptions::default().resume(false))
            .await?
            .bytes
    };
    let wall = started.elapsed().as_secs_f64();
    println!("bytes={bytes} wall_s={wall:.4}");
    Ok(())
}

/// The parallel-range prototype: the size from a one-byte range, then `n` ranges at once.
async fn parallel(url: &str, dest: &Path, n: u64) -> Result<u64> {
    // Building a happyhorse client installs the TLS crypto provider reqwest needs.
    drop(Client::builder().build()?);
    let http = reqwest::Client::new();
    let probe = http
        .get(url)
        .header("range", "bytes=0-0")
        .send()
        .await?
        .error_for_status()?;
    let total: u64 = probe
        .headers()
        .get("content-range")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit('/').next())
        .and_then(|v| v.parse().ok())
        .ok_or("the host did not say the size")?;
    drop(probe);
    let file = std::fs::File::create(dest)?;
    file.set_len(total)?;
    let file = Arc::new(file);
    let part = total.div_ceil(n);
    let mut tasks = Vec::new();
    for i in 0..n {
        let (start, end) = (i * part, ((i + 1) * part).min(total));
        if start >= end {
            break;
        }
        let (http, url, file) = (http.clone(), url.to_owned(), file.clone());
        tasks.push(tokio::spawn(async move {
            fetch_range(&http, &url, &file, start, end).await
        }));
    }
    for task in tasks {
        task.await??;
    }
    let file = Arc::try_unwrap(file).map_err(|_| "a range task still holds the file")?;
    tokio::task::spawn_blocking(move || file.sync_all()).await??;
    Ok(total)
}

/// Bytes `start..end`, written at their place in 1 MiB batches on the blocking pool.
async fn fetch_range(
    http: &reqwest::Client,
    url: &str,
    file: &Arc<std::fs::File>,
    start: u64,
    end: u64,
) -> Result<()> {
    let mut response = http
        .get(url)
        .header("range", format!("bytes={start}-{}", end - 1))
        .send()
        .await?
        .error_for_status()?;
    let mut at = start;
    let mut batch = Vec::with_capacity(1 << 20);
    let mut pending: Option<tokio::task::JoinHandle<std::io::Result<()>>> = None;
    loop {
        let chunk = response.chunk().await?;
        if let Some(chunk) = &chunk {
            batch.extend_from_slice(chunk);
        }
        if batch.len() >= 1 << 20 || (chunk.is_none() && !batch.is_empty()) {
            if let Some(previous) = pending.take() {
                previous.await??;
            }
            let (file, data, offset) = (file.clone(), std::mem::take(&mut batch), at);
            at += data.len() as u64;
            pending = Some(tokio::task::spawn_blocking(move || {
                file.write_all_at(&data, offset)
            }));
        }
        if chunk.is_none() {
            break;
        }
    }
    if let Some(previous) = pending {
        previous.await??;
    }
    if at != end {
        return Err(format!("range {start}-{end} ended at {at}").into());
    }
    Ok(())
}
