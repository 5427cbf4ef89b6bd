//! Many concurrent jobs through one [`Client`], as its own process so its CPU time and peak
//! memory can be read alone (the emulator runs elsewhere). Used by `bench_report`; runnable by hand
//! against a running emulator:
//!
//! ```text
//! cargo run --release -p happyhorse-http --example bench_jobs -- BASE_URL TOKEN JOBS POLL_MS
//! ```
//!
//! Every job is submitted at once, polled with `PollPolicy::fixed(POLL_MS)` until it ends, and its
//! result read (no download). Prints one line:
//! `jobs=<n> succeeded=<n> wall_s=<s> work_cpu_s=<s>`, where `work_cpu_s` is this process's
//! user+system CPU from the first submit to the last result (start-up excluded).

use std::time::{Duration, Instant};

use happyhorse_http::{Client, PollPolicy};
use happyhorse_types::image_to_video::{ImageToVideo, ImageToVideoInput};
use tokio::task::JoinSet;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [base_url, token, jobs, poll_ms] = args.as_slice() else {
        return Err("usage: bench_jobs BASE_URL TOKEN JOBS POLL_MS".into());
    };
    let jobs: usize = jobs.parse()?;
    let poll = Duration::from_millis(poll_ms.parse()?);
    let client = Client::builder()
        .token(token.as_str())
        .base_url(base_url.as_str())
        .poll_policy(PollPolicy::fixed(poll))
        .build()?;

    let cpu_before = process_cpu_seconds()?;
    let started = Instant::now();
    let mut tasks = JoinSet::new();
    for n in 0..jobs {
        let client = client.clone();
        tasks.spawn(async move {
            let input = ImageToVideoInput::new(
                "https://example.com/horse.webp",
                format!("benchmark job {n}: the horse trots towards the camera"),
            );
            client.run::<ImageToVideo>(&input).await
        });
    }
    let mut succeeded = 0;
    let mut first_error = None;
    while let Some(joined) = tasks.join_next().await {
        match joined? {
            Ok(_) => succeeded += 1,
            Err(err) => {
                first_error.get_or_insert(err);
            }
        }
    }
    let wall = started.elapsed().as_secs_f64();
    let cpu = process_cpu_seconds()? - cpu_before;
    println!("jobs={jobs} succeeded={succeeded} wall_s={wall:.4} work_cpu_s={cpu:.3}");
    if let Some(err) = first_error {
        eprintln!("first failure: {err}");
    }
    Ok(())
}

/// This process's user+system CPU time, all threads, from `/proc/self/stat` (Linux; 10 ms ticks).
fn process_cpu_seconds() -> Result<f64, Box<dyn std::error::Error>> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    // Fields after the parenthesised command name, which may itself contain spaces.
    let rest = stat.rsplit_once(')').ok_or("unexpected /proc/self/stat")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line; field 3 (the state) is index 0 here.
    let ticks: u64 = fields.get(11).ok_or("no utime")?.parse::<u64>()?
        + fields.get(12).ok_or("no stime")?.parse::<u64>()?;
    // USER_HZ is 100 on every Linux ABI /proc reports in.
    Ok(ticks as f64 / 100.0)
}
