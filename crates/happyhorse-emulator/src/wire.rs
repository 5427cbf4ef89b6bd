//! What goes on the wire: the queue envelopes of `happyhorse-types`, filled from job views, and
//! error bodies with RunComfy's error codes.

use happyhorse_types::{
    CancelOutcome as WireOutcome, CancelResponse, ErrorBody, ErrorCode, JobStatus, ResultResponse,
    ServiceError, StatusResponse, SubmitResponse,
};
use http::{HeaderValue, Response, StatusCode, header};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::auth::AuthFailure;
use crate::body::EmuBody;
use crate::builder::{AuthStatus, ErrorShape};
use crate::faults::FaultKind;
use crate::queue::{CancelOutcome, JobState, JobView};
use crate::shapes::AnswerShapes;
use crate::validation::Violation;

/// The URLs of a job on this emulator.
pub(crate) struct JobUrls {
    pub(crate) status: String,
    pub(crate) result: String,
    pub(crate) cancel: String,
}

impl JobUrls {
    pub(crate) fn new(base_url: &str, id: &str) -> Self {
        let prefix = format!("{base_url}/v1/requests/{id}");
        Self {
            status: format!("{prefix}/status"),
            result: format!("{prefix}/result"),
            cancel: format!("{prefix}/cancel"),
        }
    }
}

/// `/status` vocabulary: a finished job reads `completed`, whether it succeeded or failed.
pub(crate) fn status_word(state: JobState) -> JobStatus {
    match state {
        JobState::Queued => JobStatus::InQueue,
        JobState::Running => JobStatus::InProgress,
        JobState::Succeeded | JobState::Failed => JobStatus::Completed,
        JobState::Cancelled => JobStatus::Cancelled,
    }
}

/// `/result` vocabulary.
fn result_word(state: JobState) -> JobStatus {
    match state {
        JobState::Queued => JobStatus::InQueue,
        JobState::Running => JobStatus::InProgress,
        JobState::Succeeded => JobStatus::Succeeded,
        JobState::Failed => JobStatus::Failed,
        JobState::Cancelled => JobStatus::Cancelled,
    }
}

pub(crate) fn submit(base_url: &str, id: &str) -> SubmitResponse {
    let urls = JobUrls::new(base_url, id);
    SubmitResponse {
        request_id: id.to_owned(),
        status_url: Some(urls.status),
        result_url: Some(urls.result),
        cancel_url: Some(urls.cancel),
    }
}

pub(crate) fn status(
    base_url: &str,
    job: &JobView,
    override_status: Option<&str>,
) -> StatusResponse {
    let urls = JobUrls::new(base_url, &job.id);
    StatusResponse {
        request_id: Some(job.id.clone()),
        status: override_status.map_or_else(|| status_word(job.state), JobStatus::from),
        queue_position: job.queue_position,
        status_url: Some(urls.status),
        result_url: Some(urls.result),
    }
}

/// Everything `/result` needs besides the job.
pub(crate) struct ResultContext<'a> {
    pub(crate) video_url: &'a str,
    /// An image beside the video, for the output shapes that carry one.
    pub(crate) image_url: &'a str,
    pub(crate) shapes: AnswerShapes,
    pub(crate) created_at: String,
    pub(crate) finished_at: Option<String>,
    pub(crate) include_cost: bool,
    pub(crate) error_shape: ErrorShape,
    pub(crate) override_status: Option<&'a str>,
}

pub(crate) fn result(job: &JobView, cx: ResultContext<'_>) -> ResultResponse {
    let output =
        (job.state == JobState::Succeeded).then(|| cx.shapes.output(cx.video_url, cx.image_url));
    let error = job.error.as_ref().map(|message| match cx.error_shape {
        ErrorShape::String => ServiceError::Message(message.clone()),
        ErrorShape::Object => {
            let mut object = Map::new();
            object.insert("type".into(), json!("generation_failed"));
            object.insert("message".into(), json!(message));
            ServiceError::Object(object)
        }
    });
    ResultResponse {
        request_id: Some(job.id.clone()),
        status: cx
            .override_status
            .map_or_else(|| result_word(job.state), JobStatus::from),
        output,
        error,
        created_at: Some(cx.created_at),
        finished_at: cx.finished_at,
        cost: if cx.include_cost { job.cost_usd } else { None },
    }
}

pub(crate) fn cancel(job: &JobView, outcome: CancelOutcome) -> CancelResponse {
    CancelResponse {
        request_id: Some(job.id.clone()),
        status: Some(status_word(job.state)),
        outcome: match outcome {
            CancelOutcome::Cancelled => WireOutcome::Cancelled,
            CancelOutcome::NotCancellable => WireOutcome::NotCancellable,
        },
    }
}

