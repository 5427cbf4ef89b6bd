//! The job queue: a discrete-event simulation over the simulated clock.
//!
//! No task runs per job. Every access first replays the events due up to "now" (workers picking
//! queued jobs, jobs finishing, finished jobs expiring) in time order, so a job's history does
//! not depend on when or how often it is polled, and a manual clock makes it exact.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::builder::ProcessingTime;
use crate::clock::{SimClock, SimTime};
use crate::preview::cache::{Outcome, Slot};
use crate::stats::JobCounts;

/// How the queue behaves.
#[derive(Debug, Clone)]
pub(crate) struct QueueConfig {
    pub(crate) workers: usize,
    pub(crate) processing: ProcessingTime,
    pub(crate) failure_rate: f64,
    pub(crate) expire_after: Duration,
    pub(crate) seed: u64,
}

/// A job's state, in the emulator's own words (mapped to each endpoint's vocabulary by the routes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JobState {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

/// What the submit handler knows about a new job.
#[derive(Debug)]
pub(crate) struct NewJob {
    pub(crate) owner: u64,
    pub(crate) model_id: String,
    /// What the job costs if it succeeds.
    pub(crate) cost_usd: f64,
    /// How long the output video is, in seconds (what a per-second price bills).
    pub(crate) output_seconds: f64,
    /// Notes from submission (e.g. an image accepted unchecked).
    pub(crate) log: Vec<String>,
    /// The job's preview video, rendering while the job runs: a job whose processing time is
    /// over reads `in_progress` until it is ready. `None`: the job serves the fixture video.
    pub(crate) preview: Option<Arc<Slot>>,
}

/// A copy of a job's public facts at one instant.
#[derive(Debug, Clone)]
pub(crate) struct JobView {
    pub(crate) id: String,
    pub(crate) model_id: String,
    pub(crate) state: JobState,
    /// Jobs ahead of this one; `Some` only while queued.
    pub(crate) queue_position: Option<u64>,
    pub(crate) created_at: SimTime,
    pub(crate) started_at: Option<SimTime>,
    pub(crate) finished_at: Option<SimTime>,
    pub(crate) processing: Duration,
    /// The failure message of a failed job.
    pub(crate) error: Option<String>,
    /// What the job is billed: its price once succeeded, 0 when failed or cancelled.
    pub(crate) cost_usd: Option<f64>,
    /// How long the output video is, in seconds.
    pub(crate) output_seconds: f64,
    /// The job's log; filled only by [`JobStore::inspect`].
    pub(crate) log: Vec<String>,
}

/// The result of looking up a job on behalf of a token.
#[derive(Debug)]
pub(crate) enum Access<T> {
    Found(T),
    NotFound,
    Forbidden,
}

/// What a cancel did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CancelOutcome {
    Cancelled,
    NotCancellable,
}

#[derive(Debug)]
struct Job {
    seq: u64,
    owner: u64,
    new: NewJob,
    state: JobState,
    created: SimTime,
    started: Option<SimTime>,
    finished: Option<SimTime>,
    processing: Duration,
    fails: bool,
}

#[derive(Debug)]
struct Inner {
    /// Seeded: processing times and failures depend only on the seed and the submission order.
    dice: fastrand::Rng,
    /// Unseeded: request ids must not repeat across runs.
    ids: fastrand::Rng,
    next_seq: u64,
    jobs: HashMap<String, Job>,
    waiting: VecDeque<(u64, String)>,
    running: BinaryHeap<Reverse<(SimTime, u64, String)>>,
    /// Jobs whose processing time is over but whose preview is still rendering (they hold
    /// their worker), in the order they got there.
    rendering: Vec<String>,
    /// Finished jobs in finishing order, for expiry.
    finished: VecDeque<(SimTime, String)>,
    /// The simulated time up to which events have been replayed.
    replayed_to: SimTime,
    succeeded: u64,
    failed: u64,
    cancelled: u64,
    expired: u64,
}

/// Every job, and the simulation that moves them.
#[derive(Debug)]
pub(crate) struct JobStore {
    config: QueueConfig,
    clock: Arc<SimClock>,
    inner: Mutex<Inner>,
}

