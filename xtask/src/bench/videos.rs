//! Video checks: a 100 MB local video for video-edit's `video_url`, measured by the library's
//! pipeline (every rule, through seeks), against reading the file once (the baseline) and against
//! `mp4parse` reading the whole file, by `crates/happyhorse-http/examples/bench_video.rs`.

use anyhow::{Context, Result};
use serde::Deserialize;

use super::table::{Table, ms, ratio, thousands};
use super::{Ctx, Section};

pub(crate) const TITLE: &str = "Video checks (happyhorse-core, happyhorse-http)";

#[derive(Debug, Deserialize)]
struct Report {
    runs: u64,
    bytes: u64,
    read_ms: f64,
    validate_ms: f64,
    naive_ms: f64,
    probe_bytes_read: u64,
}

const PROSE: &str = "\
A local video for video-edit is checked before anything is paid (issue 17): container and codec \
by content, duration, sides, aspect ratio, size and frame rate. Nothing is decoded: core walks \
the top-level boxes by their headers (seeking over the media data), reads the `moov` box and \
hands it to Mozilla's `mp4parse`. The file is made by the benchmark: `examples/horse.mp4` \
rewritten as `ftyp`, a 100 MB `mdat`, then the `moov` — the layout where the check must skip \
the most — exactly 100,000,000 bytes, video-edit's limit. **Validate** is the library's whole \
pipeline (`MediaSource::into_value_for_blocking` for `video_url`: every rule passes, then the \
48 MB inline limit refuses it, as the CLI's `validate` does). The baseline is reading the file \
once with `std::fs::read` from the page cache; **mp4parse, whole file** is the parser reading \
the file front to back (it skips the media data by reading it). Medians; the machine is shared \
with other builds, so compare the ratios, not the milliseconds.";

pub(crate) fn run(ctx: &mut Ctx<'_>) -> Result<Section> {
    let mut section = Section::new(TITLE);
    section.command(
        ctx.ws
            .build(&["-p", "happyhorse-http", "--example", "bench_video"])?,
    );
    let program = ctx.ws.release("examples/bench_video");
    let args: Vec<String> = ["--runs", ctx.pick("15", "5"), "--json"]
        .map(String::from)
        .to_vec();
    section.command(ctx.ws.command_line(&program, &args));
    let report: Report = serde_json::from_value(ctx.ws.run_json(&program, &args)?)
        .context("reading bench_video's JSON")?;
    section.text(PROSE);
    section.text(format!(
        "{} runs per figure, one file of {} bytes:",
        report.runs,
        thousands(report.bytes as f64)
    ));
    let mut table = Table::new(&["", "time", "/ read", "bytes read"]);
    table.row([
        "read the file (baseline)".to_owned(),
        ms(report.read_ms),
        "1×".to_owned(),
        thousands(report.bytes as f64),
    ]);
    table.row([
        "validate (every rule)".to_owned(),
        ms(report.validate_ms),
        fraction(report.validate_ms, report.read_ms),
        thousands(report.probe_bytes_read as f64),
    ]);
    table.row([
        "mp4parse, whole file".to_owned(),
        ms(report.naive_ms),
        ratio(report.naive_ms, report.read_ms),
        thousands(report.bytes as f64),
    ]);
    section.table(&table);
    section.text(format!(
        "**Result:** checking the 100 MB video reads {} bytes of it and takes {} the time of \
         reading it once (target: well under 1×). Sending it inline would need the whole file and \
         a 133 MB request, over the 64 MiB limit: the check refuses it with what to do instead \
         (host it, pass its https:// URL).",
        thousands(report.probe_bytes_read as f64),
        fraction(report.validate_ms, report.read_ms),
    ));
    Ok(section)
}

/// A ratio far below 1 as a fraction: `1/9,100×`.
fn fraction(ours: f64, baseline: f64) -> String {
    let r = ours / baseline;
    if r.is_finite() && r > 0.0 && r < 0.01 {
        format!("1/{}×", thousands(1.0 / r))
    } else {
        ratio(ours, baseline)
    }
}