/// An error answer of the API.
#[derive(Debug)]
pub(crate) enum ApiError {
    /// `400001` InvalidResourceIdentifier: a submit to a model that does not exist (documented).
    UnknownModel(String),
    /// `404001` ResourceNotFound: the catalogue entry of a model that does not exist.
    UnknownModelEntry(String),
    /// `400004` UserAccountError.
    Auth(AuthFailure, AuthStatus),
    /// `403001` PermissionDenied.
    Forbidden,
    /// `404001` ResourceNotFound.
    NotFound,
    /// `400002` InsufficientResources.
    InsufficientBalance,
    /// `422001` (the emulator's code): the body is not valid input; every violation in `detail`.
    InvalidInput(String, Vec<Violation>),
    /// `413001` (the emulator's code): the body exceeds the size limit.
    TooLarge(usize),
    /// `404001`: no such endpoint.
    NoRoute(String),
    /// `405001` (the emulator's code).
    MethodNotAllowed(&'static str),
}

impl ApiError {
    pub(crate) fn into_response(self) -> Response<EmuBody> {
        let (status, code, message, detail) = match self {
            ApiError::UnknownModel(id) => (
                StatusCode::BAD_REQUEST,
                400001,
                format!("InvalidResourceIdentifier: unknown model_id {id:?}"),
                Some(json!({ "model_id": id })),
            ),
            ApiError::Auth(failure, status) => (
                StatusCode::from_u16(status.code()).unwrap_or(StatusCode::BAD_REQUEST),
                400004,
                match failure {
                    AuthFailure::Missing => {
                        "UserAccountError: missing API token (send Authorization: Bearer <token>)"
                    }
                    AuthFailure::Unknown => {
                        "UserAccountError: the API token is invalid, expired or revoked"
                    }
                }
                .to_owned(),
                None,
            ),
            ApiError::Forbidden => (
                StatusCode::FORBIDDEN,
                403001,
                "PermissionDenied: the request belongs to another user".to_owned(),
                None,
            ),
            ApiError::UnknownModelEntry(id) => (
                StatusCode::NOT_FOUND,
                404001,
                format!("ResourceNotFound: no model {id:?} in the catalogue"),
                Some(json!({ "model_id": id })),
            ),
            ApiError::NotFound => (
                StatusCode::NOT_FOUND,
                404001,
                "ResourceNotFound: unknown, deleted or expired request_id".to_owned(),
                None,
            ),
            ApiError::InsufficientBalance => (
                StatusCode::BAD_REQUEST,
                400002,
                "InsufficientResources: the account balance is too low".to_owned(),
                None,
            ),
            ApiError::InvalidInput(message, violations) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                422001,
                message,
                Some(serde_json::to_value(violations).unwrap_or(Value::Null)),
            ),
            ApiError::TooLarge(limit) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                413001,
                format!("the request body exceeds {limit} bytes"),
                Some(json!({ "limit_bytes": limit })),
            ),
            ApiError::NoRoute(what) => (
                StatusCode::NOT_FOUND,
                404001,
                format!("ResourceNotFound: no endpoint {what}"),
                None,
            ),
            ApiError::MethodNotAllowed(allow) => {
                let mut response = error_response(
                    StatusCode::METHOD_NOT_ALLOWED,
                    405001,
                    format!("method not allowed; use {allow}"),
                    None,
                );
                response
                    .headers_mut()
                    .insert(header::ALLOW, HeaderValue::from_static(allow));
                return response;
            }
        };
        error_response(status, code, message, detail)
    }
}

/// An error body with `error_code`, `error_message` and, where useful, `detail`.
pub(crate) fn error_response(
    status: StatusCode,
    code: i64,
    message: String,
    detail: Option<Value>,
) -> Response<EmuBody> {
    json_response(
        status,
        &ErrorBody {
            error_code: Some(ErrorCode::Number(code)),
            error_message: Some(message),
            message: None,
            error: None,
            detail,
        },
    )
}

pub(crate) fn json_response(status: StatusCode, body: &impl Serialize) -> Response<EmuBody> {
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    let mut response = Response::new(EmuBody::full(bytes));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// The answer of a fault that replaces the real answer.
pub(crate) fn fault_response(
    kind: FaultKind,
    storage: bool,
    retry_after_secs: u64,
) -> Response<EmuBody> {
    let injected = |what: &str| format!("{what} (injected fault)");
    let mut response = match kind {
        FaultKind::Http502 => {
            let mut response = Response::new(EmuBody::full(
                "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>",
            ));
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
            *response.status_mut() = StatusCode::BAD_GATEWAY;
            return response;
        }
        FaultKind::Http500 if storage => crate::storage::text(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error (injected fault)",
        ),
        FaultKind::Http503 if storage => crate::storage::text(
            StatusCode::SERVICE_UNAVAILABLE,
            "service unavailable (injected fault)",
        ),
        FaultKind::Http500 => error_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            500000,
            injected("internal server error"),
            None,
        ),
        FaultKind::Http503 => error_response(
            StatusCode::SERVICE_UNAVAILABLE,
            503000,
            injected("service temporarily unavailable"),
            None,
        ),
        FaultKind::RateLimited => error_response(
            StatusCode::TOO_MANY_REQUESTS,
            429000,
            injected("too many requests"),
            None,
        ),
        // Everything else is an error dressed as success.
        _ => error_response(StatusCode::OK, 500000, injected("internal error"), None),
    };
    if kind == FaultKind::RateLimited {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
    }
    response
}
