//! The storage host: a second listener (a different origin) serving output files with
//! `Content-Length`, `ETag` and `Range`, and recording every `Authorization` header it receives.

use http::{HeaderValue, Method, Request, Response, StatusCode, header};

use crate::app::App;
use crate::body::EmuBody;
use crate::queue::JobState;
use crate::stats::AuthorizationSeen;

/// The MP4 served as every job's output: a real H.264 clip rendered by the project and checked in.
pub(crate) static VIDEO_FIXTURE: &[u8] = include_bytes!("../fixtures/horse.mp4");

/// A strong `ETag` for a body: FNV-1a over its bytes.
pub(crate) fn etag_of(bytes: &[u8]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("\"{hash:016x}\"")
}

/// Records the request's `Authorization` header, if any (never its credential).
pub(crate) fn record<B>(app: &App, request: &Request<B>) {
    let seen = request.headers().get(header::AUTHORIZATION).map(|value| {
        let text = value.to_str().unwrap_or("");
        let scheme = text.split_whitespace().next().unwrap_or("").to_owned();
        let matches_api_token = app.auth.is_api_credential(text);
        tracing::warn!(
            path = request.uri().path(),
            scheme,
            matches_api_token,
            "storage host received an Authorization header"
        );
        AuthorizationSeen {
            method: request.method().to_string(),
            path: request.uri().path().to_owned(),
            scheme,
            matches_api_token,
        }
    });
    app.stats.storage_request(seen);
}

/// What a storage path names.
enum File {
    Bytes(bytes::Bytes, String),
    Synthetic(u64),
}

/// Answers a storage request.
pub(crate) fn handle<B>(app: &App, request: &Request<B>) -> Response<EmuBody> {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        let mut response = text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return response;
    }
    let path = request.uri().path();
    let file = if let Some(size) = path.strip_prefix("/synthetic/") {
        match size.parse() {
            Ok(size) => File::Synthetic(size),
            Err(_) => return text(StatusCode::NOT_FOUND, "not found"),
        }
    } else if let Some(id) = path
        .strip_prefix("/files/")
        .and_then(|name| name.strip_suffix(".mp4"))
    {
        let succeeded = app
            .jobs
            .inspect(id)
            .is_some_and(|job| job.state == JobState::Succeeded);
        if !succeeded {
            return text(StatusCode::NOT_FOUND, "not found");
        }
        match (
            app.config.large_file_size,
            crate::preview::request::ready(app, id),
        ) {
            (Some(size), _) => File::Synthetic(size),
            (None, Some(preview)) => File::Bytes(preview.bytes.clone(), preview.etag.clone()),
            (None, None) => File::Bytes(app.video.clone(), app.video_etag.clone()),
        }
    } else {
        return text(StatusCode::NOT_FOUND, "not found");
    };
    let (len, etag) = match &file {
        File::Bytes(bytes, etag) => (bytes.len() as u64, etag.clone()),
        File::Synthetic(size) => (*size, format!("\"synthetic-{size}\"")),
    };
    let content_type = match file {
        File::Synthetic(_) if path.starts_with("/synthetic/") => "application/octet-stream",
        _ => "video/mp4",
    };
    let headers = request.headers();
    let header_text = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    if header_text(header::IF_NONE_MATCH).is_some_and(|tags| tags_match(tags, &etag)) {
        let mut response = Response::new(EmuBody::empty());
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        response.headers_mut().insert(header::ETAG, value(&etag));
        return response;
    }
    let if_range_ok = header_text(header::IF_RANGE).is_none_or(|tag| tag.trim() == etag);
    let range = match header_text(header::RANGE).filter(|_| if_range_ok) {
        None => None,
        Some(spec) => match parse_range(spec, len) {
            RangeSpec::Ignore => None,
            RangeSpec::Unsatisfiable => {
                let mut response = text(StatusCode::RANGE_NOT_SATISFIABLE, "range not satisfiable");
                response
                    .headers_mut()
                    .insert(header::CONTENT_RANGE, value(&format!("bytes */{len}")));
                return response;
            }
            RangeSpec::Satisfiable(start, end) => Some((start, end)),
        },
    };
    let (start, end) = range.unwrap_or((0, len.saturating_sub(1)));
    let body = if len == 0 {
        EmuBody::empty()
    } else {
        match file {
            File::Bytes(bytes, _) => EmuBody::full(bytes.slice(start as usize..=end as usize)),
            File::Synthetic(_) => EmuBody::Synthetic {
                next: start,
                end: end + 1,
            },
        }
    };
    let body_len = body.len();
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CONTENT_LENGTH, value(&body_len.to_string()));
    headers.insert(header::ETAG, value(&etag));
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if range.is_some() {
        headers.insert(
            header::CONTENT_RANGE,
            value(&format!("bytes {start}-{end}/{len}")),
        );
        *response.status_mut() = StatusCode::PARTIAL_CONTENT;
    }
    response
}

