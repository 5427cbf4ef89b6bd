//! The shared state of a running emulator.

use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::watch;

use crate::auth::Auth;
use crate::builder::Config;
use crate::catalog::Catalog;
use crate::clock::SimClock;
use crate::faults::FaultInjector;
use crate::preview::cache::Previews;
use crate::queue::{JobStore, QueueConfig};
use crate::stats::{Stats, StatsSnapshot};

/// Everything the request handlers share.
#[derive(Debug)]
pub(crate) struct App {
    pub(crate) config: Config,
    pub(crate) clock: Arc<SimClock>,
    pub(crate) jobs: JobStore,
    pub(crate) auth: Auth,
    pub(crate) faults: FaultInjector,
    pub(crate) stats: Stats,
    pub(crate) catalog: Catalog,
    /// `http://127.0.0.1:PORT` of the API listener.
    pub(crate) base_url: String,
    /// `http://127.0.0.1:PORT` of the storage listener.
    pub(crate) storage_url: String,
    /// The output video: the MP4 fixture unless the builder configured other bytes.
    pub(crate) video: Bytes,
    pub(crate) video_etag: String,
    /// Rendered previews by input digest (used only with previews on).
    pub(crate) previews: Previews,
    /// Flips to `true` when the emulator shuts down (ends injected delays early).
    pub(crate) shutdown: watch::Receiver<bool>,
}

impl App {
    pub(crate) fn new(
        config: Config,
        base_url: String,
        storage_url: String,
        shutdown: watch::Receiver<bool>,
    ) -> anyhow::Result<Self> {
        let clock = Arc::new(SimClock::new(config.time_scale, config.manual_clock));
        let jobs = JobStore::new(
            QueueConfig {
                workers: config.workers,
                processing: config.processing,
                failure_rate: config.failure_rate,
                expire_after: config.expire_after,
                seed: config.seed,
            },
            clock.clone(),
        );
        let video = config
            .video
            .clone()
            .unwrap_or_else(|| Bytes::from_static(crate::storage::VIDEO_FIXTURE));
        let video_etag = crate::storage::etag_of(&video);
        Ok(Self {
            auth: Auth::new(&config.tokens),
            faults: FaultInjector::new(config.faults.clone()),
            stats: Stats::default(),
            catalog: Catalog::load()?,
            jobs,
            clock,
            base_url,
            storage_url,
            video,
            video_etag,
            previews: Previews::default(),
            shutdown,
            config,
        })
    }

    pub(crate) fn snapshot(&self) -> StatsSnapshot {
        self.stats.snapshot(self.jobs.counts())
    }

    /// Where a job's output video is served.
    pub(crate) fn video_url(&self, id: &str) -> String {
        format!("{}/files/{id}.mp4", self.storage_url)
    }

    /// The image some output shapes carry beside the video: a small synthetic file.
    pub(crate) fn image_url(&self) -> String {
        format!("{}/synthetic/4096", self.storage_url)
    }

    /// Sleeps for a simulated duration, returning early when the emulator shuts down.
    pub(crate) async fn sleep(&self, simulated: std::time::Duration) {
        let mut shutdown = self.shutdown.clone();
        if *shutdown.borrow() {
            return;
        }
        tokio::select! {
            () = tokio::time::sleep(self.clock.to_real(simulated)) => {}
            _ = shutdown.changed() => {}
        }
    }
}
