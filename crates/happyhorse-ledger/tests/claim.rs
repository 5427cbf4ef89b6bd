//! `Ledger::claim`, what `run --once` stands on: of several openers claiming one input at once,
//! exactly one records it; the others find it (in flight, then with its id); an input whose
//! earlier submit provably paid nothing may be claimed again.

use std::sync::{Arc, Barrier};
use std::time::{Duration, SystemTime};

use happyhorse_ledger::{Claim, Intent, JobState, Ledger};

const BASE: &str = "https://model-api.runcomfy.net";
const MODEL: &str = "happyhorse/happyhorse-1.0/image-to-video";

fn intent(digest: &str) -> Intent {
    Intent::new("run", MODEL, BASE).input_digest(digest)
}

fn ever() -> SystemTime {
    SystemTime::UNIX_EPOCH
}

#[test]
fn a_claimed_input_is_found_in_flight_then_with_its_id() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(dir.path().join("ledger.sqlite3")).unwrap();
    let Claim::Claimed(key) = ledger.claim(intent("sha256:a"), ever()).unwrap() else {
        panic!("a new ledger has nothing identical")
    };
    // Durable on return: another opener sees it at once.
    let other = Ledger::open(dir.path().join("ledger.sqlite3")).unwrap();
    match other.claim(intent("sha256:a"), ever()).unwrap() {
        Claim::Taken(entry) => {
            assert_eq!(entry.key, key);
            assert_eq!(
                (entry.state, entry.request_id),
                (JobState::Submitting, None)
            );
        }
        Claim::Claimed(_) => panic!("claimed twice"),
    }
    ledger.submitted(&key, "r-1").wait().unwrap();
    let polled = other.entry(&key).unwrap().unwrap();
    assert_eq!(polled.request_id.as_deref(), Some("r-1"));

    // Another input, another model or another service is another claim.
    for fresh in [
        intent("sha256:b"),
        Intent::new("run", "other/model", BASE).input_digest("sha256:a"),
        Intent::new("run", MODEL, "http://127.0.0.1:9").input_digest("sha256:a"),
    ] {
        assert!(matches!(
            other.claim(fresh, ever()).unwrap(),
            Claim::Claimed(_)
        ));
    }
    // Only since `since`.
    let later = SystemTime::now() + Duration::from_secs(3600);
    assert!(matches!(
        other.claim(intent("sha256:a"), later).unwrap(),
        Claim::Claimed(_)
    ));
}

#[test]
fn an_input_that_paid_nothing_can_be_claimed_again() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(dir.path().join("ledger.sqlite3")).unwrap();
    for end in [JobState::NotCreated, JobState::Failed, JobState::Cancelled] {
        let Claim::Claimed(key) = ledger.claim(intent("sha256:c"), ever()).unwrap() else {
            panic!("{end}: the earlier one ended without paying")
        };
        ledger.state(&key, end, None).wait().unwrap();
    }
    let Claim::Claimed(key) = ledger.claim(intent("sha256:c"), ever()).unwrap() else {
        panic!("still nothing paid")
    };
    // A submit whose outcome is unknown may have paid: it is found, not claimed over.
    ledger
        .state(&key, JobState::OutcomeUnknown, None)
        .wait()
        .unwrap();
    assert!(matches!(
        ledger.claim(intent("sha256:c"), ever()).unwrap(),
        Claim::Taken(entry) if entry.key == key
    ));
}

#[test]
fn of_many_openers_claiming_one_input_at_once_exactly_one_gets_it() {
    const OPENERS: usize = 8;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.sqlite3");
    for round in 0..10 {
        let digest = format!("sha256:round-{round}");
        let start = Arc::new(Barrier::new(OPENERS));
        let claims: Vec<Claim> = (0..OPENERS)
            .map(|_| {
                let (path, digest, start) = (path.clone(), digest.clone(), Arc::clone(&start));
                std::thread::spawn(move || {
                    let ledger = Ledger::open(&path).unwrap();
                    start.wait();
                    ledger.claim(intent(&digest), ever()).unwrap()
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|thread| thread.join().unwrap())
            .collect();
        let claimed: Vec<_> = claims
            .iter()
            .filter_map(|c| match c {
                Claim::Claimed(key) => Some(key),
                Claim::Taken(_) => None,
            })
            .collect();
        assert_eq!(claimed.len(), 1, "round {round}: {claims:?}");
        for claim in &claims {
            if let Claim::Taken(entry) = claim {
                assert_eq!(&entry.key, claimed[0], "round {round}");
            }
        }
    }
}
