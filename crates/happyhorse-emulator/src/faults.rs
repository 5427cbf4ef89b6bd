//! Faults on purpose: which misbehaviours exist, where they apply, and the seeded dice that pick them.
//!
//! One random draw per eligible request decides whether it gets a fault and which one, so the same
//! seed and the same request order give the same fault sequence.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A misbehaviour the emulator can inject.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
#[value(rename_all = "snake_case")]
pub enum FaultKind {
    /// HTTP 500 with a JSON error body.
    #[serde(rename = "http_500")]
    #[value(name = "http_500")]
    Http500,
    /// HTTP 502 with an HTML body, as a gateway in front of the service would send.
    #[serde(rename = "http_502")]
    #[value(name = "http_502")]
    Http502,
    /// HTTP 503 with a JSON error body.
    #[serde(rename = "http_503")]
    #[value(name = "http_503")]
    Http503,
    /// HTTP 429 with a `Retry-After` header.
    RateLimited,
    /// The connection is reset (TCP RST) before any response byte is sent.
    Reset,
    /// The response is held back for the configured fault delay (past a client's timeout), then sent.
    Delay,
    /// The response announces its full `Content-Length` but the connection closes half-way through the body.
    TruncatedBody,
    /// An error body (`error_code`, `error_message`) sent with HTTP 200.
    #[serde(rename = "error_with_200")]
    #[value(name = "error_with_200")]
    ErrorWith200,
    /// `/status` or `/result` answers with a status value no documentation mentions.
    UnknownStatus,
    /// A submit is accepted (the job exists and runs) but the connection is reset instead of answering.
    LostSubmit,
}

impl FaultKind {
    /// Every kind, in a fixed order (the order the dice map onto).
    pub const ALL: [FaultKind; 10] = [
        FaultKind::Http500,
        FaultKind::Http502,
        FaultKind::Http503,
        FaultKind::RateLimited,
        FaultKind::Reset,
        FaultKind::Delay,
        FaultKind::TruncatedBody,
        FaultKind::ErrorWith200,
        FaultKind::UnknownStatus,
        FaultKind::LostSubmit,
    ];

    /// The snake_case name used in flags, stats and docs.
    pub fn as_str(self) -> &'static str {
        match self {
            FaultKind::Http500 => "http_500",
            FaultKind::Http502 => "http_502",
            FaultKind::Http503 => "http_503",
            FaultKind::RateLimited => "rate_limited",
            FaultKind::Reset => "reset",
            FaultKind::Delay => "delay",
            FaultKind::TruncatedBody => "truncated_body",
            FaultKind::ErrorWith200 => "error_with_200",
            FaultKind::UnknownStatus => "unknown_status",
            FaultKind::LostSubmit => "lost_submit",
        }
    }

    /// Whether this kind can happen on `endpoint`.
    pub fn applies_to(self, endpoint: Endpoint) -> bool {
        use Endpoint::*;
        match self {
            FaultKind::Http500 | FaultKind::Http502 | FaultKind::Http503 => endpoint != Stats,
            FaultKind::Reset | FaultKind::Delay | FaultKind::TruncatedBody => endpoint != Stats,
            FaultKind::RateLimited | FaultKind::ErrorWith200 => {
                !matches!(endpoint, Stats | Storage)
            }
            FaultKind::UnknownStatus => matches!(endpoint, Status | Result),
            FaultKind::LostSubmit => endpoint == Submit,
        }
    }
}

/// What a request was for; used for fault scoping and request statistics.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
#[value(rename_all = "snake_case")]
pub enum Endpoint {
    /// `POST /v1/models/{model_id}`.
    Submit,
    /// `GET /v1/requests/{id}/status`.
    Status,
    /// `GET /v1/requests/{id}/result`.
    Result,
    /// `POST /v1/requests/{id}/cancel`.
    Cancel,
    /// `GET /v1/models`, `GET /v1/models/{model_id}`, `GET /v1/models/categories`.
    Models,
    /// Any request to the storage host (output downloads).
    Storage,
    /// The emulator's own `/__emulator/…` endpoints; never faulted.
    #[value(skip)]
    Stats,
    /// Anything else (unknown paths, wrong methods); never faulted.
    #[value(skip)]
    Other,
}

