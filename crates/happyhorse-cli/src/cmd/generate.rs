//! `happyhorse completions SHELL` and `happyhorse man`: generated from the clap definitions.
//!
//! The man pages are clap_mangen's sections, except the epilogue (examples, environment, exit
//! codes, notes): clap_mangen writes it as filled text, which `man` reflows into one paragraph;
//! here each `Heading:` block becomes its own section, kept line for line (`.nf`), so examples
//! read — and copy — as written. Every command has its page, so the pages the root page names
//! (`happyhorse-run(1)`, …) exist: `happyhorse man --dir DIR` writes them all.

use std::io::Write as _;
use std::path::Path;

use clap_complete::Shell;

use crate::cli::{Cli, ManArgs};
use crate::exit::{self, Failure};

pub(super) fn completions(shell: Shell) -> anyhow::Result<u8> {
    let mut command = Cli::command_full();
    clap_complete::generate(shell, &mut command, "happyhorse", &mut std::io::stdout());
    Ok(exit::OK)
}

pub(super) fn man(args: &ManArgs) -> anyhow::Result<u8> {
    let root = built_root();
    if let Some(dir) = &args.dir {
        for path in write_pages(&root, dir)? {
            println!("{}", path.display());
        }
        return Ok(exit::OK);
    }
    let command = match &args.command {
        None => &root,
        Some(name) => root.find_subcommand(name).ok_or_else(|| {
            let names: Vec<&str> = pages_of(&root)
                .skip(1)
                .map(clap::Command::get_name)
                .collect();
            Failure::new(
                exit::USAGE,
                format!(
                    "no command {name:?}; the commands are: {}",
                    names.join(", ")
                ),
            )
        })?,
    };
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(&page(command)?)?;
    stdout.flush()?;
    Ok(exit::OK)
}

/// The command tree as the pages describe it: built (so each command knows its full name,
/// `happyhorse-run`), without clap's `help` command (which has no page).
fn built_root() -> clap::Command {
    let mut root = Cli::command_full().disable_help_subcommand(true);
    root.build();
    root
}

/// `happyhorse` and every command under it that is shown in `--help`.
fn pages_of(root: &clap::Command) -> impl Iterator<Item = &clap::Command> {
    std::iter::once(root).chain(root.get_subcommands().filter(|c| !c.is_hide_set()))
}

/// Writes every page into `dir`; returns their paths. Each page is written beside its name and
/// renamed into place, so an installed page is never left half-written and a symlink where a
/// page goes is replaced, not written through. Pages already there are replaced: installing
/// them is what `--dir` asks for.
fn write_pages(root: &clap::Command, dir: &Path) -> anyhow::Result<Vec<std::path::PathBuf>> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Failure::new(exit::CANT_CREATE, format!("--dir {}: {e}", dir.display())))?;
    let mut written = Vec::new();
    for command in pages_of(root) {
        let name = clap_mangen::Man::new(command.clone()).get_filename();
        let path = dir.join(name);
        let cannot = |e: &dyn std::fmt::Display| {
            Failure::new(
                exit::CANT_CREATE,
                format!("writing {}: {e}", path.display()),
            )
        };
        let mut file = tempfile::Builder::new()
            .prefix(".happyhorse-man")
            .tempfile_in(dir)
            .map_err(|e| cannot(&e))?;
        file.write_all(&page(command)?).map_err(|e| cannot(&e))?;
        file.persist(&path).map_err(|e| cannot(&e.error))?;
        written.push(path);
    }
    Ok(written)
}

