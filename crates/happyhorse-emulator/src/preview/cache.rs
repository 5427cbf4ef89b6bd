//! Rendered previews by input digest, and the one thread that renders them.
//!
//! A job asks for its preview when it is submitted; the render runs on a background thread (never
//! on a request), one at a time so the API keeps a core to itself, and the job reads `completed`
//! only once its video is ready. Equal inputs share one render (the digest of [`Plan::key`]).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::plan::Plan;

/// Finished previews kept for reuse (each is a few MB at most).
const KEEP: usize = 16;

/// A finished preview, ready to serve.
#[derive(Debug)]
pub(crate) struct Rendered {
    pub(crate) bytes: Bytes,
    pub(crate) etag: String,
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) frames: u32,
    /// Wall-clock time the render took.
    pub(crate) took: Duration,
}

/// What became of a render.
#[derive(Debug, Clone)]
pub(crate) enum Outcome {
    Ready(Arc<Rendered>),
    /// The reason; the job then serves the fixture video instead.
    Failed(String),
}

/// One preview, rendering or rendered.
#[derive(Debug)]
pub(crate) struct Slot {
    plan: Mutex<Option<Plan>>,
    outcome: OnceLock<Outcome>,
    /// What the preview is made from, for the job's log.
    pub(crate) summary: String,
}

impl Slot {
    /// The outcome, once the render has ended.
    pub(crate) fn outcome(&self) -> Option<&Outcome> {
        self.outcome.get()
    }

    /// A slot no thread renders: a test decides when it ends.
    #[cfg(test)]
    pub(crate) fn held() -> Arc<Slot> {
        Arc::new(Slot {
            plan: Mutex::new(None),
            outcome: OnceLock::new(),
            summary: "held by a test".into(),
        })
    }

    /// Ends a [`Slot::held`] render.
    #[cfg(test)]
    pub(crate) fn end(&self, outcome: Outcome) {
        self.outcome.set(outcome).unwrap();
    }
}

#[derive(Debug, Default)]
struct Inner {
    slots: HashMap<[u8; 32], Arc<Slot>>,
    /// Keys in the order they were added, for eviction.
    order: VecDeque<[u8; 32]>,
    /// Started lazily: an emulator that never renders has no thread.
    queue: Option<mpsc::Sender<Arc<Slot>>>,
}

/// The cache and its render thread.
#[derive(Debug)]
pub(crate) struct Previews {
    inner: Mutex<Inner>,
    /// Set when the emulator shuts down: the render in progress stops at its next frame.
    cancel: Arc<AtomicBool>,
}

impl Default for Previews {
    fn default() -> Self {
        Self {
            inner: Mutex::default(),
            cancel: Arc::new(AtomicBool::new(false)),
        }
    }
}

impl Drop for Previews {
    fn drop(&mut self) {
        self.cancel.store(true, Ordering::Relaxed);
    }
}

impl Previews {
    /// The preview for `plan`: the cached one if its inputs were seen before, else a new render
    /// queued behind those in progress. The `bool` says whether it was found in the cache.
    pub(crate) fn request(&self, plan: Plan) -> (Arc<Slot>, bool) {
        let key = plan.key();
        let mut inner = self.inner.lock().unwrap();
        if let Some(slot) = inner.slots.get(&key) {
            return (slot.clone(), true);
        }
        let slot = Arc::new(Slot {
            summary: plan.summary.clone(),
            plan: Mutex::new(Some(plan)),
            outcome: OnceLock::new(),
        });
        inner.slots.insert(key, slot.clone());
        inner.order.push_back(key);
        while inner.order.len() > KEEP {
            let oldest = inner.order.pop_front().expect("longer than KEEP");
            // Jobs keep their own reference: an evicted preview is still served to them.
            inner.slots.remove(&oldest);
        }
        let queue = inner
            .queue
            .get_or_insert_with(|| spawn(self.cancel.clone()));
        if queue.send(slot.clone()).is_err() {
            let _ = slot
                .outcome
                .set(Outcome::Failed("the render thread is gone".into()));
        }
        (slot, false)
    }
}

fn spawn(cancel: Arc<AtomicBool>) -> mpsc::Sender<Arc<Slot>> {
    let (sender, receiver) = mpsc::channel::<Arc<Slot>>();
    let started = std::thread::Builder::new()
        .name("happyhorse-preview".into())
        .spawn(move || {
            // Ends when the cache (the only sender) is dropped.
            for slot in receiver {
                let plan = slot.plan.lock().unwrap().take();
                let Some(plan) = plan else { continue };
                let outcome = if cancel.load(Ordering::Relaxed) {
                    Outcome::Failed("the emulator is shutting down".into())
                } else {
                    render(&plan, &cancel)
                };
                let _ = slot.outcome.set(outcome);
            }
        });
    if let Err(error) = started {
        tracing::error!(%error, "cannot start the preview thread; jobs will serve the fixture video");
    }
    sender
}

fn render(plan: &Plan, cancel: &AtomicBool) -> Outcome {
    let started = Instant::now();
    match plan.render(cancel) {
        Ok(preview) => {
            let took = started.elapsed();
            tracing::info!(
                width = preview.width,
                height = preview.height,
                frames = preview.frames,
                bytes = preview.mp4.len(),
                took_ms = took.as_millis() as u64,
                "preview rendered"
            );
            let etag = crate::storage::etag_of(&preview.mp4);
            Outcome::Ready(Arc::new(Rendered {
                etag,
                width: preview.width,
                height: preview.height,
                frames: preview.frames,
                bytes: Bytes::from(preview.mp4),
                took,
            }))
        }
        Err(error) => {
            tracing::warn!(%error, "preview failed; the job serves the fixture video");
            Outcome::Failed(error.to_string())
        }
    }
}