impl JobStore {
    pub(crate) fn new(config: QueueConfig, clock: Arc<SimClock>) -> Self {
        let inner = Inner {
            dice: fastrand::Rng::with_seed(config.seed),
            ids: fastrand::Rng::new(),
            next_seq: 0,
            jobs: HashMap::new(),
            waiting: VecDeque::new(),
            running: BinaryHeap::new(),
            rendering: Vec::new(),
            finished: VecDeque::new(),
            replayed_to: Duration::ZERO,
            succeeded: 0,
            failed: 0,
            cancelled: 0,
            expired: 0,
        };
        Self {
            config,
            clock,
            inner: Mutex::new(inner),
        }
    }

    /// Creates a queued job and returns its view.
    pub(crate) fn submit(&self, mut new: NewJob) -> JobView {
        let now = self.clock.now();
        let mut inner = self.inner.lock().unwrap();
        self.replay(&mut inner, now);
        let processing = self.config.processing.draw(&mut inner.dice);
        let fails = inner.dice.f64() < self.config.failure_rate;
        let id = new_request_id(&mut inner.ids);
        let seq = inner.next_seq;
        inner.next_seq += 1;
        new.log.push(format!(
            "[{}] queued behind {} job(s); will run for {}",
            seconds(now),
            inner.waiting.len(),
            seconds(processing)
        ));
        let job = Job {
            seq,
            owner: new.owner,
            new,
            state: JobState::Queued,
            created: now,
            started: None,
            finished: None,
            processing,
            fails,
        };
        inner.jobs.insert(id.clone(), job);
        inner.waiting.push_back((seq, id.clone()));
        // Start it right away if a worker is free.
        self.replay(&mut inner, now);
        view(&inner, &inner.jobs[&id], &id)
    }

    /// The job `id` as `owner` may see it.
    pub(crate) fn get(&self, id: &str, owner: u64) -> Access<JobView> {
        let now = self.clock.now();
        let mut inner = self.inner.lock().unwrap();
        self.replay(&mut inner, now);
        match inner.jobs.get(id) {
            None => Access::NotFound,
            Some(job) if job.owner != owner => Access::Forbidden,
            Some(job) => Access::Found(view(&inner, job, id)),
        }
    }

    /// The job `id` regardless of owner (the emulator's own inspection endpoint).
    pub(crate) fn inspect(&self, id: &str) -> Option<JobView> {
        let now = self.clock.now();
        let mut inner = self.inner.lock().unwrap();
        self.replay(&mut inner, now);
        inner
            .jobs
            .get(id)
            .map(|job| view_with(&inner, job, id, true))
    }

    /// Cancels a queued job; anything else is left alone.
    pub(crate) fn cancel(&self, id: &str, owner: u64) -> Access<(CancelOutcome, JobView)> {
        let now = self.clock.now();
        let mut inner = self.inner.lock().unwrap();
        self.replay(&mut inner, now);
        let Some(job) = inner.jobs.get(id) else {
            return Access::NotFound;
        };
        if job.owner != owner {
            return Access::Forbidden;
        }
        let outcome = match job.state {
            JobState::Queued => {
                let seq = job.seq;
                let index = inner.waiting.partition_point(|(s, _)| *s < seq);
                inner.waiting.remove(index);
                inner.cancelled += 1;
                inner.finished.push_back((now, id.to_owned()));
                let job = inner.jobs.get_mut(id).expect("job exists");
                job.state = JobState::Cancelled;
                job.finished = Some(now);
                job.new
                    .log
                    .push(format!("[{}] cancelled while queued", seconds(now)));
                CancelOutcome::Cancelled
            }
            // Cancelling twice is a no-op that still reads as cancelled.
            JobState::Cancelled => CancelOutcome::Cancelled,
            JobState::Running | JobState::Succeeded | JobState::Failed => {
                CancelOutcome::NotCancellable
            }
        };
        Access::Found((outcome, view(&inner, &inner.jobs[id], id)))
    }

    /// Live jobs per state.
    pub(crate) fn counts(&self) -> JobCounts {
        let now = self.clock.now();
        let mut inner = self.inner.lock().unwrap();
        self.replay(&mut inner, now);
        JobCounts {
            in_queue: inner.waiting.len() as u64,
            in_progress: (inner.running.len() + inner.rendering.len()) as u64,
            succeeded: inner.succeeded,
            failed: inner.failed,
            cancelled: inner.cancelled,
            expired: inner.expired,
        }
    }

