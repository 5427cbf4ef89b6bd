//! What the benchmarks run on: the machine, the workspace's target directory and release builds,
//! and running a benchmark program for its one line of JSON.

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use serde_json::Value;

/// The machine a run measured, for the document's header.
#[derive(Clone, Debug)]
pub(crate) struct Machine {
    pub(crate) cpu: String,
    pub(crate) cores: usize,
    pub(crate) memory_gib: f64,
    pub(crate) kernel: String,
    pub(crate) rustc: String,
    pub(crate) date: String,
    pub(crate) load_average: String,
}

impl Machine {
    pub(crate) fn read() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        Self {
            cpu: proc_field(&cpuinfo, "model name").unwrap_or_else(|| "unknown CPU".into()),
            cores: std::thread::available_parallelism().map_or(0, |n| n.get()),
            memory_gib: proc_field(&meminfo, "MemTotal")
                .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
                .map_or(f64::NAN, |kib| kib / f64::from(1 << 20)),
            kernel: first_line("uname", &["-srm"]).unwrap_or_else(|_| "unknown kernel".into()),
            rustc: first_line("rustc", &["-V"]).unwrap_or_else(|_| "unknown rustc".into()),
            date: first_line("date", &["-u", "+%Y-%m-%d %H:%M UTC"])
                .unwrap_or_else(|_| "unknown date".into()),
            load_average: std::fs::read_to_string("/proc/loadavg")
                .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
                .unwrap_or_else(|_| "unknown".into()),
        }
    }

    /// One line: `AMD EPYC, 2 cores, 23.5 GiB, Linux 6.18 x86_64, rustc 1.95.0 (…)`.
    pub(crate) fn summary(&self) -> String {
        format!(
            "{}, {} cores, {:.1} GiB RAM, {}, {}",
            self.cpu, self.cores, self.memory_gib, self.kernel, self.rustc
        )
    }
}

/// `key : value` from a `/proc` file.
fn proc_field(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let (k, v) = line.split_once(':')?;
        (k.trim() == key).then(|| v.trim().to_owned())
    })
}

/// The first line a command prints (stdout, else stderr), whatever its exit status.
pub(crate) fn first_line(program: &str, args: &[&str]) -> Result<String> {
    let output = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {program}"))?;
    let text = if output.stdout.is_empty() {
        output.stderr
    } else {
        output.stdout
    };
    let text = String::from_utf8_lossy(&text);
    Ok(text.lines().next().unwrap_or("").trim().to_owned())
}

/// Every benchmark program in one build: one feature resolution, so a full run compiles each
/// dependency once (separate `-p` sets would each unify features differently and rebuild).
const BUILD_ALL: [&str; 12] = [
    "-p",
    "happyhorse-core",
    "-p",
    "happyhorse-emulator",
    "-p",
    "happyhorse-preview",
    "-p",
    "happyhorse-http",
    "-p",
    "happyhorse-cli",
    "--bins",
    "--examples",
];

/// The workspace and its release builds.
#[derive(Debug)]
pub(crate) struct Workspace {
    pub(crate) root: PathBuf,
    /// The target directory cargo builds into (`CARGO_TARGET_DIR` honoured, via `cargo metadata`).
    pub(crate) target: PathBuf,
    cargo: String,
    /// Whether [`BUILD_ALL`] succeeded, once tried.
    built_all: Cell<Option<bool>>,
    /// Time spent in `cargo build` so far.
    building: Cell<Duration>,
}

impl Workspace {
    pub(crate) fn new(root: &Path) -> Result<Self> {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let output = Command::new(&cargo)
            .args(["metadata", "--format-version", "1", "--no-deps"])
            .current_dir(root)
            .stderr(Stdio::inherit())
            .output()
            .context("running cargo metadata")?;
        ensure!(output.status.success(), "cargo metadata failed");
        let metadata: Value = serde_json::from_slice(&output.stdout)?;
        let target = metadata["target_directory"]
            .as_str()
            .context("cargo metadata has no target_directory")?;
        Ok(Self {
            root: root.to_path_buf(),
            target: PathBuf::from(target),
            cargo,
            built_all: Cell::new(None),
            building: Cell::new(Duration::ZERO),
        })
    }

    /// `target/release/<rel>`.
    pub(crate) fn release(&self, rel: &str) -> PathBuf {
        self.target.join("release").join(rel)
    }

    /// Builds what a benchmark needs and returns the command that did, as the document shows it:
    /// every benchmark program at once the first time (later calls then have nothing to do);
    /// if that fails (one crate broken), just `cargo build --release ARGS`, so only the
    /// benchmarks that need the broken crate fail.
    pub(crate) fn build(&self, args: &[&str]) -> Result<String> {
        if self.built_all.get().is_none() {
            let all = self.cargo_build(&BUILD_ALL);
            if let Err(err) = &all {
                eprintln!("bench: {err:#}; building each benchmark on its own instead");
            }
            self.built_all.set(Some(all.is_ok()));
        }
        if self.built_all.get() == Some(true) {
            return Ok(build_line(&BUILD_ALL));
        }
        self.cargo_build(args)
    }

    /// Builds something outside [`BUILD_ALL`] (a program behind a feature of its own), always.
    pub(crate) fn build_extra(&self, args: &[&str]) -> Result<String> {
        self.cargo_build(args)
    }

    /// `cargo build --release ARGS`, its output shown.
    fn cargo_build(&self, args: &[&str]) -> Result<String> {
        let shown = build_line(args);
        eprintln!("bench: {shown}");
        let started = Instant::now();
        let status = Command::new(&self.cargo)
            .args(["build", "--release"])
            .args(args)
            .current_dir(&self.root)
            .stdin(Stdio::null())
            .stdout(Stdio::inherit())
            .stderr(Stdio::inherit())
            .status()
            .with_context(|| format!("running {shown}"))?;
        self.building.set(self.building.get() + started.elapsed());
        ensure!(status.success(), "`{shown}` failed ({status})");
        eprintln!("bench: built in {:.1} s", started.elapsed().as_secs_f64());
        Ok(shown)
    }

