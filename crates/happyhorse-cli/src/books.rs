//! The job ledger as the commands keep it ("the books"): opened once per command from
//! `--ledger`, `HAPPYHORSE_LEDGER` or the state directory. A ledger that cannot be opened or
//! written never stops a paid job: the command warns once (on stderr, whatever the output mode)
//! and goes on without it. Waits for a write to reach the disk are bounded, and after the first
//! trouble the command no longer waits at all.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use happyhorse_ledger::{Claim, Error, Intent, JobKey, Ledger, Location, Receipt};

use crate::cli::GlobalArgs;
use crate::interrupt::say;

/// The longest a command waits for one ledger write (an intent, an id) before going on.
const WRITE_WAIT: Duration = Duration::from_secs(3);

/// The ledger, or the reason there is none.
#[derive(Clone)]
pub(crate) struct Books {
    ledger: Option<Ledger>,
    /// Set after the first warning: later troubles are silent and nothing more is waited for.
    troubled: Arc<AtomicBool>,
}

impl Books {
    /// Opens the ledger the flags and environment name; warns (once) and goes on without one
    /// when it cannot be opened.
    pub(crate) fn open(global: &GlobalArgs) -> Self {
        let location = match &global.ledger {
            Some(path) if path.as_os_str() == "off" => Ok(Location::Off),
            Some(path) => Ok(Location::File(path.clone())),
            None => Location::from_env(),
        };
        let books = Self::off();
        let opened = location.and_then(|location| match location {
            Location::Off => Ok(None),
            Location::File(path) => Ledger::open(path).map(Some),
        });
        match opened {
            Ok(ledger) => Self { ledger, ..books },
            Err(error) => {
                books.warn(&error);
                books
            }
        }
    }

    /// No ledger (turned off, or for jobs that cannot outlive the command).
    pub(crate) fn off() -> Self {
        Self {
            ledger: None,
            troubled: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The same books, turned off when `off` (the in-process emulator's jobs die with it).
    pub(crate) fn unless(self, off: bool) -> Self {
        if off { Self::off() } else { self }
    }

    /// The ledger, when there is one.
    pub(crate) fn ledger(&self) -> Option<&Ledger> {
        self.ledger.as_ref()
    }

    /// The ledger's file, for messages.
    pub(crate) fn path(&self) -> Option<&Path> {
        self.ledger.as_ref().map(Ledger::path)
    }

    /// Records the intent to submit and waits (bounded) until it is on disk.
    pub(crate) async fn intent(&self, intent: Intent) -> Option<JobKey> {
        let (key, receipt) = self.ledger.as_ref()?.intent(intent);
        self.durable(receipt).await;
        Some(key)
    }

    /// Records `intent` unless an identical input is already recorded since `since` (one
    /// transaction: see [`Ledger::claim`]); `None` without a ledger or when it failed (warned).
    pub(crate) fn claim(&self, intent: Intent, since: std::time::SystemTime) -> Option<Claim> {
        self.read(|ledger| ledger.claim(intent, since))
    }

    /// Writes with `write` (when there is a ledger and a key) and waits (bounded) for the disk.
    pub(crate) async fn write_durably(
        &self,
        key: Option<&JobKey>,
        write: impl FnOnce(&Ledger, &JobKey) -> Receipt,
    ) {
        if let (Some(ledger), Some(key)) = (&self.ledger, key) {
            self.durable(write(ledger, key)).await;
        }
    }

    /// Writes with `write` without waiting; a failure is warned about by a later wait or flush.
    pub(crate) fn write(
        &self,
        key: Option<&JobKey>,
        write: impl FnOnce(&Ledger, &JobKey) -> Receipt,
    ) {
        if let (Some(ledger), Some(key)) = (&self.ledger, key) {
            drop(write(ledger, key));
        }
    }

    /// Reads with `query`; a failure is warned about once and reads as nothing.
    pub(crate) fn read<T>(&self, query: impl FnOnce(&Ledger) -> Result<T, Error>) -> Option<T> {
        let ledger = self.ledger.as_ref()?;
        match query(ledger) {
            Ok(value) => Some(value),
            Err(error) => {
                self.warn(&error);
                None
            }
        }
    }

    /// Waits (bounded) until every write so far is on disk.
    pub(crate) async fn flush(&self) {
        if let Some(ledger) = &self.ledger {
            self.durable(ledger.flush()).await;
        }
    }

    async fn durable(&self, receipt: Receipt) {
        if self.troubled.load(Ordering::Relaxed) {
            return;
        }
        match tokio::time::timeout(WRITE_WAIT, receipt.durable()).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => self.warn(&error),
            Err(_) => self.warn_text(&format!(
                "job ledger {}: a write took more than {}s; going on without waiting for it",
                self.path()
                    .map(Path::display)
                    .map(|p| p.to_string())
                    .unwrap_or_default(),
                WRITE_WAIT.as_secs()
            )),
        }
    }

    fn warn(&self, error: &Error) {
        self.warn_text(&error.to_string());
    }

    fn warn_text(&self, text: &str) {
        if !self.troubled.swap(true, Ordering::Relaxed) {
            say(&format!(
                "warning: {text}\n         the job goes on without the ledger (`happyhorse jobs` will not list what follows)"
            ));
        }
    }
}

/// A path as the ledger records it: absolute, so `wait` finds it from any directory.
pub(crate) fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}
