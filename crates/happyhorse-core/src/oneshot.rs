//! One-shot calls outside a [`Job`](crate::Job): build the request for a known id, read its
//! answer — with the same wire vocabulary and error mapping the job uses.
//!
//! ```
//! use happyhorse_core::{oneshot, RequestId, Response};
//! use happyhorse_core::vocabulary::JobState;
//!
//! let id = RequestId::new("abc")?;
//! let request = oneshot::status(&id);
//! assert_eq!(request.path, "/v1/requests/abc/status");
//!
//! let status = oneshot::read_status(&Response::new(200, r#"{"status":"in_queue","queue_position":2}"#))?;
//! assert_eq!(happyhorse_core::vocabulary::state_from_status(&status), JobState::Queued { position: Some(2) });
//!
//! let error = oneshot::read_status(&Response::new(400, r#"{"error_code":400004,"error_message":"bad token"}"#)).unwrap_err();
//! assert!(error.to_string().starts_with("the API token was refused (HTTP 400, code 400004): bad token"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use happyhorse_types::{CancelResponse, ResultResponse, StatusResponse, SubmitResponse};
use serde::de::DeserializeOwned;

use crate::error::{ApiError, Error};
use crate::vocabulary::{self, Answer};
use crate::{RequestId, RequestKind, Response, Transmit, TransmitId};

/// `POST /v1/models/{model_id}` with `body`. Sending it creates (and may bill) a job: never
/// repeat it after a failure that may have reached the service.
pub fn submit(model_id: &str, body: Vec<u8>) -> Transmit {
    Transmit::submit(TransmitId::ONESHOT, model_id, body)
}

/// `GET /v1/requests/{id}/status`.
pub fn status(request_id: &RequestId) -> Transmit {
    Transmit::for_job(TransmitId::ONESHOT, RequestKind::Status, request_id, false)
}

/// `GET /v1/requests/{id}/result`, with `?include_cost=true` when `include_cost`.
pub fn result(request_id: &RequestId, include_cost: bool) -> Transmit {
    Transmit::for_job(
        TransmitId::ONESHOT,
        RequestKind::Result,
        request_id,
        include_cost,
    )
}

/// `POST /v1/requests/{id}/cancel`.
pub fn cancel(request_id: &RequestId) -> Transmit {
    Transmit::for_job(TransmitId::ONESHOT, RequestKind::Cancel, request_id, false)
}

fn read<T: DeserializeOwned>(kind: RequestKind, response: &Response) -> Result<T, Error> {
    match vocabulary::read::<T>(kind, response) {
        Answer::Ok(value) => Ok(value),
        Answer::Api(error) => Err(Error::Api(error)),
        Answer::Garbled(error) => Err(error),
    }
}

/// Reads a submit answer; the id is checked.
pub fn read_submit(response: &Response) -> Result<(RequestId, SubmitResponse), Error> {
    let submitted: SubmitResponse = read(RequestKind::Submit, response)?;
    Ok((vocabulary::request_id_from_submit(&submitted)?, submitted))
}

/// Reads a `/status` answer (see [`vocabulary::state_from_status`] for its meaning).
pub fn read_status(response: &Response) -> Result<StatusResponse, Error> {
    read(RequestKind::Status, response)
}

/// Reads a `/result` answer (see [`vocabulary::state_from_result`] for its meaning).
pub fn read_result(response: &Response) -> Result<ResultResponse, Error> {
    read(RequestKind::Result, response)
}

/// Reads a cancel answer.
pub fn read_cancel(response: &Response) -> Result<CancelResponse, Error> {
    read(RequestKind::Cancel, response)
}

/// Reads an error answer from any call, the catalogue's included: the service's code, message
/// and `Retry-After`, field by field, so one field of an unexpected type hides none of the others.
///
/// ```
/// use happyhorse_core::{oneshot, ApiErrorKind, Response};
///
/// let error = oneshot::read_error(&Response::new(404, r#"{"error_code":404001,"error_message":42}"#));
/// assert_eq!(error.kind, ApiErrorKind::NotFound);
/// assert_eq!(error.message, None);
/// ```
pub fn read_error(response: &Response) -> ApiError {
    vocabulary::read_error(response)
}
