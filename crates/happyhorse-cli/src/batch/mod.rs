//! `happyhorse batch`'s parts: the jobs file, the journal, the plan from the journal, the
//! progress bar and the report. The command itself is `cmd::batch`.

pub(crate) mod files;
pub(crate) mod jobs_file;
pub(crate) mod journal;
pub(crate) mod ledger_link;
pub(crate) mod plan;
pub(crate) mod progress;
pub(crate) mod recover;
pub(crate) mod report;
pub(crate) mod runner;
pub(crate) mod state;