/// One command's page, in roff.
fn page(command: &clap::Command) -> std::io::Result<Vec<u8>> {
    let man = clap_mangen::Man::new(command.clone());
    let mut out = Vec::new();
    man.render_title(&mut out)?;
    man.render_name_section(&mut out)?;
    man.render_synopsis_section(&mut out)?;
    man.render_description_section(&mut out)?;
    if command.get_arguments().any(|arg| !arg.is_hide_set()) {
        man.render_options_section(&mut out)?;
    }
    if command.has_subcommands() {
        man.render_subcommands_section(&mut out)?;
    }
    if let Some(epilogue) = command
        .get_after_long_help()
        .or_else(|| command.get_after_help())
    {
        out.extend_from_slice(verbatim_sections(&epilogue.to_string()).as_bytes());
    }
    if command.get_version().is_some() {
        man.render_version_section(&mut out)?;
    }
    Ok(out)
}

/// `text` as roff sections: a line such as `Examples:` or `Exit codes:` (unindented, a few words,
/// ending with a colon) starts a section of that name; everything else is kept line for line,
/// unfilled. Text before the first heading goes under NOTES.
fn verbatim_sections(text: &str) -> String {
    let mut out = String::new();
    let mut open = false;
    let mut pending_blank = false;
    for line in text.lines() {
        if let Some(heading) = heading(line) {
            if open {
                out.push_str(".fi\n");
            }
            out.push_str(&format!(".SH \"{}\"\n.nf\n", heading.to_uppercase()));
            (open, pending_blank) = (true, false);
            continue;
        }
        if line.trim().is_empty() {
            // Kept only between lines of a section, not at its start or end.
            pending_blank = open;
            continue;
        }
        if !open {
            out.push_str(".SH NOTES\n.nf\n");
            open = true;
        } else if pending_blank {
            out.push('\n');
        }
        pending_blank = false;
        out.push_str(&escape(line));
        out.push('\n');
    }
    if open {
        out.push_str(".fi\n");
    }
    out
}

/// The name of a section heading line (`Examples:` → `Examples`), if `line` is one.
fn heading(line: &str) -> Option<&str> {
    let name = line.strip_suffix(':')?;
    let short = name.split_whitespace().count() <= 3 && name.len() <= 30;
    let plain = !name.starts_with(char::is_whitespace) && !name.contains([':', '(', '`', '"']);
    (short && plain && !name.is_empty()).then_some(name)
}

/// `line` safe in roff's no-fill mode, shown as written: backslashes and hyphens escaped (so a
/// `--flag` copies as ASCII), and a leading `.` or `'` kept from being read as a request.
fn escape(line: &str) -> String {
    let escaped = line.replace('\\', "\\e").replace('-', "\\-");
    if escaped.starts_with(['.', '\'']) {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_start_sections_and_lines_are_kept_as_written() {
        let roff = verbatim_sections(
            "Examples:\n  happyhorse run --image a.png\n\n  # a comment\n\nCtrl-C cancels a job (it is billed):\nthen it exits.\n",
        );
        assert_eq!(
            roff,
            ".SH \"EXAMPLES\"\n.nf\n  happyhorse run \\-\\-image a.png\n\n  # a comment\n\nCtrl\\-C cancels a job (it is billed):\nthen it exits.\n.fi\n"
        );
    }

    #[test]
    fn text_before_any_heading_is_a_notes_section_and_requests_are_escaped() {
        let roff = verbatim_sections(".SH not a request\n'quoted\nback\\slash\n");
        assert_eq!(
            roff,
            ".SH NOTES\n.nf\n\\&.SH not a request\n\\&'quoted\nback\\eslash\n.fi\n"
        );
    }

    #[test]
    fn every_command_has_a_page_named_after_it() {
        let root = built_root();
        let names: Vec<String> = pages_of(&root)
            .map(|c| clap_mangen::Man::new(c.clone()).get_filename())
            .collect();
        assert_eq!(names[0], "happyhorse.1");
        for expected in ["happyhorse-run.1", "happyhorse-batch.1", "happyhorse-man.1"] {
            assert!(names.contains(&expected.to_owned()), "{names:?}");
        }
        assert!(!names.iter().any(|n| n.contains("help")), "{names:?}");
    }
}
