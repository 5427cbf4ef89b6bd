//! `docs/benchmarks.md` as a whole: the header (machine, tools, mode, duration), then every
//! benchmark's section in order.

use std::time::Duration;

use super::Section;
use super::env::Machine;
use super::tools::ToolStatus;

/// Everything the document says about one run.
pub(crate) struct Run<'a> {
    pub(crate) machine: &'a Machine,
    pub(crate) tools: &'a [ToolStatus],
    pub(crate) quick: bool,
    pub(crate) total: Duration,
    /// Of `total`, the time spent in `cargo build`.
    pub(crate) building: Duration,
    /// The cargo target directory, when not the workspace's `target/`.
    pub(crate) target: Option<String>,
    pub(crate) sections: &'a [Section],
}

pub(crate) fn render(run: &Run<'_>) -> String {
    let machine = run.machine;
    let command = if run.quick {
        "cargo xtask bench --quick"
    } else {
        "cargo xtask bench"
    };
    let mut out = String::from("# Benchmarks\n\n");
    out += "<!-- Written by `cargo xtask bench`: change the prose in xtask/src/bench/, not here. -->\n\n";
    out += &format!(
        "Every number here was measured by `{command}` on {}, which built each benchmark, \
         ran it together with its baseline and rewrote this file; the whole run took {}, of \
         which {} building.\n",
        machine.date,
        duration(run.total),
        duration(run.building)
    );
    if run.quick {
        out += "This was a **quick** run (`--quick`: fewer rounds, jobs and bytes than the full \
                run; see each section's commands), meant to check the harness rather than to \
                quote; `cargo xtask bench` runs the full parameters.\n";
    }
    out += "\n";
    out += &format!(
        "- **Machine:** {} ({} cores), {:.1} GiB RAM; {}; {}.\n",
        machine.cpu, machine.cores, machine.memory_gib, machine.kernel, machine.rustc
    );
    out += &format!(
        "- **Load average when the run started:** {} (the machine may be shared with other \
         builds while it runs).\n",
        machine.load_average
    );
    if !run.tools.is_empty() {
        let tools: Vec<String> = run
            .tools
            .iter()
            .map(|status| match &status.found {
                Ok(version) if status.installed_now => {
                    format!("{version} (installed by this run)")
                }
                Ok(version) => version.clone(),
                Err(why) => format!("{}: not available ({why})", status.tool.name()),
            })
            .collect();
        out += &format!("- **Tools for the baselines:** {}.\n", tools.join("; "));
    }
    out += "\n";
    out += "Because the machine is shared and virtualised, every benchmark measures its baseline \
            in the same run and reports the ratio: compare ratios, not absolute figures, across \
            runs. No test asserts a speed; these commands measure.\n";
    out += "Rerun with `cargo xtask bench` (full parameters) or `cargo xtask bench --quick`; \
            `--only NAME[,NAME]` (poll, load, cli, download, jobs, batch, images, flood) or `--no-write` prints \
            the tables without rewriting this file.\n";
    out += "Each section lists the commands the harness ran. The benchmark programs print a \
            human-readable report without `--json`; the harness adds it to read their figures.\n";
    if let Some(target) = &run.target {
        out += &format!(
            "`target/` in the commands is the cargo target directory, which was `{target}`.\n"
        );
    }
    out += "\n";
    for section in run.sections {
        out += &section.to_markdown();
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

/// `4 min 12 s`, `41.3 s`.
pub(crate) fn duration(elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64();
    if secs < 60.0 {
        format!("{secs:.1} s")
    } else {
        let whole = elapsed.as_secs();
        format!("{} min {:02} s", whole / 60, whole % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::tools::Tool;

    #[test]
    fn formats_durations() {
        assert_eq!(duration(Duration::from_millis(41_250)), "41.2 s");
        assert_eq!(duration(Duration::from_secs(252)), "4 min 12 s");
        assert_eq!(duration(Duration::from_secs(3605)), "60 min 05 s");
    }

    #[test]
    fn header_names_the_machine_tools_and_mode() {
        let machine = Machine {
            cpu: "AMD EPYC".into(),
            cores: 2,
            memory_gib: 23.54,
            kernel: "Linux 6.18 x86_64".into(),
            rustc: "rustc 1.95.0".into(),
            date: "2026-05-01 10:00 UTC".into(),
            load_average: "1.00 0.50 0.25".into(),
        };
        let tools = [
            ToolStatus {
                tool: Tool::Curl,
                found: Ok("curl 8.5.0".into()),
                installed_now: true,
            },
            ToolStatus {
                tool: Tool::Wrk,
                found: Err("no apt".into()),
                installed_now: false,
            },
        ];
        let mut section = Section::new("Polling");
        section.text("prose");
        let text = render(&Run {
            machine: &machine,
            tools: &tools,
            quick: true,
            total: Duration::from_secs(200),
            building: Duration::from_secs(20),
            target: None,
            sections: &[section],
        });
        assert!(text.starts_with("# Benchmarks\n"));
        assert!(text.contains("`cargo xtask bench --quick` on 2026-05-01 10:00 UTC"));
        assert!(text.contains("took 3 min 20 s, of which 20.0 s building"));
        assert!(!text.contains("cargo target directory"));
        assert!(text.contains("AMD EPYC (2 cores), 23.5 GiB RAM; Linux 6.18 x86_64"));
        assert!(text.contains("curl 8.5.0 (installed by this run); wrk: not available (no apt)"));
        assert!(text.ends_with("## Polling\n\nprose\n"));
    }
}
