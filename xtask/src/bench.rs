//! `cargo xtask bench [--quick] [--only NAME[,NAME]] [--no-write]`: builds and runs every
//! benchmark in the workspace together with its baseline, prints one Markdown section per
//! benchmark as it completes, and rewrites `docs/benchmarks.md` from the results.
//!
//! Each benchmark (a submodule) is a build step and a run step that reads the benchmark
//! program's one line of JSON and renders it, with the static prose that explains it, into a
//! [`Section`]. A baseline that needs an outside tool (curl, wrk, httpx) is installed through
//! [`tools::Tools`] or reported as skipped in its section — never left out silently.
//!
//! The document is rewritten only when every benchmark ran (no `--only`) and none failed.

mod batch;
mod cli;
mod doc;
mod env;
mod flood;
mod http;
mod images;
mod load;
mod poll;
mod preview;
mod table;
mod tools;
mod videos;

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use env::{Machine, Workspace};
use table::Table;
use tools::Tools;

const DOC: &str = "docs/benchmarks.md";

/// Options of `cargo xtask bench`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Options {
    /// Smaller parameters: the whole run fits in a few minutes.
    pub(crate) quick: bool,
    /// Run only these benchmarks (by [`Bench::name`]).
    pub(crate) only: Option<Vec<String>>,
    /// Leave `docs/benchmarks.md` alone.
    pub(crate) no_write: bool,
}

pub(crate) fn parse_args(args: &[&str]) -> Result<Options> {
    let mut options = Options::default();
    let mut args = args.iter();
    while let Some(&arg) = args.next() {
        match arg {
            "--quick" => options.quick = true,
            "--no-write" => options.no_write = true,
            "--only" => {
                let Some(names) = args.next() else {
                    bail!("--only needs a value: {}", names());
                };
                let names: Vec<String> = names.split(',').map(str::to_owned).collect();
                for name in &names {
                    if !BENCHES.iter().any(|b| b.name == name) {
                        bail!("unknown benchmark {name:?}; known: {}", self::names());
                    }
                }
                options.only = Some(names);
            }
            other => bail!("unknown option {other:?} for `cargo xtask bench`"),
        }
    }
    Ok(options)
}

/// One benchmark: its name for `--only`, its section title, and how to build and run it.
struct Bench {
    name: &'static str,
    title: &'static str,
    run: fn(&mut Ctx<'_>) -> Result<Section>,
}

/// In the order the document shows them.
const BENCHES: [Bench; 10] = [
    Bench {
        name: "poll",
        title: poll::TITLE,
        run: poll::run,
    },
    Bench {
        name: "load",
        title: load::TITLE,
        run: load::run,
    },
    Bench {
        name: "cli",
        title: cli::TITLE,
        run: cli::run,
    },
    Bench {
        name: "download",
        title: http::DOWNLOAD_TITLE,
        run: http::run_download,
    },
    Bench {
        name: "jobs",
        title: http::JOBS_TITLE,
        run: http::run_jobs,
    },
    Bench {
        name: "batch",
        title: batch::TITLE,
        run: batch::run,
    },
    Bench {
        name: "images",
        title: images::TITLE,
        run: images::run,
    },
    Bench {
        name: "videos",
        title: videos::TITLE,
        run: videos::run,
    },
    Bench {
        name: "flood",
        title: flood::TITLE,
        run: flood::run,
    },
    Bench {
        name: "preview",
        title: preview::TITLE,
        run: preview::run,
    },
];

fn names() -> String {
    BENCHES.map(|b| b.name).join(", ")
}

/// What a benchmark's build and run steps get.
pub(crate) struct Ctx<'a> {
    pub(crate) ws: &'a Workspace,
    pub(crate) tools: &'a mut Tools,
    pub(crate) quick: bool,
}

impl Ctx<'_> {
    /// `full` normally, `quick` with `--quick`.
    pub(crate) fn pick<T>(&self, full: T, quick: T) -> T {
        if self.quick { quick } else { full }
    }
}

/// One benchmark's part of the document: its commands, then paragraphs and tables.
#[derive(Clone, Debug)]
pub(crate) struct Section {
    pub(crate) title: &'static str,
    pub(crate) commands: Vec<String>,
    pub(crate) blocks: Vec<String>,
    /// When, where and how long it ran: filled in by the driver.
    pub(crate) footer: Option<String>,
}

impl Section {
    pub(crate) fn new(title: &'static str) -> Self {
        Self {
            title,
            commands: Vec::new(),
            blocks: Vec::new(),
            footer: None,
        }
    }

    pub(crate) fn command(&mut self, line: impl Into<String>) {
        self.commands.push(line.into());
    }

    /// A paragraph (or any Markdown block).
    pub(crate) fn text(&mut self, text: impl Into<String>) {
        self.blocks.push(text.into().trim_end().to_owned());
    }

