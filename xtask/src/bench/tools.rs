//! The outside tools the baselines need (curl, aria2c, wrk, GNU time, taskset, python3, httpx): probed,
//! installed when missing (Debian's packages as root, PyPI for httpx), otherwise reported with
//! the reason so that a section can say "skipped: <tool> not available (<why>)".

use std::process::{Command, Stdio};

use anyhow::{Context, Result, ensure};

use super::env::first_line;

/// A tool a baseline needs, and how to get it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tool {
    Curl,
    Aria2,
    Wrk,
    Time,
    Taskset,
    Python,
    Httpx,
}

impl Tool {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Tool::Curl => "curl",
            Tool::Aria2 => "aria2c",
            Tool::Wrk => "wrk",
            Tool::Time => "/usr/bin/time",
            Tool::Taskset => "taskset",
            Tool::Python => "python3",
            Tool::Httpx => "httpx",
        }
    }

    /// The tool's version if it is there.
    fn probe(self) -> Result<String> {
        let (program, args): (&str, &[&str]) = match self {
            // bench_report calls /usr/bin/curl by path.
            Tool::Curl => ("/usr/bin/curl", &["--version"]),
            Tool::Aria2 => ("aria2c", &["--version"]),
            Tool::Wrk => ("wrk", &["-v"]),
            Tool::Time => ("/usr/bin/time", &["--version"]),
            Tool::Taskset => ("taskset", &["--version"]),
            Tool::Python => ("python3", &["--version"]),
            Tool::Httpx => ("python3", &["-c", "import httpx; print(httpx.__version__)"]),
        };
        let output = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("{program} not found"))?;
        let text = String::from_utf8_lossy(if output.stdout.is_empty() {
            &output.stderr
        } else {
            &output.stdout
        })
        .lines()
        .next()
        .unwrap_or("")
        .trim()
        .to_owned();
        // `wrk -v` exits 1 after printing its version; everything else must succeed.
        ensure!(
            output.status.success() || (self == Tool::Wrk && text.starts_with("wrk ")),
            "`{program} {}` failed: {}",
            args.join(" "),
            last_line(&output.stderr)
        );
        Ok(match self {
            Tool::Httpx => format!("httpx {text}"),
            // Debian's build says "time (GNU Time) UNKNOWN".
            Tool::Time if text.contains("UNKNOWN") => "GNU time".into(),
            // "aria2 version 1.36.0" → "aria2c 1.36.0".
            Tool::Aria2 => text.replace("aria2 version", "aria2c"),
            // "curl 8.5.0 (x86_64-pc-linux-gnu) libcurl/…" → "curl 8.5.0"; likewise wrk.
            Tool::Curl | Tool::Wrk => text
                .split_whitespace()
                .take(2)
                .collect::<Vec<_>>()
                .join(" "),
            _ => text,
        })
    }

    /// The Debian package that provides the tool.
    fn debian_package(self) -> &'static str {
        match self {
            Tool::Curl => "curl",
            Tool::Aria2 => "aria2",
            Tool::Wrk => "wrk",
            Tool::Time => "time",
            Tool::Taskset => "util-linux",
            Tool::Python => "python3",
            Tool::Httpx => "python3-httpx",
        }
    }
}

fn last_line(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .to_owned()
}

/// Whether a tool is there, after trying to install it.
#[derive(Clone, Debug)]
pub(crate) struct ToolStatus {
    pub(crate) tool: Tool,
    /// The version, or why the tool is missing.
    pub(crate) found: std::result::Result<String, String>,
    pub(crate) installed_now: bool,
}

/// The tools a run needs: each probed, installed when missing (Debian's packages as root,
/// PyPI through `python3 -m pip` for httpx), and otherwise reported with the reason.
#[derive(Clone, Debug, Default)]
pub(crate) struct Tools {
    statuses: Vec<ToolStatus>,
    apt_updated: bool,
}

impl Tools {
    pub(crate) fn ensure(&mut self, tool: Tool) -> &ToolStatus {
        if let Some(i) = self.statuses.iter().position(|s| s.tool == tool) {
            return &self.statuses[i];
        }
        let status = match tool.probe() {
            Ok(version) => ToolStatus {
                tool,
                found: Ok(version),
                installed_now: false,
            },
            Err(missing) => {
                eprintln!(
                    "bench: {} is missing ({missing:#}); trying to install it",
                    tool.name()
                );
                let attempt = self.install(tool);
                match (attempt, tool.probe()) {
                    (_, Ok(version)) => ToolStatus {
                        tool,
                        found: Ok(version),
                        installed_now: true,
                    },
                    (Err(install), Err(_)) => ToolStatus {
                        tool,
                        found: Err(format!("{missing:#}; installing failed: {install:#}")),
                        installed_now: false,
                    },
                    (Ok(()), Err(still)) => ToolStatus {
                        tool,
                        found: Err(format!("{still:#} even after installing it")),
                        installed_now: false,
                    },
                }
            }
        };
        self.statuses.push(status);
        self.statuses.last().expect("just pushed")
    }

    /// The tool's version, or `Err("skipped: <tool> not available (<why>)")`.
    pub(crate) fn require(&mut self, tool: Tool) -> std::result::Result<String, String> {
        let status = self.ensure(tool);
        status
            .found
            .clone()
            .map_err(|why| format!("skipped: {} not available ({why})", tool.name()))
    }

    /// Every tool probed so far, for the document's header.
    pub(crate) fn statuses(&self) -> &[ToolStatus] {
        &self.statuses
    }

    fn install(&mut self, tool: Tool) -> Result<()> {
        if tool == Tool::Httpx {
            let pip = run_quietly("python3", &["-m", "pip", "install", "--quiet", "httpx"]);
            if pip.is_ok() {
                return Ok(());
            }
            // A system Python may refuse pip (PEP 668); Debian packages httpx too.
            return self
                .apt_install(tool.debian_package())
                .map_err(|apt| anyhow::anyhow!("pip: {:#}; apt: {apt:#}", pip.unwrap_err()));
        }
        self.apt_install(tool.debian_package())
    }

    fn apt_install(&mut self, package: &str) -> Result<()> {
        let uid = first_line("id", &["-u"]).unwrap_or_default();
        ensure!(
            uid == "0",
            "not root, so not running apt-get (install the Debian package `{package}`)"
        );
        let install = ["install", "-y", "-q", "--no-install-recommends", package];
        match run_quietly("apt-get", &install) {
            Ok(()) => Ok(()),
            Err(_) if !self.apt_updated => {
                self.apt_updated = true;
                run_quietly("apt-get", &["update", "-q"])?;
                run_quietly("apt-get", &install)
            }
            Err(err) => Err(err),
        }
    }
}

/// Runs a command with its output captured; the error carries its last line.
fn run_quietly(program: &str, args: &[&str]) -> Result<()> {
    eprintln!("bench: {program} {}", args.join(" "));
    let output = Command::new(program)
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("{program} not found"))?;
    ensure!(
        output.status.success(),
        "`{program} {}` failed: {}",
        args.join(" "),
        last_line(&output.stderr)
    );
    Ok(())
}
