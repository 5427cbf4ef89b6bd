//! Counters, and the snapshot served at `GET /__emulator/stats`.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::faults::{Endpoint, FaultKind, FaultRecord};

/// How many fault records the snapshot keeps (the counters keep counting past it).
const FAULT_LOG_CAPACITY: usize = 10_000;
/// How many storage `Authorization` sightings the snapshot keeps.
const AUTH_LOG_CAPACITY: usize = 1_000;

/// A point-in-time copy of the emulator's counters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StatsSnapshot {
    /// Every request received, API and storage together (including faulted ones).
    pub requests_total: u64,
    /// Requests per endpoint (`submit`, `status`, …, `storage`) and outcome: the HTTP status code as text,
    /// or `"reset"` when the connection was dropped without an answer.
    pub requests: BTreeMap<Endpoint, BTreeMap<String, u64>>,
    /// Submits that created a job (a `lost_submit` fault still creates one).
    pub submissions_total: u64,
    /// Submissions whose canonical JSON body equals an earlier submission's.
    pub duplicate_submissions: u64,
    /// Submissions per body: key [`body_key`] of the canonical body, value how many jobs it created.
    pub submissions_by_body: BTreeMap<String, u64>,
    /// Jobs per state right now.
    pub jobs: JobCounts,
    /// Faults injected in total.
    pub faults_total: u64,
    /// Faults injected per kind.
    pub faults: BTreeMap<FaultKind, u64>,
    /// The first faults injected, in order (at most 10,000).
    pub fault_log: Vec<FaultRecord>,
    /// What the storage host saw.
    pub storage: StorageStats,
    /// The TCP connections both listeners took.
    #[serde(default)]
    pub connections: ConnectionStats,
}

/// The TCP connections of both listeners (API and storage together).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionStats {
    /// Connections accepted since the start.
    pub accepted_total: u64,
    /// Connections open now.
    pub open: u64,
    /// The most connections open at once (never above the `--max-connections` limit).
    pub peak: u64,
    /// Connections closed because no complete request header arrived within the header-read
    /// timeout (idle or slow clients).
    pub header_timeouts: u64,
}

impl StatsSnapshot {
    /// Requests to `endpoint` that ended with `outcome` (`"200"`, `"404"`, `"reset"`, …).
    pub fn requests_with(&self, endpoint: Endpoint, outcome: &str) -> u64 {
        self.requests
            .get(&endpoint)
            .and_then(|by_outcome| by_outcome.get(outcome))
            .copied()
            .unwrap_or(0)
    }

    /// Requests to `endpoint`, whatever their outcome.
    pub fn requests_to(&self, endpoint: Endpoint) -> u64 {
        self.requests
            .get(&endpoint)
            .map(|by_outcome| by_outcome.values().sum())
            .unwrap_or(0)
    }

    /// How many jobs `body` created (compared as canonical JSON).
    pub fn submissions_of(&self, body: &serde_json::Value) -> u64 {
        self.submissions_by_body
            .get(&body_key(body))
            .copied()
            .unwrap_or(0)
    }

    /// Faults of `kind` injected so far.
    pub fn faults_of(&self, kind: FaultKind) -> u64 {
        self.faults.get(&kind).copied().unwrap_or(0)
    }
}

/// Live jobs per state, plus how many expired.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobCounts {
    /// Waiting for a worker.
    pub in_queue: u64,
    /// Running on a worker.
    pub in_progress: u64,
    /// Finished with an output.
    pub succeeded: u64,
    /// Finished with an error.
    pub failed: u64,
    /// Cancelled while queued.
    pub cancelled: u64,
    /// Finished jobs removed after the expiry time (their ids now answer `404001`).
    pub expired: u64,
}

/// What the storage (output file) host saw.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StorageStats {
    /// Requests received.
    pub requests_total: u64,
    /// Requests that carried an `Authorization` header (should stay 0 for a well-behaved client).
    pub authorization_headers_total: u64,
    /// The first such requests (at most 1,000).
    pub authorization_headers: Vec<AuthorizationSeen>,
}

/// A storage request that carried an `Authorization` header. The credential itself is never stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationSeen {
    /// The request method.
    pub method: String,
    /// The request path.
    pub path: String,
    /// The scheme word of the header (`Bearer`, `Basic`, …).
    pub scheme: String,
    /// Whether the credential is an API token (configured, or one that submitted a job).
    pub matches_api_token: bool,
}

