//! Signals for the job commands: Ctrl-C (SIGINT), SIGTERM (`timeout`, `docker stop`, systemd,
//! CI cancellation) and SIGHUP (a closed terminal or SSH session) all get the same care. The
//! first one is delivered to the command, which finishes a submit in flight (bounded, see
//! [`Signal::submit_grace`]) so the job's id is known and recorded, cancels a queued job, or says
//! how to resume a running one; it then exits with the signal's conventional code (130, 143,
//! 129). A second signal of any kind exits at once with its own code, after the command's last
//! words: what may be left at the service and how to pick it up, with whatever can still be
//! saved saved first (a batch's journal, the ledger).
//!
//! A signal that comes while no command is listening (before [`Interrupts::install`], or after
//! the command dropped it) exits at once with its code, as it would without any handler.
//!
//! Everything said here goes to stderr without ever failing: after SIGHUP the terminal may be
//! gone, and a write to it errors (which `eprintln!` would turn into a panic).

use std::io::Write as _;
use std::sync::{Arc, Mutex, Once};
use std::time::Duration;

use futures::future::BoxFuture;
use tokio::sync::mpsc;

use crate::exit;
use crate::output::terminal_safe;

/// How long a second signal waits for the last words before exiting anyway.
const LAST_WORDS_LIMIT: Duration = Duration::from_secs(2);

/// How long a SIGTERM or SIGHUP lets a submit in flight run on to learn the job's id: below the
/// 10 s that `docker stop` (and many CI runners) give before SIGKILL, leaving time to say what
/// is left behind.
const SUBMIT_GRACE: Duration = Duration::from_secs(7);

/// A signal a job command handles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signal {
    /// Ctrl-C.
    Interrupt,
    /// `kill`, `timeout`, `docker stop`, systemd, CI cancellation.
    Terminate,
    /// The terminal (or SSH session) went away.
    Hangup,
}

impl Signal {
    /// The conventional exit code: 128 + the signal's number.
    pub(crate) fn exit_code(self) -> u8 {
        match self {
            Signal::Interrupt => exit::INTERRUPTED,
            Signal::Terminate => exit::TERMINATED,
            Signal::Hangup => exit::HANGUP,
        }
    }

    /// How people know it: `Ctrl-C`, `SIGTERM`, `SIGHUP`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Signal::Interrupt => "Ctrl-C",
            Signal::Terminate => "SIGTERM",
            Signal::Hangup => "SIGHUP",
        }
    }

    /// How long a submit in flight may still take after this signal: a person pressing Ctrl-C
    /// can press it again, so it waits for the answer (the request's own timeout bounds it); a
    /// SIGTERM or SIGHUP is followed by nobody and often by SIGKILL, so it waits [`SUBMIT_GRACE`].
    pub(crate) fn submit_grace(self) -> Option<Duration> {
        match self {
            Signal::Interrupt => None,
            Signal::Terminate | Signal::Hangup => Some(SUBMIT_GRACE),
        }
    }
}

type LastWords = Box<dyn Fn() -> BoxFuture<'static, ()> + Send + Sync>;

/// What the one signal task of the process shares with the command listening now.
#[derive(Default)]
struct Listener {
    /// The command's channel for the first signal; `None` while no command listens.
    first: Option<mpsc::UnboundedSender<Signal>>,
    /// Signals since the command started listening.
    count: u32,
    last_words: Option<Arc<LastWords>>,
}

static LISTENER: Mutex<Listener> = Mutex::new(Listener {
    first: None,
    count: 0,
    last_words: None,
});
static STARTED: Once = Once::new();

fn listener() -> std::sync::MutexGuard<'static, Listener> {
    LISTENER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The first signal, as a message.
pub(crate) struct Interrupts {
    first: mpsc::UnboundedReceiver<Signal>,
    received: Option<Signal>,
}

impl Interrupts {
    /// Takes over SIGINT, SIGTERM and SIGHUP for the rest of the process. Call inside the
    /// runtime, before submitting.
    pub(crate) fn install() -> anyhow::Result<Self> {
        let (sender, first) = mpsc::unbounded_channel();
        {
            let mut listener = listener();
            listener.first = Some(sender);
            listener.count = 0;
            listener.last_words = None;
        }
        let mut failed = None;
        STARTED.call_once(|| {
            if let Err(error) = start_signal_task() {
                failed = Some(error);
            }
        });
        if let Some(error) = failed {
            return Err(error.into());
        }
        Ok(Self {
            first,
            received: None,
        })
    }

