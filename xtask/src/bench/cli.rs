//! The CLI's cold start against spawning `/bin/true`
//! (`crates/happyhorse-cli/benches/cold_start.py`), and its release binary's size against an
//! empty program built with the same settings.

use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, ensure};
use serde::Deserialize;

use super::table::{Table, ratio, thousands};
use super::tools::Tool;
use super::{Ctx, Section};

pub(crate) const TITLE: &str = "CLI cold start and size (happyhorse-cli)";

#[derive(Debug, Deserialize)]
struct Report {
    runs: u64,
    rows: Vec<Row>,
    binary: Binary,
}

#[derive(Debug, Deserialize)]
struct Row {
    command: String,
    median_ms: f64,
    p90_ms: f64,
    minus_baseline_ms: f64,
}

#[derive(Debug, Deserialize)]
struct Binary {
    bytes: u64,
}

pub(crate) fn run(ctx: &mut Ctx<'_>) -> Result<Section> {
    let mut section = Section::new(TITLE);
    let python = match ctx.tools.require(Tool::Python) {
        Ok(python) => python,
        Err(skipped) => {
            section.skip(&skipped);
            return Ok(section);
        }
    };
    section.command(
        ctx.ws
            .build(&["-p", "happyhorse-cli", "--bin", "happyhorse"])?,
    );
    let binary = ctx.ws.release("happyhorse");
    let script = ctx
        .ws
        .root
        .join("crates/happyhorse-cli/benches/cold_start.py");
    let runs = ctx.pick("50", "20");
    let args = vec![
        script.display().to_string(),
        "--json".into(),
        binary.display().to_string(),
        runs.into(),
    ];
    section.command(ctx.ws.command_line(Path::new("python3"), &args));
    let report: Report = serde_json::from_value(ctx.ws.run_json(Path::new("python3"), &args)?)
        .context("reading cold_start.py's JSON")?;

    section.text(format!(
        "Wall time from spawn to exit, median of {} runs after 3 warm-up runs ({python}'s \
         `subprocess.run`), with spawning `/bin/true` measured in the same run as the baseline.",
        report.runs
    ));
    section.table(&cold_start_table(&report.rows)?);
    section.text(
        "`validate` compiles the embedded JSON Schema into a validator and checks the input; \
         that is most of what it adds over `--version`.",
    );

    let floor = empty_binary(ctx)?;
    section.command(
        "rustc --edition 2024 -C opt-level=3 -C codegen-units=4 -C lto=thin -C strip=symbols \
         -o EMPTY EMPTY.rs   # EMPTY.rs: fn main() {}",
    );
    let mut table = Table::new(&["binary", "bytes", "MiB", "vs empty program"]);
    for (name, bytes) in [
        ("`fn main() {}`, same settings (baseline)", floor),
        (
            "`happyhorse` (release: stripped, thin LTO)",
            report.binary.bytes,
        ),
    ] {
        table.row([
            name.to_owned(),
            thousands(bytes as f64),
            format!("{:.1}", bytes as f64 / f64::from(1 << 20)),
            ratio(bytes as f64, floor as f64),
        ]);
    }
    section.text(
        "Size of the release binary, against the floor any Rust binary built with the same \
         settings pays (the standard library's share). `happyhorse` includes the emulator, for \
         `--emulator`.",
    );
    section.table(&table);
    Ok(section)
}

fn cold_start_table(rows: &[Row]) -> Result<Table> {
    let baseline = rows.first().context("cold_start.py reported no rows")?;
    let mut table = Table::new(&["command", "median", "p90", "minus baseline", "vs baseline"]);
    for row in rows {
        table.row([
            format!("`{}`", row.command),
            format!("{:.2} ms", row.median_ms),
            format!("{:.2} ms", row.p90_ms),
            format!("{:+.2} ms", row.minus_baseline_ms),
            ratio(row.median_ms, baseline.median_ms),
        ]);
    }
    Ok(table)
}

/// The size of `fn main() {}` built with the release profile's settings.
fn empty_binary(ctx: &Ctx<'_>) -> Result<u64> {
    let dir = ctx.ws.target.join("xtask-bench");
    std::fs::create_dir_all(&dir)?;
    let (source, output) = (dir.join("empty.rs"), dir.join("empty"));
    std::fs::write(&source, "fn main() {}\n")?;
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let status = Command::new(rustc)
        .args([
            "--edition",
            "2024",
            "-C",
            "opt-level=3",
            "-C",
            "codegen-units=4",
        ])
        .args(["-C", "lto=thin", "-C", "strip=symbols", "-o"])
        .arg(&output)
        .arg(&source)
        .stdin(Stdio::null())
        .status()
        .context("running rustc")?;
    ensure!(status.success(), "rustc failed to build an empty program");
    Ok(std::fs::metadata(&output)?.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cold_start_rows_are_compared_with_the_first_row() {
        let report: Report = serde_json::from_value(serde_json::json!({
            "runs": 50, "cores": 2,
            "rows": [
                {"command": "/bin/true (baseline)", "median_ms": 0.5, "p90_ms": 0.7, "minus_baseline_ms": 0.0},
                {"command": "happyhorse --version", "median_ms": 1.5, "p90_ms": 1.7, "minus_baseline_ms": 1.0}
            ],
            "binary": {"path": "target/release/happyhorse", "bytes": 14053088u64}
        }))
        .unwrap();
        let table = cold_start_table(&report.rows).unwrap().to_markdown();
        assert!(
            table.contains("| `happyhorse --version` | 1.50 ms | 1.70 ms | +1.00 ms | 3.00× |"),
            "{table}"
        );
        assert!(
            table.contains("| `/bin/true (baseline)` | 0.50 ms | 0.70 ms | +0.00 ms | 1.00× |")
        );
        assert!(cold_start_table(&[]).is_err());
    }
}
