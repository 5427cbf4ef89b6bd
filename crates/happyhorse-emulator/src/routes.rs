//! The API listener's routes and handlers.

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use serde_json::{Value, json};

use crate::app::App;
use crate::body::EmuBody;
use crate::catalog::ListQuery;
use crate::faults::Endpoint;
use crate::queue::{Access, NewJob};
use crate::shapes::AnswerShapes;
use crate::validation::{self, Violation};
use crate::wire::{self, ApiError, ResultContext};
use crate::{images, query};

/// What a request to the API listener asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    Submit(String),
    ListModels,
    Categories,
    GetModel(String),
    Status(String),
    Result(String),
    Cancel(String),
    Stats,
    InspectJob(String),
    MethodNotAllowed(&'static str),
    NotFound,
}

impl Route {
    pub(crate) fn of(method: &Method, path: &str) -> Route {
        let get = method == Method::GET;
        let post = method == Method::POST;
        if let Some(rest) = path.strip_prefix("/v1/models") {
            let rest = rest.trim_end_matches('/');
            return match rest.strip_prefix('/') {
                None if rest.is_empty() => only(get, "GET", Route::ListModels),
                None => Route::NotFound,
                Some("categories") if get => Route::Categories,
                Some(id) if post => Route::Submit(id.to_owned()),
                Some(id) if get => Route::GetModel(id.to_owned()),
                Some(_) => Route::MethodNotAllowed("GET, POST"),
            };
        }
        if let Some(rest) = path.strip_prefix("/v1/requests/") {
            return match rest.split_once('/') {
                Some((id, "status")) => only(get, "GET", Route::Status(id.to_owned())),
                Some((id, "result")) => only(get, "GET", Route::Result(id.to_owned())),
                Some((id, "cancel")) => only(post, "POST", Route::Cancel(id.to_owned())),
                _ => Route::NotFound,
            };
        }
        if path == "/__emulator/stats" {
            return only(get, "GET", Route::Stats);
        }
        if let Some(id) = path.strip_prefix("/__emulator/jobs/") {
            return only(get, "GET", Route::InspectJob(id.to_owned()));
        }
        Route::NotFound
    }

    pub(crate) fn endpoint(&self) -> Endpoint {
        match self {
            Route::Submit(_) => Endpoint::Submit,
            Route::ListModels | Route::Categories | Route::GetModel(_) => Endpoint::Models,
            Route::Status(_) => Endpoint::Status,
            Route::Result(_) => Endpoint::Result,
            Route::Cancel(_) => Endpoint::Cancel,
            Route::Stats | Route::InspectJob(_) => Endpoint::Stats,
            Route::MethodNotAllowed(_) | Route::NotFound => Endpoint::Other,
        }
    }
}

fn only(allowed: bool, allow: &'static str, route: Route) -> Route {
    if allowed {
        route
    } else {
        Route::MethodNotAllowed(allow)
    }
}

/// Answers a routed API request. `unknown_status` replaces the status value (a fault).
pub(crate) async fn handle(
    app: &App,
    route: Route,
    request: Request<Incoming>,
    unknown_status: Option<&str>,
) -> Response<EmuBody> {
    let result = match route {
        Route::Stats => Ok(wire::json_response(StatusCode::OK, &app.snapshot())),
        Route::InspectJob(id) => inspect(app, &id),
        Route::NotFound => Err(ApiError::NoRoute(format!(
            "{} {}",
            request.method(),
            request.uri().path()
        ))),
        Route::MethodNotAllowed(allow) => Err(ApiError::MethodNotAllowed(allow)),
        Route::ListModels | Route::Categories | Route::GetModel(_) => catalog(app, route, &request),
        Route::Submit(model_id) => submit(app, &model_id, request).await,
        Route::Status(id) => status(app, &id, &request, unknown_status),
        Route::Result(id) => result(app, &id, &request, unknown_status),
        Route::Cancel(id) => cancel(app, &id, &request),
    };
    result.unwrap_or_else(|error| app.config.shapes.error_status(error.into_response()))
}

/// The model catalogue; like every call, it needs a token.
fn catalog(
    app: &App,
    route: Route,
    request: &Request<Incoming>,
) -> Result<Response<EmuBody>, ApiError> {
    owner(app, request)?;
    let body = match route {
        Route::ListModels => app.catalog.list(&list_query(request.uri().query())),
        Route::Categories => app.catalog.categories(),
        Route::GetModel(id) => match app.catalog.get(&id) {
            Some(model) => model.entry(true),
            None => return Err(ApiError::UnknownModelEntry(id)),
        },
        _ => return Err(ApiError::NoRoute(request.uri().path().to_owned())),
    };
    Ok(wire::json_response(StatusCode::OK, &body))
}