    /// The preview a job serves, if it has one.
    pub(crate) fn preview(&self, id: &str) -> Option<Arc<Slot>> {
        let inner = self.inner.lock().unwrap();
        inner.jobs.get(id).and_then(|job| job.new.preview.clone())
    }

    /// Replays every event due by `now`, in time order; then finishes the jobs whose preview has
    /// become ready since (at `now`, when it was noticed), which may free workers for more.
    fn replay(&self, inner: &mut Inner, now: SimTime) {
        let now = now.max(inner.replayed_to);
        loop {
            self.replay_events(inner, now);
            if !self.finish_rendered(inner, now) {
                break;
            }
        }
        self.expire(inner, now);
    }

    /// Finishes the jobs waiting for a preview that is now ready (or failed); true if any did.
    fn finish_rendered(&self, inner: &mut Inner, now: SimTime) -> bool {
        let ready: Vec<String> = inner
            .rendering
            .iter()
            .filter(|id| {
                inner.jobs[id.as_str()]
                    .new
                    .preview
                    .as_ref()
                    .is_none_or(|slot| slot.outcome().is_some())
            })
            .cloned()
            .collect();
        if ready.is_empty() {
            return false;
        }
        inner.rendering.retain(|id| !ready.contains(id));
        for id in ready {
            finish(inner, id, now);
        }
        true
    }

    fn replay_events(&self, inner: &mut Inner, now: SimTime) {
        loop {
            // Free workers take queued jobs at the time of the latest event.
            while inner.running.len() + inner.rendering.len() < self.config.workers {
                let Some((_, id)) = inner.waiting.pop_front() else {
                    break;
                };
                let at = inner.replayed_to;
                let job = inner.jobs.get_mut(&id).expect("queued job exists");
                job.state = JobState::Running;
                job.started = Some(at);
                job.new
                    .log
                    .push(format!("[{}] started on a worker", seconds(at)));
                let finishes = at + job.processing;
                let seq = job.seq;
                inner.running.push(Reverse((finishes, seq, id)));
            }
            match inner.running.peek() {
                Some(Reverse((finishes, _, _))) if *finishes <= now => {}
                _ => break,
            }
            let Reverse((at, _, id)) = inner.running.pop().expect("peeked");
            inner.replayed_to = at;
            let job = inner.jobs.get_mut(&id).expect("running job exists");
            let waiting = !job.fails
                && job
                    .new
                    .preview
                    .as_ref()
                    .is_some_and(|slot| slot.outcome().is_none());
            if waiting {
                job.new.log.push(format!(
                    "[{}] processing time over; still in progress until the preview is rendered",
                    seconds(at)
                ));
                inner.rendering.push(id);
            } else {
                finish(inner, id, at);
            }
        }
        inner.replayed_to = now;
    }
}

/// Ends a running job at `at`: failed if the dice said so, else succeeded.
fn finish(inner: &mut Inner, id: String, at: SimTime) {
    let job = inner.jobs.get_mut(&id).expect("running job exists");
    job.finished = Some(at);
    if job.fails {
        job.state = JobState::Failed;
        job.new.log.push(format!(
            "[{}] failed (the emulator's failure rate picked it)",
            seconds(at)
        ));
        inner.failed += 1;
    } else {
        job.state = JobState::Succeeded;
        let note = match job.new.preview.as_ref().and_then(|slot| slot.outcome()) {
            Some(Outcome::Ready(video)) => format!(
                "; its preview: {}x{}, {} frames, rendered in {:.1} s",
                video.width,
                video.height,
                video.frames,
                video.took.as_secs_f64()
            ),
            Some(Outcome::Failed(reason)) => {
                format!("; its preview failed ({reason}), the fixture video is served")
            }
            None => String::new(),
        };
        job.new
            .log
            .push(format!("[{}] succeeded{note}", seconds(at)));
        inner.succeeded += 1;
    }
    inner.finished.push_back((at, id));
}

impl JobStore {
    fn expire(&self, inner: &mut Inner, now: SimTime) {
        while let Some((finished, _)) = inner.finished.front() {
            if *finished + self.config.expire_after > now {
                break;
            }
            let (_, id) = inner.finished.pop_front().expect("front exists");
            if let Some(job) = inner.jobs.remove(&id) {
                match job.state {
                    JobState::Succeeded => inner.succeeded -= 1,
                    JobState::Failed => inner.failed -= 1,
                    JobState::Cancelled => inner.cancelled -= 1,
                    JobState::Queued | JobState::Running => {}
                }
                inner.expired += 1;
            }
        }
    }
}

