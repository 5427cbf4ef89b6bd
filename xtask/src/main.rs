//! Project automation, reached as `cargo xtask <command>` through the alias in `.cargo/config.toml`.
//!
//! Commands:
//! - `codegen [--check]` — regenerate `crates/happyhorse-types/src/generated/` from `schemas/`;
//!   with `--check`, change nothing and fail if any generated file is stale.
//! - `render-fixtures` — re-render `examples/horse.png` and the emulator's `fixtures/horse.mp4`
//!   (needs `--features render`, which builds OpenH264: it stays out of default builds because a
//!   from-source build carries no patent licence).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod codegen;
#[cfg(feature = "render")]
mod render;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  codegen [--check]   regenerate crates/happyhorse-types/src/generated from schemas/
                      (--check: change nothing, exit 1 if anything is stale)
  render-fixtures     re-render examples/horse.png and the emulator's horse.mp4
                      (run as: cargo run -p xtask --features render -- render-fixtures)
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["codegen"] => codegen::run(&workspace_root(), codegen::Mode::Write),
        ["codegen", "--check"] => codegen::run(&workspace_root(), codegen::Mode::Check),
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