fn owner(app: &App, request: &Request<Incoming>) -> Result<u64, ApiError> {
    app.auth
        .check(request.headers())
        .map_err(|failure| ApiError::Auth(failure, app.config.auth_status))
}

async fn submit(
    app: &App,
    model_id: &str,
    request: Request<Incoming>,
) -> Result<Response<EmuBody>, ApiError> {
    let owner = owner(app, &request)?;
    let model = app
        .catalog
        .get(model_id)
        .ok_or_else(|| ApiError::UnknownModel(model_id.to_owned()))?;
    let body = read_body(request, app.config.max_body_bytes).await?;
    let input: Value = serde_json::from_slice(&body).map_err(|error| {
        ApiError::InvalidInput(
            format!("the body is not valid JSON: {error}"),
            vec![Violation::new("", "json", "", error.to_string())],
        )
    })?;
    let mut violations = validation::validate_input(model.spec, &input);
    let images = images::check_images(model.spec, &input, app.config.strict_images).await;
    violations.extend(images.violations);
    if !violations.is_empty() {
        let fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
        return Err(ApiError::InvalidInput(
            format!(
                "the input does not match the schema of {model_id}: {} problem(s) ({})",
                violations.len(),
                fields.join(", ")
            ),
            violations,
        ));
    }
    if app.config.insufficient_balance {
        return Err(ApiError::InsufficientBalance);
    }
    let mut log = images.log;
    let preview = crate::preview::request::start(app, model.spec, &input, images.fetched, &mut log);
    let job = app.jobs.submit(NewJob {
        owner,
        model_id: model_id.to_owned(),
        cost_usd: model.cost_of(&input),
        output_seconds: model.output_seconds(&input),
        log,
        preview,
    });
    app.auth.remember_submitter(owner);
    app.stats.submission(&input);
    tracing::info!(request_id = %job.id, model_id, queue_position = ?job.queue_position, "job submitted");
    Ok(wire::json_response(
        StatusCode::OK,
        &wire::submit(&app.base_url, &job.id),
    ))
}

/// Reads a body of at most `limit` bytes; a declared `Content-Length` over it is refused unread.
async fn read_body(request: Request<Incoming>, limit: usize) -> Result<Bytes, ApiError> {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(ApiError::TooLarge(limit));
    }
    Limited::new(request.into_body(), limit)
        .collect()
        .await
        .map(|body| body.to_bytes())
        .map_err(|error| {
            if error
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                ApiError::TooLarge(limit)
            } else {
                ApiError::InvalidInput(
                    format!("the body could not be read: {error}"),
                    vec![Violation::new("", "body", "", error.to_string())],
                )
            }
        })
}

fn find_job(
    app: &App,
    id: &str,
    request: &Request<Incoming>,
) -> Result<crate::queue::JobView, ApiError> {
    let owner = owner(app, request)?;
    if !valid_request_id(id) {
        return Err(ApiError::NotFound);
    }
    match app.jobs.get(id, owner) {
        Access::Found(job) => Ok(job),
        Access::NotFound => Err(ApiError::NotFound),
        Access::Forbidden => Err(ApiError::Forbidden),
    }
}

fn status(
    app: &App,
    id: &str,
    request: &Request<Incoming>,
    unknown_status: Option<&str>,
) -> Result<Response<EmuBody>, ApiError> {
    let job = find_job(app, id, request)?;
    let body =
        serde_json::to_value(wire::status(&app.base_url, &job, unknown_status)).unwrap_or_default();
    Ok(wire::json_response(
        StatusCode::OK,
        &app.config.shapes.reshape(body),
    ))
}

fn result(
    app: &App,
    id: &str,
    request: &Request<Incoming>,
    unknown_status: Option<&str>,
) -> Result<Response<EmuBody>, ApiError> {
    let job = find_job(app, id, request)?;
    let include_cost = query::param(request.uri().query(), "include_cost")
        .is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1");
    let video_url = app.video_url(&job.id);
    let image_url = app.image_url();
    let cx = ResultContext {
        video_url: &video_url,
        image_url: &image_url,
        shapes: app.config.shapes,
        created_at: app.clock.timestamp(job.created_at),
        finished_at: job.finished_at.map(|at| app.clock.timestamp(at)),
        include_cost,
        error_shape: app.config.error_shape,
        override_status: unknown_status,
    };
    let mut body = serde_json::to_value(wire::result(&job, cx)).unwrap_or_default();
    // Said on every succeeded result, so no one mistakes the emulator's video for a generated one.
    if job.state == crate::queue::JobState::Succeeded
        && let Some(object) = body.as_object_mut()
    {
        object.insert(
            "emulator".into(),
            crate::preview::request::label(app, &job.id),
        );
    }
    Ok(wire::json_response(
        StatusCode::OK,
        &app.config.shapes.reshape(body),
    ))
}

