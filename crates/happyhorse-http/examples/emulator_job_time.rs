//! How long a job takes end to end against an in-process emulator — with the client
//! `Client::for_emulator` gives (the emulator's own poll schedule) and, as the baseline, with the
//! default poll schedule (tuned for real jobs of minutes) — measured in the same run:
//!
//! ```text
//! cargo run --release -p happyhorse-http --example emulator_job_time -- [JOBS]
//! ```
//!
//! Each job runs exactly 1.5 s of real time at the emulator (150 simulated seconds at scale 100,
//! inside the 0.6–1.8 s of the quick start's emulator);
//! the `JOBS` jobs (default 5) of each client run at once. Prints the emulator's job time and each
//! client's median and slowest wall time from submit to result.

use std::time::{Duration, Instant};

use happyhorse_http::emulator::{Emulator, ProcessingTime, RunningEmulator};
use happyhorse_http::prelude::*;
use happyhorse_http::types::image_to_video::{ImageToVideo, ImageToVideoInput};

const JOB_TIME: Duration = Duration::from_millis(1500);

async fn wall_times(client: &Client, jobs: usize) -> Result<Vec<Duration>, Error> {
    let runs = (0..jobs).map(|i| {
        let client = client.clone();
        async move {
            let input =
                ImageToVideoInput::new("https://example.com/horse.png", format!("horse {i}"));
            let started = Instant::now();
            client.run::<ImageToVideo>(&input).await?;
            Ok::<_, Error>(started.elapsed())
        }
    });
    let mut times = futures_join(runs).await?;
    times.sort();
    Ok(times)
}

/// Runs the futures concurrently, in order.
async fn futures_join<F, T>(runs: impl Iterator<Item = F>) -> Result<Vec<T>, Error>
where
    F: std::future::Future<Output = Result<T, Error>> + Send + 'static,
    T: Send + 'static,
{
    let handles: Vec<_> = runs.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for handle in handles {
        out.push(handle.await.expect("a job task panicked")?);
    }
    Ok(out)
}

fn line(name: &str, times: &[Duration]) {
    let median = times[times.len() / 2];
    let slowest = times[times.len() - 1];
    println!(
        "{name:<40} median {:>6.2} s  slowest {:>6.2} s  ({:.1}× the job time)",
        median.as_secs_f64(),
        slowest.as_secs_f64(),
        median.as_secs_f64() / JOB_TIME.as_secs_f64()
    );
}

async fn emulator() -> Result<RunningEmulator, Box<dyn std::error::Error>> {
    Ok(Emulator::builder()
        .processing_time(ProcessingTime::Fixed(JOB_TIME * 100))
        .time_scale(100.0)
        .workers(64)
        .start()
        .await?)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let jobs: usize = std::env::args().nth(1).map_or(Ok(5), |n| n.parse())?;
    let emulator = emulator().await?;
    println!(
        "emulator job time {:.2} s; its poll interval {:?}; {jobs} jobs at once per client",
        JOB_TIME.as_secs_f64(),
        emulator.poll_interval()
    );
    let fit = Client::for_emulator(&emulator)?;
    line("Client::for_emulator", &wall_times(&fit, jobs).await?);
    let default = ClientBuilder::for_emulator(&emulator)
        .poll_policy(PollPolicy::default())
        .build()?;
    line(
        "default poll schedule (baseline)",
        &wall_times(&default, jobs).await?,
    );
    emulator.shutdown().await;
    Ok(())
}
