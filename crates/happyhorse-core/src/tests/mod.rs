//! In-crate tests of the job state machine: a scripted fake server and a manual clock
//! (`harness`), with a trace of every request, answer and event that tests assert on.

mod answers;
mod cancel;
mod harness;
mod hostile;
mod lifecycle;
mod oneshot;
mod props;
mod retry;
mod throttle;