    pub(crate) fn table(&mut self, table: &Table) {
        self.blocks.push(table.to_markdown().trim_end().to_owned());
    }

    /// A whole benchmark left out, and why.
    pub(crate) fn skip(&mut self, reason: &str) {
        self.text(format!("**{}**", capitalised(reason)));
    }

    pub(crate) fn to_markdown(&self) -> String {
        let mut out = format!("## {}\n\n", self.title);
        if !self.commands.is_empty() {
            out += &format!("```sh\n{}\n```\n\n", self.commands.join("\n"));
        }
        for block in &self.blocks {
            out += block;
            out += "\n\n";
        }
        if let Some(footer) = &self.footer {
            out += &format!("<sub>{footer}</sub>\n\n");
        }
        out
    }
}

/// `Ran in 25.3 s (plus 8 min 26 s building) on AMD EPYC, 2 cores, 23.5 GiB RAM, <date>.`
fn footer(running: Duration, building: Duration, machine: &Machine) -> String {
    let building = if building >= Duration::from_secs(1) {
        format!(" (plus {} building)", doc::duration(building))
    } else {
        String::new()
    };
    format!(
        "Ran in {}{building} on {}, {} cores, {:.1} GiB RAM, {}.",
        doc::duration(running),
        machine.cpu,
        machine.cores,
        machine.memory_gib,
        machine.date
    )
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

pub(crate) fn run(root: &Path, options: &Options) -> Result<()> {
    let started = Instant::now();
    let machine = Machine::read();
    let ws = Workspace::new(root)?;
    let mut tools = Tools::default();
    eprintln!(
        "bench: {} mode on {}; target directory {}",
        if options.quick { "quick" } else { "full" },
        machine.summary(),
        ws.target.display()
    );
    let mut ctx = Ctx {
        ws: &ws,
        tools: &mut tools,
        quick: options.quick,
    };
    let selected = BENCHES.iter().filter(|b| {
        options
            .only
            .as_ref()
            .is_none_or(|only| only.iter().any(|n| n == b.name))
    });
    let mut sections = Vec::new();
    let mut failed = Vec::new();
    for bench in selected {
        let bench_started = Instant::now();
        let built_before = ws.build_time();
        let section = match (bench.run)(&mut ctx) {
            Ok(section) => section,
            Err(err) => {
                eprintln!("bench: {} FAILED: {err:#}", bench.name);
                failed.push(bench.name);
                let mut section = Section::new(bench.title);
                section.text(format!("**Failed:** {err:#}"));
                section
            }
        };
        let mut section = section;
        let building = ws.build_time() - built_before;
        section.footer = Some(footer(
            bench_started.elapsed().saturating_sub(building),
            building,
            &machine,
        ));
        println!("{}", section.to_markdown());
        sections.push(section);
    }
    let total = started.elapsed();
    eprintln!(
        "bench: {} benchmark(s) in {} ({} of it building)",
        sections.len(),
        doc::duration(total),
        doc::duration(ws.build_time())
    );
    if !failed.is_empty() {
        bail!("{} failed; {DOC} not rewritten", failed.join(", "));
    }
    if options.only.is_some() {
        eprintln!("bench: --only given, so {DOC} was not rewritten (it needs every benchmark)");
    } else if options.no_write {
        eprintln!("bench: --no-write given, so {DOC} was not rewritten");
    } else {
        let text = doc::render(&doc::Run {
            machine: &machine,
            tools: tools.statuses(),
            quick: options.quick,
            total,
            building: ws.build_time(),
            target: ws.target_note(),
            sections: &sections,
        });
        std::fs::write(root.join(DOC), text)?;
        eprintln!("bench: rewrote {DOC}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_options() {
        assert_eq!(parse_args(&[]).unwrap(), Options::default());
        let options = parse_args(&["--quick", "--only", "poll,batch", "--no-write"]).unwrap();
        assert!(options.quick && options.no_write);
        assert_eq!(options.only, Some(vec!["poll".into(), "batch".into()]));
        let err = parse_args(&["--only", "poll,nope"])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("\"nope\"") && err.contains("download"),
            "{err}"
        );
        assert!(parse_args(&["--only"]).is_err());
        assert!(parse_args(&["--fast"]).is_err());
    }

    #[test]
    fn renders_a_section() {
        let mut section = Section::new("Title");
        section.command("cargo build --release -p x");
        section.text("Some prose.\n");
        let mut table = Table::new(&["a", "b"]);
        table.row(["1", "2"]);
        section.table(&table);
        section.skip("skipped: wrk not available (no apt)");
        assert_eq!(
            section.to_markdown(),
            "## Title\n\n```sh\ncargo build --release -p x\n```\n\nSome prose.\n\n\
             | a | b |\n|---|---:|\n| 1 | 2 |\n\n**Skipped: wrk not available (no apt)**\n\n"
        );
    }
}
