//! `cargo xtask soak [--jobs N] [--seed S]`: the fault soak at full size.
//!
//! The soak itself is one test of the CLI crate (`crates/happyhorse-cli/tests/cases/soak.rs`),
//! which runs 100 jobs in every `cargo test`; this command runs the same test with 1,000 jobs
//! (or `--jobs`) and shows its table. One implementation, so the CI version and the full one
//! can never drift apart.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, bail};

const TEST: &str = "cases::soak::soak_every_fault_kind_and_model_failures";

/// Options of `cargo xtask soak`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Options {
    pub(crate) jobs: u64,
    pub(crate) seed: u64,
}

pub(crate) fn parse_args(args: &[&str]) -> anyhow::Result<Options> {
    let mut options = Options {
        jobs: 1000,
        seed: 1,
    };
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        let mut value = || -> anyhow::Result<u64> {
            let text = args
                .next()
                .with_context(|| format!("{flag} needs a number"))?;
            text.parse()
                .with_context(|| format!("{flag}: not a number: {text:?}"))
        };
        match *flag {
            "--jobs" => options.jobs = value()?,
            "--seed" => options.seed = value()?,
            other => bail!("soak: unknown argument {other:?} (expected --jobs N, --seed S)"),
        }
    }
    if options.jobs == 0 {
        bail!("--jobs must be at least 1");
    }
    Ok(options)
}

pub(crate) fn run(root: &Path, options: &Options) -> anyhow::Result<()> {
    eprintln!(
        "fault soak: {} jobs, seed {} (building the CLI's tests first)",
        options.jobs, options.seed
    );
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(root)
        .args([
            "test",
            "-p",
            "happyhorse-cli",
            "--test",
            "tests",
            "--",
            TEST,
            "--exact",
            "--nocapture",
        ])
        .env("HAPPYHORSE_SOAK_JOBS", options.jobs.to_string())
        .env("HAPPYHORSE_SOAK_SEED", options.seed.to_string())
        .status()
        .context("running cargo test")?;
    if !status.success() {
        bail!("the soak failed ({status}); its assertion is printed above");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_parse() {
        assert_eq!(
            parse_args(&[]).unwrap(),
            Options {
                jobs: 1000,
                seed: 1
            }
        );
        assert_eq!(
            parse_args(&["--jobs", "50", "--seed", "9"]).unwrap(),
            Options { jobs: 50, seed: 9 }
        );
        assert!(parse_args(&["--jobs"]).is_err());
        assert!(parse_args(&["--jobs", "0"]).is_err());
        assert!(parse_args(&["--fast"]).is_err());
    }
}