fn tags_match(list: &str, etag: &str) -> bool {
    list.split(',')
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == "*" || tag == etag)
}

#[derive(Debug, PartialEq, Eq)]
enum RangeSpec {
    /// Malformed or multi-range: served as a whole (RFC 9110 allows ignoring Range).
    Ignore,
    Unsatisfiable,
    /// Inclusive byte positions.
    Satisfiable(u64, u64),
}

fn parse_range(spec: &str, len: u64) -> RangeSpec {
    let Some(ranges) = spec.trim().strip_prefix("bytes=") else {
        return RangeSpec::Ignore;
    };
    if ranges.contains(',') {
        return RangeSpec::Ignore;
    }
    let Some((first, last)) = ranges.trim().split_once('-') else {
        return RangeSpec::Ignore;
    };
    let (first, last) = (first.trim(), last.trim());
    if first.is_empty() {
        // Suffix: the last N bytes.
        return match last.parse::<u64>() {
            Ok(0) => RangeSpec::Unsatisfiable,
            Ok(_) if len == 0 => RangeSpec::Unsatisfiable,
            Ok(n) => RangeSpec::Satisfiable(len.saturating_sub(n), len - 1),
            Err(_) => RangeSpec::Ignore,
        };
    }
    let Ok(start) = first.parse::<u64>() else {
        return RangeSpec::Ignore;
    };
    let end = if last.is_empty() {
        len.saturating_sub(1)
    } else {
        match last.parse::<u64>() {
            Ok(end) if end >= start => end.min(len.saturating_sub(1)),
            _ => return RangeSpec::Ignore,
        }
    };
    if start >= len {
        RangeSpec::Unsatisfiable
    } else {
        RangeSpec::Satisfiable(start, end)
    }
}

fn value(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

pub(crate) fn text(status: StatusCode, message: &'static str) -> Response<EmuBody> {
    let mut response = Response::new(EmuBody::full(message));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        use RangeSpec::*;
        assert_eq!(parse_range("bytes=0-9", 100), Satisfiable(0, 9));
        assert_eq!(parse_range("bytes=90-", 100), Satisfiable(90, 99));
        assert_eq!(parse_range("bytes=90-500", 100), Satisfiable(90, 99));
        assert_eq!(parse_range("bytes=-10", 100), Satisfiable(90, 99));
        assert_eq!(parse_range("bytes=-500", 100), Satisfiable(0, 99));
        assert_eq!(parse_range("bytes=100-", 100), Unsatisfiable);
        assert_eq!(parse_range("bytes=-0", 100), Unsatisfiable);
        assert_eq!(parse_range("bytes=0-1,5-6", 100), Ignore);
        assert_eq!(parse_range("bytes=5-1", 100), Ignore);
        assert_eq!(parse_range("items=0-1", 100), Ignore);
    }

    #[test]
    fn etags_match_lists_and_weak_forms() {
        assert!(tags_match("\"a\", \"b\"", "\"b\""));
        assert!(tags_match("W/\"b\"", "\"b\""));
        assert!(tags_match("*", "\"b\""));
        assert!(!tags_match("\"a\"", "\"b\""));
    }
}
