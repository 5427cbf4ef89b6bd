//! One overall bar on a terminal: jobs done out of all, with counts per state.

use std::collections::{BTreeMap, HashMap};

use indicatif::{ProgressBar, ProgressStyle};

use crate::output::Output;

/// Where a job is, for the counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Queued,
    Running,
}

/// The bar (drawn only when the output allows live progress) and the counts behind it.
pub(crate) struct Progress {
    bar: Option<ProgressBar>,
    alive: HashMap<usize, Phase>,
    ended: BTreeMap<&'static str, usize>,
}

impl Progress {
    pub(crate) fn new(output: Output, total: usize) -> Self {
        let bar = output.progress().then(|| {
            let bar = ProgressBar::new(total as u64);
            let style = ProgressStyle::with_template("{bar:30} {pos}/{len} {msg} [{elapsed}]")
                .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar.enable_steady_tick(std::time::Duration::from_millis(200));
            bar
        });
        Self {
            bar,
            alive: HashMap::new(),
            ended: BTreeMap::new(),
        }
    }

    pub(crate) fn submitted(&mut self, index: usize) {
        self.alive.insert(index, Phase::Queued);
        self.redraw();
    }

    pub(crate) fn running(&mut self, index: usize) {
        self.alive.insert(index, Phase::Running);
        self.redraw();
    }

    /// Job `index` is done with, in `state` (its video saved, for `succeeded`).
    pub(crate) fn finished(&mut self, index: usize, state: &'static str) {
        self.alive.remove(&index);
        *self.ended.entry(state).or_insert(0) += 1;
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
        self.redraw();
    }

    /// The counts as shown: `queued 3 · running 4 · succeeded 10 · failed 1`.
    pub(crate) fn message(&self) -> String {
        let queued = self.alive.values().filter(|p| **p == Phase::Queued).count();
        let running = self.alive.len() - queued;
        let mut parts = vec![format!("queued {queued}"), format!("running {running}")];
        parts.extend(self.ended.iter().map(|(state, n)| format!("{state} {n}")));
        parts.join(" · ")
    }

    /// Runs `print` with the bar hidden, so a note does not tear it.
    pub(crate) fn suspend(&self, print: impl FnOnce()) {
        match &self.bar {
            Some(bar) => bar.suspend(print),
            None => print(),
        }
    }

    pub(crate) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    fn redraw(&self) {
        if let Some(bar) = &self.bar {
            bar.set_message(self.message());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_follow_each_job() {
        let global = crate::cli::GlobalArgs {
            base_url: None,
            token_file: None,
            json: false,
            verbose: 0,
            quiet: true,
            ledger: None,
        };
        let output = Output::new(&global);
        let mut progress = Progress::new(output, 3);
        progress.submitted(0);
        progress.submitted(1);
        progress.running(1);
        assert_eq!(progress.message(), "queued 1 · running 1");
        progress.finished(1, "succeeded");
        progress.finished(2, "unknown");
        assert_eq!(
            progress.message(),
            "queued 1 · running 0 · succeeded 1 · unknown 1"
        );
    }
}
