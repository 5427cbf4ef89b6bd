//! Ctrl-C for the job commands: the first one is delivered to the command (which cancels a queued
//! job or says how to resume a running one); a second one exits at once with 130.

use tokio::sync::mpsc;

use crate::exit;

/// First Ctrl-C, as a message.
pub(crate) struct Interrupts {
    first: mpsc::UnboundedReceiver<()>,
}

impl Interrupts {
    /// Takes over SIGINT for the rest of the process. Call inside the runtime, before submitting.
    pub(crate) fn install() -> anyhow::Result<Self> {
        let (sender, first) = mpsc::unbounded_channel();
        #[cfg(unix)]
        {
            // Registered here, synchronously: a Ctrl-C arriving before the task first runs is kept.
            let mut signals =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
            tokio::spawn(async move {
                let mut count = 0u32;
                while signals.recv().await.is_some() {
                    count += 1;
                    if count >= 2 {
                        eprintln!("interrupted again: exiting now");
                        std::process::exit(i32::from(exit::INTERRUPTED));
                    }
                    let _ = sender.send(());
                }
            });
        }
        #[cfg(not(unix))]
        tokio::spawn(async move {
            let mut count = 0u32;
            while tokio::signal::ctrl_c().await.is_ok() {
                count += 1;
                if count >= 2 {
                    eprintln!("interrupted again: exiting now");
                    std::process::exit(i32::from(exit::INTERRUPTED));
                }
                let _ = sender.send(());
            }
        });
        Ok(Self { first })
    }

    /// Resolves at the first Ctrl-C (never, if the handler could not run).
    pub(crate) async fn recv(&mut self) {
        if self.first.recv().await.is_none() {
            std::future::pending::<()>().await;
        }
    }
}