    /// Time spent in `cargo build` so far.
    pub(crate) fn build_time(&self) -> Duration {
        self.building.get()
    }

    /// A path as the document shows it: `target/…` inside the target directory wherever that
    /// is (see [`Workspace::target_note`]), else relative to the workspace root when inside it.
    pub(crate) fn show(&self, path: &Path) -> String {
        if let Ok(rel) = path.strip_prefix(&self.target) {
            return Path::new("target").join(rel).display().to_string();
        }
        path.strip_prefix(&self.root)
            .unwrap_or(path)
            .display()
            .to_string()
    }

    /// Where `target/` in the shown commands really was, when not `<workspace>/target`.
    pub(crate) fn target_note(&self) -> Option<String> {
        (self.target != self.root.join("target")).then(|| self.target.display().to_string())
    }

    /// A command line as the document shows it: the program and any argument that is an
    /// absolute path inside the workspace or the target directory shown as by
    /// [`Workspace::show`], every argument quoted for `sh` where needed.
    pub(crate) fn command_line(&self, program: &Path, args: &[String]) -> String {
        let mut line = self.show(program);
        for arg in args {
            let path = Path::new(arg);
            let inside = path.starts_with(&self.target) || path.starts_with(&self.root);
            let arg = if path.is_absolute() && inside {
                self.show(path)
            } else {
                arg.clone()
            };
            line.push(' ');
            line += &shell_quote(&arg);
        }
        line
    }

    /// Runs a benchmark program (stderr shown) and returns the JSON object on the last non-empty
    /// line of its standard output.
    pub(crate) fn run_json(&self, program: &Path, args: &[String]) -> Result<Value> {
        let shown = self.command_line(program, args);
        eprintln!("bench: {shown}");
        let output = Command::new(program)
            .args(args)
            .current_dir(&self.root)
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output()
            .with_context(|| format!("running {shown}"))?;
        ensure!(
            output.status.success(),
            "`{shown}` failed ({})",
            output.status
        );
        last_json_line(&String::from_utf8_lossy(&output.stdout))
            .with_context(|| format!("reading the output of `{shown}`"))
    }
}

/// `cargo build --release ARGS` as the document shows it.
pub(crate) fn build_line(args: &[&str]) -> String {
    format!("cargo build --release {}", args.join(" "))
}

/// The JSON object on the last non-empty line of a program's output.
pub(crate) fn last_json_line(stdout: &str) -> Result<Value> {
    let Some(line) = stdout.lines().rev().find(|l| !l.trim().is_empty()) else {
        bail!("no output");
    };
    let value: Value = serde_json::from_str(line.trim())
        .with_context(|| format!("the last line is not JSON: {line:?}"))?;
    ensure!(
        value.is_object(),
        "the last line is not a JSON object: {line:?}"
    );
    Ok(value)
}

/// Quotes an argument for `sh` when it needs it.
pub(crate) fn shell_quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@%+".contains(c));
    if plain {
        arg.to_owned()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_last_json_line_past_human_output() {
        let out = "| a | b |\n|---|---|\n{\"jobs\":10,\"wall_s\":1.5}\n\n";
        let value = last_json_line(out).unwrap();
        assert_eq!(value["jobs"], 10);
        assert_eq!(value["wall_s"], 1.5);
        assert!(last_json_line("done\n").is_err());
        assert!(last_json_line("[1, 2]\n").is_err());
        assert!(last_json_line("").is_err());
    }

    #[test]
    fn quotes_only_what_the_shell_would_split() {
        assert_eq!(shell_quote("--rounds"), "--rounds");
        assert_eq!(shell_quote("/dev/shm"), "/dev/shm");
        assert_eq!(
            shell_quote("authorization: Bearer x"),
            "'authorization: Bearer x'"
        );
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn shows_paths_as_a_reader_would_type_them() {
        let ws = Workspace {
            root: "/w".into(),
            target: "/tmp/t".into(),
            cargo: "cargo".into(),
            built_all: Cell::new(None),
            building: Cell::new(Duration::ZERO),
        };
        let poll = Path::new("/tmp/t/release/examples/poll_sim");
        assert_eq!(ws.show(poll), "target/release/examples/poll_sim");
        assert_eq!(ws.show(Path::new("/w/crates/x.py")), "crates/x.py");
        assert_eq!(ws.show(Path::new("/dev/shm")), "/dev/shm");
        assert_eq!(ws.target_note().as_deref(), Some("/tmp/t"));
        assert_eq!(
            ws.command_line(poll, &["--sizes".into(), "a b".into()]),
            "target/release/examples/poll_sim --sizes 'a b'"
        );
        let args = [
            "/w/crates/x.py".into(),
            "/tmp/t/release/happyhorse".into(),
            "/dev/shm".into(),
        ];
        assert_eq!(
            ws.command_line(Path::new("python3"), &args),
            "python3 crates/x.py target/release/happyhorse /dev/shm"
        );
        let ws = Workspace {
            target: "/w/target".into(),
            ..ws
        };
        assert_eq!(ws.target_note(), None);
    }

    #[test]
    fn reads_proc_fields() {
        let cpuinfo = "processor\t: 0\nmodel name\t: AMD EPYC\nflags\t: fpu\n";
        assert_eq!(
            proc_field(cpuinfo, "model name").as_deref(),
            Some("AMD EPYC")
        );
        assert_eq!(proc_field(cpuinfo, "model"), None);
    }
}
