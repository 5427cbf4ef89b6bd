//! The files of a batch, checked before anything is sent: the output directory, the journal,
//! the report and every job's output must be writable places for a file (no directory,
//! symlink or special file), no two of them nor the jobs file may be the same file, and an
//! existing output the batch did not write itself is not replaced unless `--force`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::jobs_file::JobsFile;
use super::journal::Known;
use crate::exit::{self, Failure};
use crate::paths::{self, Existing, Named};

/// Where a batch writes.
#[derive(Debug, Clone)]
pub(crate) struct BatchFiles {
    /// The output directory, canonical.
    pub(crate) out_dir: PathBuf,
}

impl BatchFiles {
    /// Checks the output directory (creating it), the journal and the report, and that no two
    /// of the batch's files are one. Nothing is written but the output directory.
    pub(crate) fn check(
        jobs: &JobsFile,
        out_dir: &Path,
        journal: &Path,
        report: &Path,
    ) -> Result<Self, Failure> {
        let canonical_out = paths::output_dir(out_dir).map_err(|f| prefixed("--out-dir", f))?;
        // The journal and the report are the batch's own files: they may exist (a rerun).
        paths::output_file(journal, Existing::Replace).map_err(|f| prefixed("the journal", f))?;
        paths::output_file(report, Existing::Replace).map_err(|f| prefixed("the report", f))?;
        let mut named = vec![
            Named {
                label: format!("the jobs file {}", jobs.path.display()),
                path: jobs.path.clone(),
            },
            Named {
                label: format!("the journal {}", journal.display()),
                path: journal.to_path_buf(),
            },
            Named {
                label: format!("the report {}", report.display()),
                path: report.to_path_buf(),
            },
        ];
        let mut refused = Vec::new();
        for job in &jobs.jobs {
            let path = out_dir.join(&job.output);
            let label = format!("line {} ({}) output {}", job.line, job.id, job.output);
            if let Err(failure) = paths::replaceable(&path) {
                refused.push(format!("{label}: {}", failure.message));
            }
            named.push(Named { label, path });
        }
        refused.extend(paths::collisions(&named));
        if !refused.is_empty() {
            return Err(Failure::new(
                exit::CANT_CREATE,
                format!(
                    "the batch's files cannot all be written; nothing was sent:\n  {}",
                    refused.join("\n  ")
                ),
            ));
        }
        Ok(Self {
            out_dir: canonical_out,
        })
    }

    /// Refuses existing files at the outputs of jobs the journal knows nothing of (so the batch
    /// did not write them), unless `force`.
    pub(crate) fn check_foreign_outputs(
        &self,
        jobs: &JobsFile,
        known: &HashMap<String, Known>,
        force: bool,
    ) -> Result<(), Failure> {
        if force {
            return Ok(());
        }
        let taken: Vec<String> = jobs
            .jobs
            .iter()
            .filter(|job| !known.contains_key(&job.id))
            .filter(|job| self.out_dir.join(&job.output).exists())
            .map(|job| format!("line {} ({}) output {}", job.line, job.id, job.output))
            .collect();
        if taken.is_empty() {
            return Ok(());
        }
        Err(Failure::new(
            exit::CANT_CREATE,
            format!(
                "{} already holds files this batch did not write; nothing was sent (pass --force to replace them):\n  {}",
                self.out_dir.display(),
                taken.join("\n  ")
            ),
        ))
    }
}

fn prefixed(what: &str, failure: Failure) -> Failure {
    Failure::new(failure.code, format!("{what} {}", failure.message))
}
