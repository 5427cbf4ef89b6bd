//! Ctrl-C for the job commands: the first one is delivered to the command (which cancels a queued
//! job or says how to resume a running one); a second one exits at once with 130, after the
//! command's last words: what may be left at the service and how to pick it up, with whatever
//! can still be saved saved first (a batch's journal).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use tokio::sync::mpsc;

use crate::exit;
use crate::output::terminal_safe;

/// How long a second Ctrl-C waits for the last words before exiting anyway.
const LAST_WORDS_LIMIT: Duration = Duration::from_secs(2);

type LastWords = Box<dyn Fn() -> BoxFuture<'static, ()> + Send + Sync>;

/// First Ctrl-C, as a message.
pub(crate) struct Interrupts {
    first: mpsc::UnboundedReceiver<()>,
    last_words: Arc<Mutex<Option<LastWords>>>,
}

impl Interrupts {
    /// Takes over SIGINT for the rest of the process. Call inside the runtime, before submitting.
    pub(crate) fn install() -> anyhow::Result<Self> {
        let (sender, first) = mpsc::unbounded_channel();
        let last_words: Arc<Mutex<Option<LastWords>>> = Arc::default();
        let words = Arc::clone(&last_words);
        #[cfg(unix)]
        {
            // Registered here, synchronously: a Ctrl-C arriving before the task first runs is kept.
            let mut signals =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
            tokio::spawn(async move {
                let mut count = 0u32;
                while signals.recv().await.is_some() {
                    count += 1;
                    on_signal(count, &sender, &words);
                }
            });
        }
        #[cfg(not(unix))]
        tokio::spawn(async move {
            let mut count = 0u32;
            while tokio::signal::ctrl_c().await.is_ok() {
                count += 1;
                on_signal(count, &sender, &words);
            }
        });
        Ok(Self { first, last_words })
    }

    /// Whether a first Ctrl-C has come and not been taken yet (e.g. during connecting): a
    /// command checks it before sending anything it could not take back.
    pub(crate) fn pending(&mut self) -> bool {
        self.first.try_recv().is_ok()
    }

    /// Resolves at the first Ctrl-C (never, if the handler could not run).
    pub(crate) async fn recv(&mut self) {
        if self.first.recv().await.is_none() {
            std::future::pending::<()>().await;
        }
    }

    /// What a second Ctrl-C does before exiting (replacing what was set before); it gets a
    /// couple of seconds.
    pub(crate) fn on_forced_exit(
        &self,
        words: impl Fn() -> BoxFuture<'static, ()> + Send + Sync + 'static,
    ) {
        *self.last_words.lock().expect("never poisoned") = Some(Box::new(words));
    }

    /// A second Ctrl-C says nothing more than that it exits.
    pub(crate) fn clear_on_forced_exit(&self) {
        *self.last_words.lock().expect("never poisoned") = None;
    }

    /// A second Ctrl-C prints `note` on stderr before exiting: what is left behind, and how to
    /// pick it up.
    pub(crate) fn note_on_forced_exit(&self, note: String) {
        let note = Arc::new(note);
        self.on_forced_exit(move || {
            let note = Arc::clone(&note);
            Box::pin(async move { eprintln!("{}", terminal_safe(&note, false)) })
        });
    }
}

impl Drop for Interrupts {
    /// The command is done with Ctrl-C: its last words no longer apply.
    fn drop(&mut self) {
        self.clear_on_forced_exit();
    }
}

/// The first Ctrl-C goes to the command; the second runs the last words (in their own task, so
/// that a third Ctrl-C still exits at once) and exits.
fn on_signal(count: u32, first: &mpsc::UnboundedSender<()>, words: &Mutex<Option<LastWords>>) {
    match count {
        1 => {
            let _ = first.send(());
        }
        2 => {
            eprintln!("interrupted again: exiting now");
            let last = words
                .lock()
                .expect("never poisoned")
                .as_ref()
                .map(|words| words());
            tokio::spawn(async move {
                if let Some(last) = last
                    && tokio::time::timeout(LAST_WORDS_LIMIT, last).await.is_err()
                {
                    eprintln!("(gave up saving and reporting after {LAST_WORDS_LIMIT:?})");
                }
                std::process::exit(i32::from(exit::INTERRUPTED));
            });
        }
        _ => std::process::exit(i32::from(exit::INTERRUPTED)),
    }
}
