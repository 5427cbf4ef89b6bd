//! One download with [`Client::download`], as its own process so its peak memory can be read
//! alone (the storage host runs elsewhere). Used by `bench_report`; runnable by hand:
//!
//! ```text
//! cargo run --release -p happyhorse-http --example bench_download -- URL DEST
//! ```
//!
//! Prints one line: `bytes=<n> wall_s=<seconds>` (the wall time of the download call alone,
//! runtime start-up excluded).

use std::path::PathBuf;
use std::time::Instant;

use happyhorse_http::{Client, DownloadOptions};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(url), Some(dest)) = (args.next(), args.next()) else {
        return Err("usage: bench_download URL DEST".into());
    };
    let dest = PathBuf::from(dest);
    // No token: a download never needs one (and the download client never carries it).
    let client = Client::builder().build()?;
    let started = Instant::now();
    let report = client
        .download(&url, &dest, DownloadOptions::default().resume(false))
        .await?;
    let wall = started.elapsed().as_secs_f64();
    println!("bytes={} wall_s={wall:.4}", report.bytes);
    Ok(())
}