impl Endpoint {
    /// The snake_case name used in stats.
    pub fn as_str(self) -> &'static str {
        match self {
            Endpoint::Submit => "submit",
            Endpoint::Status => "status",
            Endpoint::Result => "result",
            Endpoint::Cancel => "cancel",
            Endpoint::Models => "models",
            Endpoint::Storage => "storage",
            Endpoint::Stats => "stats",
            Endpoint::Other => "other",
        }
    }
}

/// Which faults to inject, how often, and with which seed.
///
/// The probability that an eligible request gets kind `k` is `rates[k]` when set, otherwise
/// `rate` divided by the number of kinds eligible for that endpoint (so `rate` alone is the overall
/// fault probability of every faultable request).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultConfig {
    /// Overall fault probability per request, spread evenly over the kinds without an explicit rate.
    pub rate: f64,
    /// Explicit per-kind probabilities (each in 0..=1; their sum at most 1).
    pub rates: BTreeMap<FaultKind, f64>,
    /// Seed of the fault dice.
    pub seed: u64,
    /// Endpoints that may be faulted; empty means every faultable endpoint.
    pub endpoints: Vec<Endpoint>,
    /// How long a `delay` fault holds a response back (simulated time, divided by the time scale).
    pub delay: Duration,
    /// The `Retry-After` value (whole seconds) sent with `rate_limited`.
    pub retry_after_secs: u64,
}

impl Default for FaultConfig {
    fn default() -> Self {
        Self {
            rate: 0.0,
            rates: BTreeMap::new(),
            seed: 0,
            endpoints: Vec::new(),
            delay: Duration::from_secs(60),
            retry_after_secs: 1,
        }
    }
}

impl FaultConfig {
    /// Checks that every probability is in `0..=1` and the explicit rates sum to at most 1.
    pub fn validate(&self) -> Result<(), String> {
        let valid = |p: f64| (0.0..=1.0).contains(&p);
        if !valid(self.rate) {
            return Err(format!(
                "fault rate must be between 0 and 1, got {}",
                self.rate
            ));
        }
        for (kind, rate) in &self.rates {
            if !valid(*rate) {
                return Err(format!(
                    "fault rate of {} must be between 0 and 1, got {rate}",
                    kind.as_str()
                ));
            }
        }
        let explicit: f64 = self.rates.values().sum();
        if explicit > 1.0 + 1e-9 {
            return Err(format!(
                "per-kind fault rates sum to {explicit}, more than 1"
            ));
        }
        Ok(())
    }

    fn enabled(&self) -> bool {
        self.rate > 0.0 || self.rates.values().any(|r| *r > 0.0)
    }

    fn probability(&self, kind: FaultKind, endpoint: Endpoint) -> f64 {
        if let Some(rate) = self.rates.get(&kind) {
            return *rate;
        }
        let implicit = FaultKind::ALL
            .iter()
            .filter(|k| k.applies_to(endpoint) && !self.rates.contains_key(k))
            .count();
        if implicit == 0 {
            0.0
        } else {
            self.rate / implicit as f64
        }
    }
}

/// One injected fault, in injection order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultRecord {
    /// The emulator-wide sequence number of the request (counting from 1, API and storage together).
    pub request_seq: u64,
    /// Where it happened.
    pub endpoint: Endpoint,
    /// What happened.
    pub kind: FaultKind,
}

/// Decides faults: scripted ones first (consumed in order), then the seeded dice.
#[derive(Debug)]
pub(crate) struct FaultInjector {
    config: FaultConfig,
    dice: Mutex<fastrand::Rng>,
    scripted: Mutex<VecDeque<(Endpoint, FaultKind)>>,
    /// Length of `scripted`, so the common case (nothing scripted) takes no lock.
    scripted_len: AtomicUsize,
}

impl FaultInjector {
    pub(crate) fn new(config: FaultConfig) -> Self {
        let dice = Mutex::new(fastrand::Rng::with_seed(config.seed));
        Self {
            config,
            dice,
            scripted: Mutex::new(VecDeque::new()),
            scripted_len: AtomicUsize::new(0),
        }
    }

    /// Queues a fault for the next request to `endpoint`.
    pub(crate) fn push(&self, endpoint: Endpoint, kind: FaultKind) {
        let mut scripted = self.scripted.lock().unwrap();
        scripted.push_back((endpoint, kind));
        self.scripted_len.store(scripted.len(), Ordering::Release);
    }

