//! The preview benchmark: renders image-to-video previews of `examples/horse.png` (or `--image`)
//! and reports, per case, wall-clock and CPU time, how long the clip plays, and the MP4's size.
//!
//! ```sh
//! cargo run --release -p happyhorse-preview --example render -- [--quick] [--image PATH] [--save DIR] [--json]
//! ```
//!
//! `--save DIR` keeps each MP4 (`DIR/720P-5s.mp4`, …) for a look with a player or ffprobe.
//!
//! Cases: 5 s at 720P (the issue's promise: ready within the emulated job) and 15 s at 1080P
//! (the worst case); `--quick` renders 3 s at 720P and 3 s at 1080P instead.

use std::time::{Duration, Instant};

use happyhorse_preview::{PreviewSettings, Resolution};
use serde_json::json;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick");
    let as_json = args.iter().any(|a| a == "--json");
    let image_path = args
        .iter()
        .position(|a| a == "--image")
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/horse.png").into());
    let save = args
        .iter()
        .position(|a| a == "--save")
        .and_then(|i| args.get(i + 1).cloned());
    let image = std::fs::read(&image_path)?;
    let cases: &[(Resolution, u32)] = if quick {
        &[(Resolution::P720, 3), (Resolution::P1080, 3)]
    } else {
        &[(Resolution::P720, 5), (Resolution::P1080, 15)]
    };
    let mut results = Vec::new();
    for &(resolution, seconds) in cases {
        let settings = PreviewSettings {
            resolution,
            seconds,
            seed: 1,
        };
        let (cpu_before, started) = (cpu_time()?, Instant::now());
        let preview = happyhorse_preview::image_to_video(&image, &settings)?;
        let (wall, cpu) = (started.elapsed(), cpu_time()? - cpu_before);
        let case = json!({
            "resolution": resolution.as_str(),
            "seconds": seconds,
            "width": preview.width,
            "height": preview.height,
            "frames": preview.frames,
            "wall_s": wall.as_secs_f64(),
            "cpu_s": cpu.as_secs_f64(),
            "realtime_factor": f64::from(seconds) / cpu.as_secs_f64(),
            "mp4_bytes": preview.mp4.len(),
        });
        if !as_json {
            eprintln!(
                "{} {seconds} s: {}x{}, {} frames, wall {:.1} s, CPU {:.1} s ({:.2} frames/s of CPU), {} bytes",
                resolution.as_str(),
                preview.width,
                preview.height,
                preview.frames,
                wall.as_secs_f64(),
                cpu.as_secs_f64(),
                f64::from(preview.frames) / cpu.as_secs_f64(),
                preview.mp4.len()
            );
        }
        if let Some(dir) = &save {
            let path =
                std::path::Path::new(dir).join(format!("{}-{seconds}s.mp4", resolution.as_str()));
            std::fs::write(&path, &preview.mp4)?;
        }
        results.push(case);
    }
    println!("{}", json!({ "cases": results }));
    Ok(())
}

/// This process's user+system CPU time, all threads, from `/proc/self/stat` (Linux; 10 ms ticks).
fn cpu_time() -> Result<Duration, Box<dyn std::error::Error>> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    let rest = stat.rsplit_once(')').ok_or("unexpected /proc/self/stat")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line; field 3 (the state) is index 0 here.
    let ticks: u64 = fields.get(11).ok_or("no utime")?.parse::<u64>()?
        + fields.get(12).ok_or("no stime")?.parse::<u64>()?;
    Ok(Duration::from_millis(ticks * 10))
}
