//! Image checks: core's structural walk against a bounded decode with the `image` crate, per
//! image of about 10 MB, both against the time of reading the file (the baseline), by
//! `xtask/examples/image_check.rs`.

use anyhow::{Context, Result};
use serde::Deserialize;

use super::table::{Table, ms, ratio, thousands};
use super::{Ctx, Section};

pub(crate) const TITLE: &str = "Image checks (happyhorse-core)";

#[derive(Debug, Deserialize)]
struct Report {
    runs: u64,
    images: Vec<Row>,
}

#[derive(Debug, Deserialize)]
struct Row {
    format: String,
    bytes: u64,
    width: u64,
    height: u64,
    read_ms: f64,
    walk_ms: f64,
    decode_ms: f64,
}

const PROSE: &str = "\
Each accepted image is checked for what it is, not what its header claims (issue 14). Two ways \
were measured: core's **structural walk** (`check_image_bytes`: PNG chunks to `IEND` with their \
CRC-32s, JPEG segments and scans to `EOI`, WEBP RIFF sizes and frame header, plus a floor on the \
data the declared size needs) and a **bounded decode** with the `image` crate 0.25 (PNG, \
zune-jpeg, image-webp; limits 16384 px per side, 512 MiB). The baseline is reading the same \
file from the page cache with `std::fs::read`, which every check has to do first anyway.
The images are made by the benchmark: a noisy gradient, sized so each file is just under \
10,000,000 bytes (the limit). Medians of the runs; the machine is shared with other builds, so \
compare the ratios, not the milliseconds.";

pub(crate) fn run(ctx: &mut Ctx<'_>) -> Result<Section> {
    let mut section = Section::new(TITLE);
    section.command(ctx.ws.build_extra(&[
        "-p",
        "xtask",
        "--features",
        "image-bench",
        "--example",
        "image_check",
    ])?);
    let program = ctx.ws.release("examples/image_check");
    let args: Vec<String> = ["--runs", ctx.pick("15", "5"), "--json"]
        .map(String::from)
        .to_vec();
    section.command(ctx.ws.command_line(&program, &args));
    let report: Report = serde_json::from_value(ctx.ws.run_json(&program, &args)?)
        .context("reading image_check's JSON")?;
    section.text(PROSE);
    section.text(format!("{} runs per figure:", report.runs));
    let mut table = Table::new(&[
        "format",
        "image",
        "bytes",
        "read (baseline)",
        "structural walk",
        "walk / read",
        "decode",
        "decode / read",
    ]);
    for row in &report.images {
        table.row([
            row.format.clone(),
            format!("{} × {}", row.width, row.height),
            thousands(row.bytes as f64),
            ms(row.read_ms),
            ms(row.walk_ms),
            ratio(row.walk_ms, row.read_ms),
            ms(row.decode_ms),
            ratio(row.decode_ms, row.read_ms),
        ]);
    }
    section.table(&table);
    let worst_walk = report
        .images
        .iter()
        .map(|r| r.walk_ms / r.read_ms)
        .fold(0.0, f64::max);
    let least_decode = report
        .images
        .iter()
        .map(|r| r.decode_ms / r.read_ms)
        .fold(f64::INFINITY, f64::min);
    section.text(format!(
        "**Decision: the structural walk.** At most {} the time of reading the file, where a \
         decode costs at least {} (and allocates the whole bitmap). The walk catches what issue 14 \
         found (truncated files, headers without data, sizes the data cannot hold, damaged \
         chunks); what it cannot see — well-framed but garbled pixel data — is left to the \
         service (`docs/reliability.md`, \"Known not handled\").",
        ratio(worst_walk, 1.0),
        ratio(least_decode, 1.0),
    ));
    Ok(section)
}
