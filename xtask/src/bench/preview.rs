//! Offline previews: how long `happyhorse-preview` takes to render an image-to-video preview of
//! the example photo (`crates/happyhorse-preview/examples/render.rs`), against the emulated job
//! it must be ready within.

use anyhow::{Context, Result};
use serde::Deserialize;

use super::table::{Table, mib, ratio, secs};
use super::{Ctx, Section};

pub(crate) const TITLE: &str = "Offline previews (happyhorse-preview)";

const PROSE: &str = "\
Image-to-video previews of `examples/horse.png` (1024×640): decode, frame, camera drift, AV1 \
encode (rav1e at speed 10, no assembly, one thread) and MP4, in one process. CPU time is the \
process's user + system time (`/proc/self/stat`), the figure least disturbed by neighbours.
The baseline is the emulated job the preview must be ready within: the shortest job at the \
emulator's default time scale (60 s), and at `happyhorse run --emulator`'s (60 s ÷ 60 = 1 s), \
where the job waits for its preview instead.";

/// The shortest job of the default processing time (60–180 s), in real seconds at scale 1.
const SHORTEST_JOB_S: f64 = 60.0;
/// The same at `run --emulator`'s time scale of 60.
const SHORTEST_CLI_JOB_S: f64 = 1.0;

#[derive(Debug, Deserialize)]
struct Report {
    cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
struct Case {
    resolution: String,
    seconds: u32,
    width: u32,
    height: u32,
    frames: u32,
    wall_s: f64,
    cpu_s: f64,
    mp4_bytes: u64,
}

pub(crate) fn run(ctx: &mut Ctx<'_>) -> Result<Section> {
    let mut section = Section::new(TITLE);
    section.command(
        ctx.ws
            .build(&["-p", "happyhorse-preview", "--example", "render"])?,
    );
    let program = ctx.ws.release("examples/render");
    let mut args = vec!["--json".to_owned()];
    if ctx.quick {
        args.push("--quick".to_owned());
    }
    section.command(ctx.ws.command_line(&program, &args));
    let report: Report = serde_json::from_value(ctx.ws.run_json(&program, &args)?)
        .context("reading render's JSON")?;
    section.text(PROSE);
    let mut table = Table::new(&[
        "preview",
        "frame",
        "frames",
        "CPU",
        "wall",
        "frames/s (CPU)",
        "CPU vs 60 s job",
        "CPU vs 1 s job (`--emulator`)",
        "MP4",
    ]);
    for case in &report.cases {
        table.row([
            format!("{} s {}", case.seconds, case.resolution),
            format!("{}×{}", case.width, case.height),
            case.frames.to_string(),
            secs(case.cpu_s),
            secs(case.wall_s),
            format!("{:.1}", f64::from(case.frames) / case.cpu_s),
            ratio(case.cpu_s, SHORTEST_JOB_S),
            ratio(case.cpu_s, SHORTEST_CLI_JOB_S),
            mib(case.mp4_bytes as f64 / f64::from(1 << 20)),
        ]);
    }
    section.table(&table);
    if let Some(first) = report.cases.first() {
        section.text(format!(
            "Target: a 5 s 720P preview ready within the emulated job at the default time scale — \
             **{}** ({} of wall-clock time for {} s at {}, against a job of at least 60 s). \
             At `run --emulator`'s scale the job reads `in_progress` for that long instead of 1–3 s.",
            if first.wall_s < SHORTEST_JOB_S { "met" } else { "missed" },
            secs(first.wall_s),
            first.seconds,
            first.resolution
        ));
    }
    Ok(section)
}