    /// The fault (if any) for a request to `endpoint`.
    pub(crate) fn decide(&self, endpoint: Endpoint) -> Option<FaultKind> {
        if endpoint == Endpoint::Stats {
            return None;
        }
        if self.scripted_len.load(Ordering::Acquire) > 0 {
            let mut scripted = self.scripted.lock().unwrap();
            if let Some(index) = scripted.iter().position(|(ep, _)| *ep == endpoint) {
                let kind = scripted.remove(index).map(|(_, kind)| kind);
                self.scripted_len.store(scripted.len(), Ordering::Release);
                return kind;
            }
        }
        let config = &self.config;
        if !config.enabled()
            || endpoint == Endpoint::Other
            || !(config.endpoints.is_empty() || config.endpoints.contains(&endpoint))
        {
            return None;
        }
        let draw = self.dice.lock().unwrap().f64();
        let mut cumulative = 0.0;
        for kind in FaultKind::ALL {
            if !kind.applies_to(endpoint) {
                continue;
            }
            cumulative += config.probability(kind, endpoint);
            if draw < cumulative {
                return Some(kind);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sequence(config: FaultConfig, endpoint: Endpoint, n: usize) -> Vec<Option<FaultKind>> {
        let injector = FaultInjector::new(config);
        (0..n).map(|_| injector.decide(endpoint)).collect()
    }

    #[test]
    fn same_seed_same_sequence_other_seed_other_sequence() {
        let config = FaultConfig {
            rate: 0.5,
            seed: 7,
            ..FaultConfig::default()
        };
        let first = sequence(config.clone(), Endpoint::Status, 200);
        assert_eq!(first, sequence(config.clone(), Endpoint::Status, 200));
        let other = FaultConfig { seed: 8, ..config };
        assert_ne!(first, sequence(other, Endpoint::Status, 200));
    }

    #[test]
    fn overall_rate_spreads_over_eligible_kinds_only() {
        let config = FaultConfig {
            rate: 1.0,
            seed: 1,
            ..FaultConfig::default()
        };
        let faults = sequence(config, Endpoint::Storage, 2000);
        assert!(faults.iter().all(Option::is_some));
        for kind in faults.iter().flatten() {
            assert!(kind.applies_to(Endpoint::Storage), "{kind:?}");
        }
        let resets = faults
            .iter()
            .filter(|k| **k == Some(FaultKind::Reset))
            .count();
        // Six kinds apply to storage: about 333 of 2000 each.
        assert!((200..500).contains(&resets), "{resets}");
    }

    #[test]
    fn explicit_rates_and_scope() {
        let config = FaultConfig {
            rates: BTreeMap::from([(FaultKind::LostSubmit, 1.0)]),
            endpoints: vec![Endpoint::Submit],
            ..FaultConfig::default()
        };
        assert_eq!(
            sequence(config.clone(), Endpoint::Submit, 3),
            vec![Some(FaultKind::LostSubmit); 3]
        );
        assert_eq!(sequence(config, Endpoint::Status, 3), vec![None; 3]);
    }

    #[test]
    fn scripted_faults_come_first_and_only_for_their_endpoint() {
        let injector = FaultInjector::new(FaultConfig::default());
        injector.push(Endpoint::Result, FaultKind::TruncatedBody);
        assert_eq!(injector.decide(Endpoint::Status), None);
        assert_eq!(
            injector.decide(Endpoint::Result),
            Some(FaultKind::TruncatedBody)
        );
        assert_eq!(injector.decide(Endpoint::Result), None);
    }

    #[test]
    fn names_agree_across_serde_clap_and_as_str() {
        use clap::ValueEnum;
        for kind in FaultKind::ALL {
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                kind.as_str(),
                "{kind:?}"
            );
            assert_eq!(kind.to_possible_value().unwrap().get_name(), kind.as_str());
        }
        for endpoint in [Endpoint::Submit, Endpoint::Status, Endpoint::Storage] {
            assert_eq!(serde_json::to_value(endpoint).unwrap(), endpoint.as_str());
        }
    }

    #[test]
    fn validation_rejects_impossible_rates() {
        let bad = FaultConfig {
            rate: 1.5,
            ..FaultConfig::default()
        };
        assert!(bad.validate().is_err());
        let bad = FaultConfig {
            rates: BTreeMap::from([(FaultKind::Reset, 0.7), (FaultKind::Delay, 0.7)]),
            ..FaultConfig::default()
        };
        assert!(bad.validate().is_err());
        assert!(FaultConfig::default().validate().is_ok());
    }
}