/// A short, stable key for a JSON body: 16 hex digits of FNV-1a over its canonical form
/// (object keys sorted, no whitespace).
pub fn body_key(body: &serde_json::Value) -> String {
    let mut canonical = String::new();
    write_canonical(body, &mut canonical);
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in canonical.as_bytes() {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{hash:016x}")
}

fn write_canonical(value: &serde_json::Value, out: &mut String) {
    match value {
        serde_json::Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (key, value)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(value, out);
            }
            out.push('}');
        }
        serde_json::Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[derive(Debug, Default)]
struct Counters {
    requests_total: u64,
    requests: HashMap<(Endpoint, u16), u64>,
    resets: HashMap<Endpoint, u64>,
    submissions_total: u64,
    duplicate_submissions: u64,
    submissions_by_body: HashMap<String, u64>,
    faults: BTreeMap<FaultKind, u64>,
    fault_log: Vec<FaultRecord>,
    storage: StorageStats,
    connections: ConnectionStats,
}

/// The emulator's counters (everything but job states, which the queue owns).
#[derive(Debug, Default)]
pub(crate) struct Stats {
    counters: Mutex<Counters>,
}

impl Stats {
    /// Counts an arriving request and returns its sequence number (from 1).
    pub(crate) fn request_arrived(&self) -> u64 {
        let mut counters = self.counters.lock().unwrap();
        counters.requests_total += 1;
        counters.requests_total
    }

    pub(crate) fn request_answered(&self, endpoint: Endpoint, status: u16) {
        *self
            .counters
            .lock()
            .unwrap()
            .requests
            .entry((endpoint, status))
            .or_default() += 1;
    }

    pub(crate) fn request_reset(&self, endpoint: Endpoint) {
        *self
            .counters
            .lock()
            .unwrap()
            .resets
            .entry(endpoint)
            .or_default() += 1;
    }

    pub(crate) fn fault_injected(&self, request_seq: u64, endpoint: Endpoint, kind: FaultKind) {
        let mut counters = self.counters.lock().unwrap();
        *counters.faults.entry(kind).or_default() += 1;
        if counters.fault_log.len() < FAULT_LOG_CAPACITY {
            counters.fault_log.push(FaultRecord {
                request_seq,
                endpoint,
                kind,
            });
        }
    }

    /// Records a submission that created a job.
    pub(crate) fn submission(&self, body: &serde_json::Value) {
        let key = body_key(body);
        let mut counters = self.counters.lock().unwrap();
        counters.submissions_total += 1;
        let count = counters.submissions_by_body.entry(key).or_default();
        *count += 1;
        if *count > 1 {
            counters.duplicate_submissions += 1;
        }
    }

    pub(crate) fn storage_request(&self, authorization: Option<AuthorizationSeen>) {
        let mut counters = self.counters.lock().unwrap();
        let storage = &mut counters.storage;
        storage.requests_total += 1;
        if let Some(seen) = authorization {
            storage.authorization_headers_total += 1;
            if storage.authorization_headers.len() < AUTH_LOG_CAPACITY {
                storage.authorization_headers.push(seen);
            }
        }
    }

    pub(crate) fn connection_opened(&self) {
        let mut counters = self.counters.lock().unwrap();
        let connections = &mut counters.connections;
        connections.accepted_total += 1;
        connections.open += 1;
        connections.peak = connections.peak.max(connections.open);
    }

    pub(crate) fn connection_closed(&self, header_timeout: bool) {
        let mut counters = self.counters.lock().unwrap();
        counters.connections.open = counters.connections.open.saturating_sub(1);
        counters.connections.header_timeouts += u64::from(header_timeout);
    }

    pub(crate) fn snapshot(&self, jobs: JobCounts) -> StatsSnapshot {
        let counters = self.counters.lock().unwrap();
        let mut requests: BTreeMap<Endpoint, BTreeMap<String, u64>> = BTreeMap::new();
        for ((endpoint, status), count) in &counters.requests {
            *requests
                .entry(*endpoint)
                .or_default()
                .entry(status.to_string())
                .or_default() += count;
        }
        for (endpoint, count) in &counters.resets {
            *requests
                .entry(*endpoint)
                .or_default()
                .entry("reset".to_owned())
                .or_default() += count;
        }
        StatsSnapshot {
            requests_total: counters.requests_total,
            requests,
            submissions_total: counters.submissions_total,
            duplicate_submissions: counters.duplicate_submissions,
            submissions_by_body: counters
                .submissions_by_body
                .iter()
                .map(|(k, v)| (k.clone(), *v))
                .collect(),
            jobs,
            faults_total: counters.faults.values().sum(),
            faults: counters.faults.clone(),
            fault_log: counters.fault_log.clone(),
            storage: counters.storage.clone(),
            connections: counters.connections.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn body_key_ignores_key_order_and_whitespace() {
        let a: serde_json::Value =
            serde_json::from_str(r#"{"a": 1, "b": [1, {"y": 2, "x": 1}]}"#).unwrap();
        let b: serde_json::Value =
            serde_json::from_str(r#"{"b":[1,{"x":1,"y":2}],"a":1}"#).unwrap();
        assert_eq!(body_key(&a), body_key(&b));
        assert_ne!(
            body_key(&a),
            body_key(&json!({"a": 2, "b": [1, {"x": 1, "y": 2}]}))
        );
        assert_eq!(body_key(&a).len(), 16);
    }

    #[test]
    fn duplicates_are_counted_per_body() {
        let stats = Stats::default();
        let one = json!({"prompt": "one"});
        let two = json!({"prompt": "two"});
        stats.submission(&one);
        stats.submission(&two);
        stats.submission(&one);
        stats.submission(&one);
        let snapshot = stats.snapshot(JobCounts::default());
        assert_eq!(snapshot.submissions_total, 4);
        assert_eq!(snapshot.duplicate_submissions, 2);
        assert_eq!(snapshot.submissions_of(&one), 3);
        assert_eq!(snapshot.submissions_of(&two), 1);
    }

    #[test]
    fn snapshot_round_trips_through_json() {
        let stats = Stats::default();
        stats.request_arrived();
        stats.request_answered(Endpoint::Status, 200);
        stats.request_reset(Endpoint::Submit);
        stats.fault_injected(1, Endpoint::Submit, FaultKind::Reset);
        let snapshot = stats.snapshot(JobCounts::default());
        let text = serde_json::to_string(&snapshot).unwrap();
        assert!(text.contains(r#""status":{"200":1}"#), "{text}");
        assert!(text.contains(r#""submit":{"reset":1}"#), "{text}");
        let back: StatsSnapshot = serde_json::from_str(&text).unwrap();
        assert_eq!(back, snapshot);
        assert_eq!(back.requests_with(Endpoint::Submit, "reset"), 1);
        assert_eq!(back.faults_of(FaultKind::Reset), 1);
    }
}
