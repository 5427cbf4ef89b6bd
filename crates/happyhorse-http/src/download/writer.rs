//! The writer thread: the download task hands it batches of received chunks (no copy: `Bytes`
//! are reference-counted) and it writes them with vectored writes, starting the kernel's
//! write-back as it goes so that the final `fsync` has little left to do.
//!
//! Where the CPU went before (measured with `cargo xtask bench --only download`): every chunk
//! made a round trip through `tokio::fs` (a copy into its buffer and a hop to the blocking pool
//! per write), and nothing reached the disk until one `fsync` of the whole file at the end.

use std::fs::File;
use std::io::{self, IoSlice, Write};

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Bytes gathered before a batch goes to the writer: one hand-over per MiB, not per chunk.
const BATCH_BYTES: usize = 1 << 20;
/// Batches queued for the writer; with the one being gathered, at most ~9 MiB in memory.
const QUEUE_BATCHES: usize = 8;
/// Write-back is started every this many bytes.
#[cfg(target_os = "linux")]
const WRITE_BEHIND_BYTES: u64 = 8 << 20;
/// Elsewhere than Linux, the file is `fdatasync`ed every this many bytes (a sync waits, so less often).
#[cfg(not(target_os = "linux"))]
const SYNC_EVERY_BYTES: u64 = 64 << 20;

/// The writing end of a download.
pub(super) struct Writer {
    tx: Option<mpsc::Sender<Vec<Bytes>>>,
    batch: Vec<Bytes>,
    batch_len: usize,
    task: Option<JoinHandle<io::Result<File>>>,
}

impl Writer {
    /// Starts writing to `file`, whose current end is at `offset`.
    pub(super) fn start(file: File, offset: u64) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE_BATCHES);
        let task = tokio::task::spawn_blocking(move || write_batches(file, offset, rx));
        Self {
            tx: Some(tx),
            batch: Vec::with_capacity(64),
            batch_len: 0,
            task: Some(task),
        }
    }

    /// Queues `chunk`; waits only when the writer is behind by a full queue.
    pub(super) async fn push(&mut self, chunk: Bytes) -> io::Result<()> {
        self.batch_len += chunk.len();
        self.batch.push(chunk);
        if self.batch_len >= BATCH_BYTES {
            self.hand_over().await?;
        }
        Ok(())
    }

    async fn hand_over(&mut self) -> io::Result<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(64));
        self.batch_len = 0;
        let sent = match &self.tx {
            Some(tx) => tx.send(batch).await.is_ok(),
            None => false,
        };
        if sent {
            Ok(())
        } else {
            // The writer stopped: its error says why.
            Err(match self.join().await {
                Err(err) => err,
                Ok(_) => io::Error::other("the download's writer stopped early"),
            })
        }
    }

    /// Writes everything queued and hands the file back.
    pub(super) async fn finish(mut self) -> io::Result<File> {
        self.hand_over().await?;
        self.join().await
    }

    async fn join(&mut self) -> io::Result<File> {
        self.tx = None;
        match self.task.take() {
            Some(task) => task.await.map_err(io::Error::other)?,
            None => Err(io::Error::other("the download's writer already stopped")),
        }
    }
}

fn write_batches(
    mut file: File,
    offset: u64,
    mut rx: mpsc::Receiver<Vec<Bytes>>,
) -> io::Result<File> {
    let mut behind = WriteBehind::new(offset);
    let mut chunks: Vec<Bytes> = Vec::new();
    while let Some(batch) = rx.blocking_recv() {
        chunks.extend(batch);
        // Whatever else is already waiting goes in the same writes.
        while chunks.len() < 1024 {
            match rx.try_recv() {
                Ok(more) => chunks.extend(more),
                Err(_) => break,
            }
        }
        let written = write_all_vectored(&mut file, &chunks)?;
        chunks.clear();
        behind.wrote(&file, written);
    }
    Ok(file)
}

fn write_all_vectored(file: &mut File, chunks: &[Bytes]) -> io::Result<u64> {
    let mut slices: Vec<IoSlice<'_>> = chunks.iter().map(|c| IoSlice::new(c)).collect();
    let mut slices = &mut slices[..];
    let mut total = 0;
    while !slices.is_empty() {
        match file.write_vectored(slices) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                total += n as u64;
                IoSlice::advance_slices(&mut slices, n);
            }
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
    Ok(total)
}

/// Starts write-back behind the writer. On Linux, `posix_fadvise(DONTNEED)` on each window just
/// written starts its write-back without waiting (as `sync_file_range(SYNC_FILE_RANGE_WRITE)`
/// would; neither std nor rustix offers that call safely), and the same advice on the window
/// before drops its pages, written by then, from the page cache. Elsewhere, an `fdatasync`
/// every [`SYNC_EVERY_BYTES`]. Failures are ignored: this only moves work earlier; the final
/// `fsync` reports real errors.
struct WriteBehind {
    /// Where the file ends now.
    end: u64,
    /// Start of the bytes not yet handed to write-back.
    pending: u64,
    /// Start of the window handed to write-back last time.
    #[cfg(target_os = "linux")]
    previous: Option<u64>,
}

impl WriteBehind {
    fn new(offset: u64) -> Self {
        Self {
            end: offset,
            pending: offset,
            #[cfg(target_os = "linux")]
            previous: None,
        }
    }

    #[cfg(target_os = "linux")]
    fn wrote(&mut self, file: &File, bytes: u64) {
        use rustix::fs::{Advice, fadvise};
        self.end += bytes;
        if self.end - self.pending < WRITE_BEHIND_BYTES {
            return;
        }
        let _ = fadvise(
            file,
            self.pending,
            std::num::NonZeroU64::new(self.end - self.pending),
            Advice::DontNeed,
        );
        if let Some(previous) = self.previous {
            let _ = fadvise(
                file,
                previous,
                std::num::NonZeroU64::new(self.pending - previous),
                Advice::DontNeed,
            );
        }
        self.previous = Some(self.pending);
        self.pending = self.end;
    }

    #[cfg(not(target_os = "linux"))]
    fn wrote(&mut self, file: &File, bytes: u64) {
        self.end += bytes;
        if self.end - self.pending >= SYNC_EVERY_BYTES {
            let _ = file.sync_data();
            self.pending = self.end;
        }
    }
}
