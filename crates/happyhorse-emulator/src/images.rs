//! Media inputs (images and videos) checked the way the service would, each by its field's rule:
//! `data:` URIs decoded, loopback URLs fetched, and both checked fully; other URLs cannot be
//! reached from here, so they are accepted unchecked (and the job's log says so) or, in strict
//! mode, rejected.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Uri};
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpStream;

use happyhorse_types::ModelSpec;
use happyhorse_types::rules::MediaRule;

use crate::validation::{self, Violation};

/// Larger downloads are cut off: the largest limit is video-edit's 100 MB, so anything past
/// this is too big anyway (and for a rule without a limit, what a request can carry).
const MAX_FETCH_BYTES: usize = 100_000_001;
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// What checking a body's images found.
#[derive(Debug, Default)]
pub(crate) struct ImageReport {
    pub(crate) violations: Vec<Violation>,
    /// Notes for the job's log (images accepted unchecked).
    pub(crate) log: Vec<String>,
    /// The images that were fetched and passed the checks, by field (for the preview).
    pub(crate) fetched: HashMap<String, Bytes>,
}

/// Fetches and checks every media URL of `input` that can be fetched from here; `data:` URIs
/// and malformed references are left to [`validation::validate_input`], which checks them.
pub(crate) async fn check_images(spec: &ModelSpec, input: &Value, strict: bool) -> ImageReport {
    let mut report = ImageReport::default();
    let Some(object) = input.as_object() else {
        return report;
    };
    for (field, value) in object {
        let Some(url) = value.as_str() else {
            continue;
        };
        if let Some(rule) = validation::fetch_rule(spec, field, url) {
            check_url(field, rule, url, strict, &mut report).await;
        }
    }
    report
}

async fn check_url(
    field: &str,
    rule: &MediaRule,
    url: &str,
    strict: bool,
    report: &mut ImageReport,
) {
    let uri = url.trim().parse::<Uri>().ok();
    let loopback_http = uri
        .as_ref()
        .filter(|uri| uri.scheme_str() == Some("http") && uri.host().is_some_and(is_loopback));
    if let Some(uri) = loopback_http {
        match fetch(uri).await {
            Ok(bytes) => {
                let broken = validation::check_media(field, rule, &bytes);
                if broken.is_empty() {
                    report.fetched.insert(field.to_owned(), bytes);
                } else {
                    report.violations.extend(broken);
                }
            }
            Err(reason) => report.violations.push(Violation::new(
                field,
                &format!("{}_fetch", rule.kind()),
                url,
                format!("{field}: could not be fetched: {reason}"),
            )),
        }
        return;
    }
    let host = uri.as_ref().and_then(Uri::host).unwrap_or("?").to_owned();
    if strict {
        report.violations.push(Violation::new(
            field,
            &format!("{}_unreachable", rule.kind()),
            url,
            format!(
                "{field}: cannot be fetched by the emulator (only data: URIs and http:// URLs on loopback can be); \
                 strict image checking is on, so it is rejected"
            ),
        ));
    } else {
        tracing::info!(
            field,
            host,
            "media accepted unchecked: the emulator cannot fetch it"
        );
        report.log.push(format!(
            "{field} on {host} accepted unchecked: the emulator cannot fetch it (--strict-images rejects it)"
        ));
    }
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// GETs a loopback URL over HTTP/1.1 and returns its body (status 200 only).
async fn fetch(uri: &Uri) -> Result<Bytes, String> {
    tokio::time::timeout(FETCH_TIMEOUT, fetch_inner(uri))
        .await
        .map_err(|_| format!("no answer within {} s", FETCH_TIMEOUT.as_secs()))?
}

async fn fetch_inner(uri: &Uri) -> Result<Bytes, String> {
    let host = uri.host().unwrap_or_default();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = uri.port_u16().unwrap_or(80);
    let stream = TcpStream::connect((host, port))
        .await
        .map_err(|e| format!("cannot connect: {e}"))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("HTTP handshake failed: {e}"))?;
    // The connection task ends as soon as `sender` is dropped.
    tokio::spawn(connection);
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let authority = uri.authority().map_or(host, |a| a.as_str());
    let request = Request::get(path)
        .header(http::header::HOST, authority)
        .body(Empty::<Bytes>::new())
        .map_err(|e| format!("bad request: {e}"))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| format!("request failed: {e}"))?;
    if response.status() != http::StatusCode::OK {
        return Err(format!("HTTP {}", response.status()));
    }
    Limited::new(response.into_body(), MAX_FETCH_BYTES)
        .collect()
        .await
        .map(|body| body.to_bytes())
        .map_err(|e| format!("reading the body failed: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use happyhorse_types::image_to_video::SPEC as I2V;
    use serde_json::json;

    #[test]
    fn loopback_hosts() {
        for host in ["127.0.0.1", "127.1.2.3", "localhost", "[::1]", "LOCALHOST"] {
            assert!(is_loopback(host), "{host}");
        }
        for host in [
            "example.com",
            "10.0.0.1",
            "playgrounds-storage-public.runcomfy.net",
        ] {
            assert!(!is_loopback(host), "{host}");
        }
    }

    #[tokio::test]
    async fn remote_urls_are_logged_or_rejected_when_strict() {
        let input = json!({"image_url": "https://example.com/a.png", "prompt": "x"});
        let lenient = check_images(&I2V, &input, false).await;
        assert!(lenient.violations.is_empty());
        assert!(
            lenient.log[0].contains("accepted unchecked"),
            "{:?}",
            lenient.log
        );
        let strict = check_images(&I2V, &input, true).await;
        assert_eq!(strict.violations[0].field, "image_url");
        assert_eq!(strict.violations[0].rule, "image_unreachable");
    }

    #[tokio::test]
    async fn references_validate_input_checks_are_not_reported_twice() {
        for url in [
            "ftp://example.com/a.png",
            "data:image/png;base64,AAAA",
            "./a.png",
        ] {
            let report = check_images(&I2V, &json!({"image_url": url}), true).await;
            assert!(
                report.violations.is_empty() && report.log.is_empty(),
                "{url}"
            );
        }
        let report =
            check_images(&I2V, &json!({"prompt": "https://example.com/a.png"}), true).await;
        assert!(report.violations.is_empty());
    }

    #[tokio::test]
    async fn unreachable_loopback_urls_are_rejected() {
        // Bind then drop a listener to get a port nobody listens on.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let input = json!({"image_url": format!("http://127.0.0.1:{port}/a.png")});
        let report = check_images(&I2V, &input, false).await;
        assert_eq!(
            report.violations[0].rule, "image_fetch",
            "{:?}",
            report.violations
        );
    }
}
