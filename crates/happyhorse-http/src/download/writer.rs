//! The writing end of a download: received chunks are gathered into batches (no copy: `Bytes`
//! are reference-counted) and each batch is written on tokio's blocking pool with vectored
//! writes, one batch in flight while the next is gathered; the kernel's write-back is started
//! as the file grows, so that the final `fsync` has little left to do.
//!
//! Where the CPU went before (measured with `cargo xtask bench --only download`): every chunk
//! made a round trip through `tokio::fs` (a copy into its buffer and a hop to the blocking pool
//! per write), and nothing reached the disk until one `fsync` of the whole file at the end.
//! A batch per blocking task (rather than one long-lived writer thread) also lets tokio's paused
//! test clock see the writer, so stall and deadline tests stay exact.

use std::fs::File;
use std::io::{self, IoSlice, Write};

use bytes::Bytes;
use tokio::task::JoinHandle;

/// Bytes gathered before a batch is written: one blocking task per 256 KiB, not per chunk.
/// Measured against 1 and 4 MiB: the same CPU (within the noise of a shared machine), less
/// memory; a batch small enough to still be in the CPU's cache when it is copied to the kernel.
const BATCH_BYTES: usize = 256 << 10;
/// Write-back is started every this many bytes.
#[cfg(target_os = "linux")]
const WRITE_BEHIND_BYTES: u64 = 8 << 20;
/// Elsewhere than Linux, the file is `fdatasync`ed every this many bytes (a sync waits, so less often).
#[cfg(not(target_os = "linux"))]
const SYNC_EVERY_BYTES: u64 = 64 << 20;

/// The file and its write-back state, owned by whichever side is using it.
struct Sink {
    file: File,
    behind: WriteBehind,
}

impl Sink {
    fn write(mut self, chunks: Vec<Bytes>) -> io::Result<Self> {
        let written = write_all_vectored(&mut self.file, &chunks)?;
        self.behind.wrote(&self.file, written);
        Ok(self)
    }
}

/// The writing end of a download.
pub(super) struct Writer {
    batch: Vec<Bytes>,
    batch_len: usize,
    /// The sink when no batch is being written.
    idle: Option<Sink>,
    /// The batch being written, which hands the sink back.
    busy: Option<JoinHandle<io::Result<Sink>>>,
}

impl Writer {
    /// Starts writing to `file`, whose current end is at `offset`.
    pub(super) fn start(file: File, offset: u64) -> Self {
        Self {
            batch: Vec::with_capacity(64),
            batch_len: 0,
            idle: Some(Sink {
                file,
                behind: WriteBehind::new(offset),
            }),
            busy: None,
        }
    }

    /// Queues `chunk`; waits only when the previous batch is still being written as the next
    /// one is full. Cancel-safe: dropped while waiting, nothing is lost but `chunk`'s batch.
    pub(super) async fn push(&mut self, chunk: Bytes) -> io::Result<()> {
        self.batch_len += chunk.len();
        self.batch.push(chunk);
        if self.batch_len >= BATCH_BYTES {
            self.hand_over().await?;
        }
        Ok(())
    }

    /// Waits for the batch in flight, then starts writing the gathered one.
    async fn hand_over(&mut self) -> io::Result<()> {
        let sink = self.sink().await?;
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(64));
        self.batch_len = 0;
        self.busy = Some(tokio::task::spawn_blocking(move || sink.write(batch)));
        Ok(())
    }

    /// The sink, once no batch is in flight.
    async fn sink(&mut self) -> io::Result<Sink> {
        if let Some(busy) = &mut self.busy {
            // Awaited by reference so that a cancelled wait leaves the task in place.
            let sink = busy.await.map_err(io::Error::other);
            self.busy = None;
            return sink?;
        }
        self.idle
            .take()
            .ok_or_else(|| io::Error::other("the download's writer already failed"))
    }

    /// Writes everything gathered and hands the file back.
    pub(super) async fn finish(mut self) -> io::Result<File> {
        if !self.batch.is_empty() {
            self.hand_over().await?;
        }
        Ok(self.sink().await?.file)
    }
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
