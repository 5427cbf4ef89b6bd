//! Connection flood: the emulator's RSS idle (the baseline), at the peak of 10,000 idle
//! connections, and after they are gone, with its default connection limit and with none
//! (`crates/happyhorse-emulator/examples/flood.rs`).

use anyhow::{Context, Result};
use serde::Deserialize;

use super::table::{Table, mib, ratio, thousands};
use super::{Ctx, Section};

pub(crate) const TITLE: &str = "Connection flood (happyhorse-emulator)";

#[derive(Debug, Deserialize)]
struct Report {
    connections: u64,
    configs: Vec<Row>,
}

#[derive(Debug, Deserialize)]
struct Row {
    label: String,
    connected: u64,
    idle_mib: f64,
    peak_mib: f64,
    after_mib: f64,
    served_after: u64,
}

const PROSE: &str = "\
Issue 14 found 10,000 idle connections taking the emulator from 14 MB to 169 MB, never given \
back. Here an emulator runs in a child process of its own, so its RSS (`/proc/PID/status`) is its \
alone; after 200 requests its idle RSS is the baseline. The client opens the connections at once \
and sends nothing (each connect may take 3 s: past the limit and the kernel's backlog, connects \
wait) and holds them 2 s. Then the client closes them all, waits until the stats show none \
open, lets 2 s pass and reads the RSS again (`after`); `peak` is the child's `VmHWM` then (the \
flood and the draining of the backlog after it); 200 more requests follow. Both configurations run in the same process, one after the other; the machine is \
shared, so memory figures are more stable than times.";

pub(crate) fn run(ctx: &mut Ctx<'_>) -> Result<Section> {
    let mut section = Section::new(TITLE);
    section.command(
        ctx.ws
            .build(&["-p", "happyhorse-emulator", "--example", "flood"])?,
    );
    let program = ctx.ws.release("examples/flood");
    let args: Vec<String> = ["--connections", ctx.pick("10000", "2000"), "--json"]
        .map(String::from)
        .to_vec();
    section.command(ctx.ws.command_line(&program, &args));
    let report: Report = serde_json::from_value(ctx.ws.run_json(&program, &args)?)
        .context("reading flood's JSON")?;
    section.text(PROSE);
    section.text(format!(
        "{} idle connections:",
        thousands(report.connections as f64)
    ));
    let mut table = Table::new(&[
        "configuration",
        "connected",
        "idle RSS (baseline)",
        "peak RSS",
        "peak / idle",
        "after RSS",
        "after / idle",
        "served after",
    ]);
    for row in &report.configs {
        table.row([
            row.label.clone(),
            thousands(row.connected as f64),
            mib(row.idle_mib),
            mib(row.peak_mib),
            ratio(row.peak_mib, row.idle_mib),
            mib(row.after_mib),
            ratio(row.after_mib, row.idle_mib),
            format!("{} of 200", row.served_after),
        ]);
    }
    section.table(&table);
    section.text(
        "The limit (`--max-connections`, default 1024, shared by the API and storage listeners) \
         bounds the peak; until its first byte an accepted connection costs only its socket \
         (hyper's buffers are allocated when data arrives), and a connection that sends no \
         complete header within `--header-read-timeout` (default 10 s) is closed.\n\
         What stays after the flood is the allocator's: glibc keeps the freed chunks for reuse \
         rather than returning them to the system; returning it would take `malloc_trim` (unsafe \
         FFI, which the workspace forbids) or another allocator.",
    );
    Ok(section)
}
