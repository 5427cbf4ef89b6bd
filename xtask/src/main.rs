//! Project automation, reached as `cargo xtask <command>` through the alias in `.cargo/config.toml`.
//!
//! Commands:
//! - `codegen [--check]` — regenerate `crates/happyhorse-types/src/generated/` from `schemas/`;
//!   with `--check`, change nothing and fail if any generated file is stale.
//! - `bench [--quick] [--only NAME[,NAME]] [--no-write]` — build and run every benchmark with its
//!   baseline and rewrite `docs/benchmarks.md` from the results (see `bench.rs`).
//! - `soak [--jobs N] [--seed S]` — the fault soak through `happyhorse batch` at full size (1,000
//!   jobs; 100 run in every `cargo test`), printing its table (see `soak.rs`).
//! - `render-fixtures` — re-render `examples/horse.png` and the emulator's `fixtures/horse.mp4`
//!   (needs `--features render`, which builds OpenH264: it stays out of default builds because a
//!   from-source build carries no patent licence).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod bench;
mod codegen;
#[cfg(feature = "render")]
mod render;
mod soak;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  codegen [--check]   regenerate crates/happyhorse-types/src/generated from schemas/
                      (--check: change nothing, exit 1 if anything is stale)
  bench [--quick] [--only NAME[,NAME]] [--no-write]
                      build and run every benchmark with its baseline, print one table per
                      benchmark and rewrite docs/benchmarks.md (only when all of them ran);
                      --quick: smaller parameters (a few minutes on 2 cores);
                      names: poll, load, cli, download, jobs, batch, images, flood
  soak [--jobs N] [--seed S]
                      the fault soak: N jobs (default 1000) through `happyhorse batch` with about
                      20 % of requests faulted and 5 % model failures; prints its table
  render-fixtures     re-render examples/horse.png and the emulator's horse.mp4
                      (run as: cargo run -p xtask --features render -- render-fixtures)
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["codegen"] => codegen::run(&workspace_root(), codegen::Mode::Write),
        ["codegen", "--check"] => codegen::run(&workspace_root(), codegen::Mode::Check),
        ["bench", rest @ ..] => {
            bench::parse_args(rest).and_then(|options| bench::run(&workspace_root(), &options))
        }
        ["soak", rest @ ..] => {
            soak::parse_args(rest).and_then(|options| soak::run(&workspace_root(), &options))
        }
        ["render-fixtures"] => render_fixtures(),
        ["help" | "--help" | "-h"] => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => {
            eprint!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root: xtask always lives one level below it.
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits inside the workspace")
        .to_path_buf()
}

#[cfg(feature = "render")]
fn render_fixtures() -> anyhow::Result<()> {
    render::render_fixtures(&workspace_root())
}

#[cfg(not(feature = "render"))]
fn render_fixtures() -> anyhow::Result<()> {
    anyhow::bail!(
        "the renderer is not built by default (it uses OpenH264); run: cargo run -p xtask --features render -- render-fixtures"
    )
}