/// A job's view; the log is copied only when asked for (the status path is hot).
fn view(inner: &Inner, job: &Job, id: &str) -> JobView {
    view_with(inner, job, id, false)
}

fn view_with(inner: &Inner, job: &Job, id: &str, with_log: bool) -> JobView {
    let queue_position = (job.state == JobState::Queued)
        .then(|| inner.waiting.partition_point(|(seq, _)| *seq < job.seq) as u64);
    let cost_usd = match job.state {
        JobState::Succeeded => Some(job.new.cost_usd),
        JobState::Failed | JobState::Cancelled => Some(0.0),
        JobState::Queued | JobState::Running => None,
    };
    JobView {
        id: id.to_owned(),
        model_id: job.new.model_id.clone(),
        state: job.state,
        queue_position,
        created_at: job.created,
        started_at: job.started,
        finished_at: job.finished,
        processing: job.processing,
        error: (job.state == JobState::Failed).then(|| {
            "Video generation failed (injected by the emulator's failure rate).".to_owned()
        }),
        cost_usd,
        output_seconds: job.new.output_seconds,
        log: if with_log {
            job.new.log.clone()
        } else {
            Vec::new()
        },
    }
}

/// A UUID-shaped id (hex and dashes), inside the `^[a-zA-Z0-9_-]{1,128}$` clients accept.
fn new_request_id(rng: &mut fastrand::Rng) -> String {
    let hex = format!("{:016x}{:016x}", rng.u64(..), rng.u64(..));
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

fn seconds(duration: Duration) -> String {
    format!("{:.3}s", duration.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(workers: usize, processing: Duration, failure_rate: f64) -> (JobStore, Arc<SimClock>) {
        let clock = Arc::new(SimClock::new(1.0, true));
        let config = QueueConfig {
            workers,
            processing: ProcessingTime::Fixed(processing),
            failure_rate,
            expire_after: Duration::from_secs(3600),
            seed: 1,
        };
        (JobStore::new(config, clock.clone()), clock)
    }

    fn new_job(owner: u64) -> NewJob {
        NewJob {
            owner,
            model_id: "m".into(),
            cost_usd: 0.5,
            output_seconds: 5.0,
            log: Vec::new(),
            preview: None,
        }
    }

    fn state(store: &JobStore, id: &str) -> (JobState, Option<u64>) {
        match store.get(id, 1) {
            Access::Found(view) => (view.state, view.queue_position),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn jobs_wait_for_a_free_worker_in_order() {
        let (store, clock) = store(1, Duration::from_secs(10), 0.0);
        let a = store.submit(new_job(1)).id;
        let b = store.submit(new_job(1)).id;
        let c = store.submit(new_job(1)).id;
        assert_eq!(state(&store, &a), (JobState::Running, None));
        assert_eq!(state(&store, &b), (JobState::Queued, Some(0)));
        assert_eq!(state(&store, &c), (JobState::Queued, Some(1)));
        // Polling nothing for 25 s still replays both hand-overs at the right instants.
        clock.advance(Duration::from_secs(25));
        assert_eq!(state(&store, &a).0, JobState::Succeeded);
        assert_eq!(state(&store, &b).0, JobState::Succeeded);
        assert_eq!(state(&store, &c), (JobState::Running, None));
        let Access::Found(c_view) = store.get(&c, 1) else {
            panic!()
        };
        assert_eq!(c_view.started_at, Some(Duration::from_secs(20)));
        let Access::Found(b_view) = store.get(&b, 1) else {
            panic!()
        };
        assert_eq!(b_view.finished_at, Some(Duration::from_secs(20)));
        assert_eq!(b_view.cost_usd, Some(0.5));
    }

    #[test]
    fn cancel_only_while_queued() {
        let (store, _clock) = store(1, Duration::from_secs(10), 0.0);
        let a = store.submit(new_job(1)).id;
        let b = store.submit(new_job(1)).id;
        let c = store.submit(new_job(1)).id;
        let Access::Found((outcome, view)) = store.cancel(&a, 1) else {
            panic!()
        };
        assert_eq!(
            (outcome, view.state),
            (CancelOutcome::NotCancellable, JobState::Running)
        );
        let Access::Found((outcome, view)) = store.cancel(&b, 1) else {
            panic!()
        };
        assert_eq!(
            (outcome, view.state),
            (CancelOutcome::Cancelled, JobState::Cancelled)
        );
        assert_eq!(view.cost_usd, Some(0.0));
        // c moved up.
        assert_eq!(state(&store, &c), (JobState::Queued, Some(0)));
        let Access::Found((outcome, _)) = store.cancel(&b, 1) else {
            panic!()
        };
        assert_eq!(outcome, CancelOutcome::Cancelled);
    }

    #[test]
    fn other_owners_are_forbidden_and_unknown_ids_not_found() {
        let (store, _clock) = store(1, Duration::from_secs(10), 0.0);
        let a = store.submit(new_job(1)).id;
        assert!(matches!(store.get(&a, 2), Access::Forbidden));
        assert!(matches!(store.cancel(&a, 2), Access::Forbidden));
        assert!(matches!(store.get("nope", 1), Access::NotFound));
    }

    #[test]
    fn finished_jobs_expire() {
        let (store, clock) = store(2, Duration::from_secs(10), 0.0);
        let a = store.submit(new_job(1)).id;
        clock.advance(Duration::from_secs(10 + 3599));
        assert_eq!(state(&store, &a).0, JobState::Succeeded);
        clock.advance(Duration::from_secs(1));
        assert!(matches!(store.get(&a, 1), Access::NotFound));
        let counts = store.counts();
        assert_eq!((counts.succeeded, counts.expired), (0, 1));
    }

    #[test]
    fn failures_follow_the_seed() {
        let outcomes = || {
            let (store, clock) = store(100, Duration::from_secs(1), 0.5);
            let ids: Vec<_> = (0..50).map(|_| store.submit(new_job(1)).id).collect();
            clock.advance(Duration::from_secs(2));
            ids.iter().map(|id| state(&store, id).0).collect::<Vec<_>>()
        };
        let first = outcomes();
        assert_eq!(first, outcomes());
        let failed = first.iter().filter(|s| **s == JobState::Failed).count();
        assert!((10..40).contains(&failed), "{failed}");
    }

    #[test]
    fn a_job_stays_in_progress_until_its_preview_is_rendered() {
        let (store, clock) = store(1, Duration::from_secs(10), 0.0);
        let slot = Slot::held();
        let a = store
            .submit(NewJob {
                preview: Some(slot.clone()),
                ..new_job(1)
            })
            .id;
        let b = store.submit(new_job(1)).id;
        // Long past its processing time, the job still renders and keeps its worker.
        clock.advance(Duration::from_secs(30));
        assert_eq!(state(&store, &a), (JobState::Running, None));
        assert_eq!(state(&store, &b), (JobState::Queued, Some(0)));
        assert_eq!(store.counts().in_progress, 1);
        slot.end(Outcome::Failed("test".into()));
        clock.advance(Duration::from_secs(1));
        // Finished when the emulator noticed; the next job starts then.
        let Access::Found(view) = store.get(&a, 1) else {
            panic!()
        };
        assert_eq!(
            (view.state, view.finished_at),
            (JobState::Succeeded, Some(Duration::from_secs(31)))
        );
        let Access::Found(view) = store.get(&b, 1) else {
            panic!()
        };
        assert_eq!(
            (view.state, view.started_at),
            (JobState::Running, Some(Duration::from_secs(31)))
        );
        let log = store.inspect(&a).unwrap().log;
        assert!(
            log.iter()
                .any(|l| l.contains("until the preview is rendered")),
            "{log:?}"
        );
        assert!(
            log.last().unwrap().contains("preview failed (test)"),
            "{log:?}"
        );
    }

    #[test]
    fn a_failing_job_does_not_wait_for_its_preview() {
        let (store, clock) = store(1, Duration::from_secs(10), 1.0);
        let a = store
            .submit(NewJob {
                preview: Some(Slot::held()),
                ..new_job(1)
            })
            .id;
        clock.advance(Duration::from_secs(10));
        assert_eq!(state(&store, &a).0, JobState::Failed);
    }

    #[test]
    fn request_ids_match_the_official_pattern_and_differ() {
        let mut rng = fastrand::Rng::new();
        let a = new_request_id(&mut rng);
        let b = new_request_id(&mut rng);
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
    }
}
