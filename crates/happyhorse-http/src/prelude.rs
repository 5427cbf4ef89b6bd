//! Everything a user of the client needs, in one `use`: the client and its jobs, and every type
//! that an [`Event`], an [`Outcome`], a cancel verdict or an error carries — so code can match
//! all of them without depending on `happyhorse-core` itself.
//!
//! ```
//! use happyhorse_http::prelude::*;
//!
//! fn describe(event: &Event) -> String {
//!     match event {
//!         Event::Submitted { request_id } => format!("submitted {request_id}"),
//!         Event::Queued { position } => format!("queued at {position:?}"),
//!         Event::Running => "running".to_owned(),
//!         Event::Retrying { request, retry, delay, reason } => {
//!             let _: (&RequestKind, &CoreError) = (request, reason);
//!             format!("retry {retry} of {request} in {delay:?}")
//!         }
//!         Event::Unrecognised { status } => format!("status {status:?}"),
//!         Event::Cancel(CancelStatus::Failed(error)) => format!("cancel failed: {error}"),
//!         Event::Cancel(status) => format!("cancel: {status}"),
//!         Event::Finished(Outcome::Succeeded { request_id, .. }) => format!("{request_id} done"),
//!         Event::Finished(outcome) => outcome.to_string(),
//!         _ => "something newer".to_owned(),
//!     }
//! }
//! assert_eq!(describe(&Event::Running), "running");
//! ```
//!
//! The trait [`StreamExt`](futures::StreamExt) comes in unnamed, so `events.next().await` works
//! on [`EventStream`] and [`Batch`] without a `futures` dependency.

pub use futures::StreamExt as _;

pub use crate::{
    AnyModel, ApiError, ApiErrorKind, Batch, BatchCanceller, BatchEvent, BatchItem, BatchJob,
    BatchOptions, CancelResult, CancelStatus, CancelVerdict, Client, ClientBuilder, CoreError,
    DownloadOptions, DownloadReport, Error, ErrorKind, Estimate, Event, EventStream, ImageSource,
    InputError, InputErrors, InvalidRequestId, JobCanceller, JobFailure, JobHandle, JobModel,
    JobResult, JobState, MediaSource, NextStep, Outcome, OutputFile, PollPhase, PollPolicy,
    RequestId, RequestKind, RetryPolicy, RunningOnCancel, SubmitUnknown, Throttle, TransportError,
};
pub use happyhorse_core::carried::*;
pub use happyhorse_types::{Model, ModelSpec};
