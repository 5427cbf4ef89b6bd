//! A scripted fake server and a manual clock that jumps to the job's next wake-up: no sockets,
//! no sleeps. Every request, answer and event is written to a trace that tests assert on.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use crate::{
    CancelStatus, Event, Job, JobConfig, Outcome, RequestId, RequestKind, Response, Transmit,
    TransportError,
};

/// What the fake server does with one request.
#[derive(Debug, Clone)]
pub(crate) enum Reply {
    Respond(Response),
    Fail(TransportError),
    /// Keep the request in flight; the test answers it later with [`Harness::release`].
    Hold,
}

pub(crate) fn ok(body: &str) -> Reply {
    Reply::Respond(Response::new(200, body))
}

pub(crate) fn http(status: u16, body: &str) -> Reply {
    Reply::Respond(Response::new(status, body))
}

pub(crate) fn not_sent() -> Reply {
    Reply::Fail(TransportError::NotSent("connection refused".into()))
}

pub(crate) fn maybe_sent() -> Reply {
    Reply::Fail(TransportError::MaybeSent("timed out after sending".into()))
}

pub(crate) fn submitted(id: &str) -> Reply {
    ok(&format!(r#"{{"request_id":"{id}"}}"#))
}

pub(crate) fn queued(position: u64) -> Reply {
    ok(&format!(
        r#"{{"status":"in_queue","queue_position":{position}}}"#
    ))
}

pub(crate) fn running() -> Reply {
    ok(r#"{"status":"in_progress"}"#)
}

pub(crate) fn completed() -> Reply {
    ok(r#"{"status":"completed"}"#)
}

pub(crate) fn succeeded() -> Reply {
    ok(r#"{"status":"succeeded","output":{"video":"https://cdn.example/v.mp4"}}"#)
}

pub(crate) type Server = Box<dyn FnMut(&Transmit, Duration) -> Reply>;

pub(crate) struct Harness {
    pub(crate) job: Job,
    pub(crate) start: Instant,
    pub(crate) now: Instant,
    server: Server,
    held: Option<Transmit>,
    pub(crate) sent: Vec<Transmit>,
    /// When each of `sent` was sent, from the start.
    pub(crate) sent_times: Vec<Duration>,
    trace: String,
}

pub(crate) const MODEL: &str = "happyhorse/happyhorse-1.0/image-to-video";

impl Harness {
    /// A job submitting a small input, answered by `script` in order (running out is a test failure).
    pub(crate) fn submit(config: JobConfig, script: Vec<Reply>) -> Self {
        let start = Instant::now();
        let job = Job::submit(
            MODEL,
            br#"{"prompt":"a horse"}"#.to_vec(),
            config.with_seed(7),
            start,
        );
        Self::with_server(job, start, scripted(script))
    }

    /// A job submitting a small input, answered by a server function.
    pub(crate) fn submit_serving(config: JobConfig, server: Server) -> Self {
        let start = Instant::now();
        let job = Job::submit(
            MODEL,
            br#"{"prompt":"a horse"}"#.to_vec(),
            config.with_seed(7),
            start,
        );
        Self::with_server(job, start, server)
    }

    /// A resumed job, answered by `script`.
    pub(crate) fn resume(config: JobConfig, id: &str, script: Vec<Reply>) -> Self {
        let start = Instant::now();
        let job = Job::resume(RequestId::new(id).unwrap(), config.with_seed(7), start);
        Self::with_server(job, start, scripted(script))
    }

    /// A resumed job, answered by a server function (given the request and the time since start).
    pub(crate) fn resume_serving(config: JobConfig, id: &str, server: Server) -> Self {
        let start = Instant::now();
        let job = Job::resume(RequestId::new(id).unwrap(), config.with_seed(7), start);
        Self::with_server(job, start, server)
    }

    pub(crate) fn with_server(job: Job, start: Instant, server: Server) -> Self {
        Self {
            job,
            start,
            now: start,
            server,
            held: None,
            sent: Vec::new(),
            sent_times: Vec::new(),
            trace: String::new(),
        }
    }

    pub(crate) fn elapsed(&self) -> Duration {
        self.now - self.start
    }

    fn log(&mut self, line: impl std::fmt::Display) {
        let _ = writeln!(
            self.trace,
            "[{:>8.3}s] {line}",
            self.elapsed().as_secs_f64()
        );
    }

    /// Sends what is due and drains events; returns whether a request is now held.
    pub(crate) fn pump(&mut self) -> bool {
        while self.held.is_none() {
            let Some(transmit) = self.job.poll_transmit(self.now) else {
                break;
            };
            self.log(format!("-> {transmit}"));
            self.sent.push(transmit.clone());
            self.sent_times.push(self.elapsed());
            let elapsed = self.elapsed();
            let reply = (self.server)(&transmit, elapsed);
            self.deliver(transmit, reply);
        }
        self.drain_events();
        self.held.is_some()
    }

    fn deliver(&mut self, transmit: Transmit, reply: Reply) {
        match reply {
            Reply::Respond(response) => {
                let mut line = format!(
                    "<- {} {}",
                    response.status,
                    String::from_utf8_lossy(&response.body)
                );
                if let Some(after) = &response.retry_after {
                    let _ = write!(line, " (Retry-After: {after})");
                }
                self.log(line);
                self.job.handle_response(transmit.id, response, self.now);
            }
            Reply::Fail(error) => {
                self.log(format!("<- transport error: {error}"));
                self.job
                    .handle_transport_error(transmit.id, error, self.now);
            }
            Reply::Hold => {
                self.log("   (held)");
                self.held = Some(transmit);
            }
        }
    }

    /// Answers the held request now.
    pub(crate) fn release(&mut self, reply: Reply) {
        let transmit = self.held.take().expect("no request is held");
        self.deliver(transmit, reply);
        self.drain_events();
    }

    pub(crate) fn drain_events(&mut self) {
        while let Some(event) = self.job.poll_event() {
            self.log(format!("event {}", describe(&event)));
        }
    }

    /// One step: send what is due, then jump to the next wake-up. Returns false when nothing
    /// more can happen (terminal, or waiting on a held request).
    pub(crate) fn step(&mut self) -> bool {
        if self.pump() || self.job.is_terminal() {
            return false;
        }
        let wake = self
            .job
            .poll_timeout()
            .expect("a live job with nothing in flight must have a wake-up");
        assert!(wake >= self.start, "wake-up before the start");
        self.now = self.now.max(wake);
        self.job.handle_timeout(self.now);
        true
    }

    /// Runs until terminal (or a held request); panics after `max_steps`.
    pub(crate) fn run(&mut self) -> &mut Self {
        for _ in 0..100_000 {
            if !self.step() {
                return self;
            }
        }
        panic!("no end after 100000 steps:\n{}", self.trace);
    }

    /// Runs until the clock would pass `at` (from the start), then sets the clock to `at`.
    pub(crate) fn run_until(&mut self, at: Duration) -> &mut Self {
        let target = self.start + at;
        loop {
            if self.pump() || self.job.is_terminal() {
                break;
            }
            let wake = self.job.poll_timeout().expect("live job without wake-up");
            if wake > target {
                break;
            }
            self.now = self.now.max(wake);
            self.job.handle_timeout(self.now);
        }
        self.now = self.now.max(target);
        self
    }

    pub(crate) fn cancel(&mut self) -> &mut Self {
        self.log("command cancel");
        self.job.cancel(self.now);
        self.drain_events();
        self
    }

    pub(crate) fn trace(&self) -> &str {
        &self.trace
    }

    pub(crate) fn outcome(&self) -> &Outcome {
        self.job
            .outcome()
            .unwrap_or_else(|| panic!("not terminal:\n{}", self.trace))
    }

    /// The time between transmit `index - 1` and transmit `index`.
    pub(crate) fn gap_before(&self, index: usize) -> Duration {
        self.sent_times[index] - self.sent_times[index - 1]
    }

    pub(crate) fn count(&self, kind: RequestKind) -> usize {
        self.sent.iter().filter(|t| t.kind == kind).count()
    }
}

/// Replies in order; a request beyond the script fails the test with the trace so far.
pub(crate) fn scripted(script: Vec<Reply>) -> Server {
    let mut script = VecDeque::from(script);
    Box::new(move |transmit, at| {
        script
            .pop_front()
            .unwrap_or_else(|| panic!("script exhausted at {:.3}s by {transmit}", at.as_secs_f64()))
    })
}

/// One script per kind of request, each replayed in order.
pub(crate) fn routed(
    submit: Vec<Reply>,
    status: Vec<Reply>,
    result: Vec<Reply>,
    cancel: Vec<Reply>,
) -> Server {
    let mut scripts = [submit, status, result, cancel].map(VecDeque::from);
    Box::new(move |transmit, at| {
        let index = match transmit.kind {
            RequestKind::Submit => 0,
            RequestKind::Status => 1,
            RequestKind::Result => 2,
            RequestKind::Cancel => 3,
            other => panic!("a job never sends a {other} request"),
        };
        scripts[index].pop_front().unwrap_or_else(|| {
            panic!(
                "{} script exhausted at {:.3}s by {transmit}",
                transmit.kind,
                at.as_secs_f64()
            )
        })
    })
}

/// Events in one line each, short enough to read in a trace.
pub(crate) fn describe(event: &Event) -> String {
    match event {
        Event::Submitted { request_id } => format!("submitted {request_id}"),
        Event::Queued { position } => format!("queued at {position:?}"),
        Event::Running => "running".to_owned(),
        Event::Retrying {
            request,
            retry,
            delay,
            reason,
        } => {
            format!(
                "retrying {request} (retry {retry}) in {:.3}s: {reason}",
                delay.as_secs_f64()
            )
        }
        Event::Unrecognised { status } => format!("unrecognised status {status:?}"),
        Event::Cancel(status) => format!("cancel {}", describe_cancel(status)),
        Event::Finished(outcome) => format!("finished: {outcome}"),
    }
}

fn describe_cancel(status: &CancelStatus) -> String {
    match status {
        CancelStatus::Failed(error) => format!("failed: {error}"),
        other => format!("{other:?}"),
    }
}