fn cancel(app: &App, id: &str, request: &Request<Incoming>) -> Result<Response<EmuBody>, ApiError> {
    let owner = owner(app, request)?;
    if !valid_request_id(id) {
        return Err(ApiError::NotFound);
    }
    match app.jobs.cancel(id, owner) {
        Access::Found((outcome, job)) => {
            tracing::info!(request_id = %job.id, ?outcome, "cancel requested");
            let answer = wire::cancel(&job, outcome);
            if app.config.shapes.malformed_cancel {
                let status = answer.status.as_ref().map_or("", |s| s.as_str());
                return Ok(AnswerShapes::malformed_cancel(
                    &job.id,
                    status,
                    answer.outcome.as_str(),
                ));
            }
            Ok(wire::json_response(StatusCode::ACCEPTED, &answer))
        }
        Access::NotFound => Err(ApiError::NotFound),
        Access::Forbidden => Err(ApiError::Forbidden),
    }
}

/// The emulator's own view of a job, whoever owns it, with its log.
fn inspect(app: &App, id: &str) -> Result<Response<EmuBody>, ApiError> {
    let job = inspection(app, id).ok_or(ApiError::NotFound)?;
    Ok(wire::json_response(StatusCode::OK, &job))
}

/// What `GET /__emulator/jobs/{id}` answers: the emulator's own view of a job.
pub(crate) fn inspection(app: &App, id: &str) -> Option<Value> {
    let job = app.jobs.inspect(id)?;
    Some(json!({
            "request_id": job.id,
            "model_id": job.model_id,
            "status": wire::status_word(job.state),
            "queue_position": job.queue_position,
            "created_at": app.clock.timestamp(job.created_at),
            "started_at": job.started_at.map(|at| app.clock.timestamp(at)),
            "finished_at": job.finished_at.map(|at| app.clock.timestamp(at)),
            "processing_seconds": job.processing.as_secs_f64(),
            "output_seconds": job.output_seconds,
            "cost_usd": job.cost_usd,
            "log": job.log,
    }))
}

/// The official clients' id pattern: `^[a-zA-Z0-9_-]{1,128}$`.
fn valid_request_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn list_query(query: Option<&str>) -> ListQuery {
    ListQuery {
        search: query::param(query, "search"),
        category: query::param(query, "category"),
        kind: query::param(query, "kind"),
        include_schema: query::param(query, "include_schema")
            .is_some_and(|v| v == "true" || v == "1"),
        limit: query::param(query, "limit").and_then(|v| v.parse().ok()),
        offset: query::param(query, "offset")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_ids_keep_their_slashes() {
        let id = "happyhorse/happyhorse-1.0/image-to-video";
        assert_eq!(
            Route::of(&Method::POST, &format!("/v1/models/{id}")),
            Route::Submit(id.to_owned())
        );
        assert_eq!(
            Route::of(&Method::GET, &format!("/v1/models/{id}/")),
            Route::GetModel(id.to_owned())
        );
        assert_eq!(Route::of(&Method::GET, "/v1/models"), Route::ListModels);
        assert_eq!(
            Route::of(&Method::GET, "/v1/models/categories"),
            Route::Categories
        );
        assert_eq!(Route::of(&Method::GET, "/v1/modelsx"), Route::NotFound);
    }

    #[test]
    fn request_routes_check_methods() {
        assert_eq!(
            Route::of(&Method::GET, "/v1/requests/abc/status"),
            Route::Status("abc".into())
        );
        assert_eq!(
            Route::of(&Method::POST, "/v1/requests/abc/cancel"),
            Route::Cancel("abc".into())
        );
        assert_eq!(
            Route::of(&Method::GET, "/v1/requests/abc/cancel"),
            Route::MethodNotAllowed("POST")
        );
        assert_eq!(
            Route::of(&Method::GET, "/v1/requests/abc/other"),
            Route::NotFound
        );
        assert_eq!(
            Route::of(&Method::DELETE, "/v1/models/x"),
            Route::MethodNotAllowed("GET, POST")
        );
    }

    #[test]
    fn request_id_pattern() {
        assert!(valid_request_id("a-b_C9"));
        assert!(!valid_request_id(""));
        assert!(!valid_request_id("a.b"));
        assert!(!valid_request_id(&"a".repeat(129)));
    }
}