    /// Whether a first signal has come and not been taken yet (e.g. during connecting): a
    /// command checks it before sending anything it could not take back.
    pub(crate) fn pending(&mut self) -> bool {
        match self.first.try_recv() {
            Ok(signal) => {
                self.received = Some(signal);
                true
            }
            Err(_) => false,
        }
    }

    /// Resolves at the first signal (never, if the handler could not run).
    pub(crate) async fn recv(&mut self) {
        match self.first.recv().await {
            Some(signal) => self.received = Some(signal),
            None => std::future::pending::<()>().await,
        }
    }

    /// The signal taken by [`Interrupts::recv`] or [`Interrupts::pending`], if any.
    pub(crate) fn signal(&self) -> Option<Signal> {
        self.received
    }

    /// The exit code for the signal taken (130 when none was: an interruption all the same).
    pub(crate) fn exit_code(&self) -> u8 {
        self.received.map_or(exit::INTERRUPTED, Signal::exit_code)
    }

    /// The name of the signal taken, for messages (`Ctrl-C` when none was).
    pub(crate) fn name(&self) -> &'static str {
        self.received.map_or("Ctrl-C", Signal::name)
    }

    /// What a second signal does before exiting (replacing what was set before); it gets a
    /// couple of seconds.
    pub(crate) fn on_forced_exit(
        &self,
        words: impl Fn() -> BoxFuture<'static, ()> + Send + Sync + 'static,
    ) {
        listener().last_words = Some(Arc::new(Box::new(words)));
    }

    /// A second signal says nothing more than that it exits.
    pub(crate) fn clear_on_forced_exit(&self) {
        listener().last_words = None;
    }

    /// A second signal prints `note` on stderr before exiting: what is left behind, and how to
    /// pick it up.
    pub(crate) fn note_on_forced_exit(&self, note: String) {
        let note = Arc::new(note);
        self.on_forced_exit(move || {
            let note = Arc::clone(&note);
            Box::pin(async move { say(&terminal_safe(&note, false)) })
        });
    }
}

impl Drop for Interrupts {
    /// The command is done with signals: its last words no longer apply, and a signal from now
    /// on ends the process at once.
    fn drop(&mut self) {
        let mut listener = listener();
        listener.first = None;
        listener.last_words = None;
    }
}

/// A line on stderr that never fails (the terminal may be gone after SIGHUP).
pub(crate) fn say(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

/// Registers the handlers (synchronously: a signal arriving before the task first runs is
/// kept) and starts the one task that receives them.
fn start_signal_task() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        let mut hangup = signal(SignalKind::hangup())?;
        tokio::spawn(async move {
            loop {
                let signal = tokio::select! {
                    Some(()) = interrupt.recv() => Signal::Interrupt,
                    Some(()) = terminate.recv() => Signal::Terminate,
                    Some(()) = hangup.recv() => Signal::Hangup,
                    else => break,
                };
                on_signal(signal);
            }
        });
    }
    #[cfg(not(unix))]
    tokio::spawn(async move {
        while tokio::signal::ctrl_c().await.is_ok() {
            on_signal(Signal::Interrupt);
        }
    });
    Ok(())
}

/// The first signal goes to the command; the second runs the last words (in their own task, so
/// that a third signal still exits at once) and exits with its own code.
fn on_signal(signal: Signal) {
    let code = i32::from(signal.exit_code());
    let mut listener = listener();
    let Some(first) = listener.first.clone() else {
        std::process::exit(code);
    };
    listener.count += 1;
    match listener.count {
        1 => {
            if first.send(signal).is_err() {
                std::process::exit(code);
            }
        }
        2 => {
            say(&format!(
                "interrupted again: exiting now ({})",
                signal.name()
            ));
            let words = listener.last_words.clone();
            drop(listener);
            tokio::spawn(async move {
                if let Some(words) = words
                    && tokio::time::timeout(LAST_WORDS_LIMIT, words())
                        .await
                        .is_err()
                {
                    say(&format!(
                        "(gave up saving and reporting after {LAST_WORDS_LIMIT:?})"
                    ));
                }
                std::process::exit(code);
            });
        }
        _ => std::process::exit(code),
    }
}
