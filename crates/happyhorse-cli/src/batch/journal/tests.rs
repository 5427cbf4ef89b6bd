//! The journal reads what earlier versions wrote, writes the same lines, and refuses words
//! outside its vocabulary.

use super::*;
use crate::batch::state::{BatchState, Next};
use happyhorse_types::image_to_video::SPEC;

/// A journal as the first version of `happyhorse batch` wrote it (format 1), every kind of
/// record included; `SHA` stands for the jobs file's digest.
const OLD_JOURNAL: &str = r#"{"happyhorse_batch_journal":1,"jobs_file":"jobs.jsonl","jobs_sha256":"SHA","jobs":4,"created":"Sat, 21 Nov 2026 08:08:34 GMT"}
{"event":"intent","job":"a","at":"Sat, 21 Nov 2026 08:08:34 GMT"}
{"event":"intent","job":"b","at":"Sat, 21 Nov 2026 08:08:34 GMT"}
{"event":"submitted","job":"a","request_id":"16314ff2-ca26-fe04-d315-3bf393a7a0ab"}
{"event":"ended","job":"a","state":"succeeded","next":"nothing","request_id":"16314ff2-ca26-fe04-d315-3bf393a7a0ab"}
{"event":"saved","job":"a","path":"a.mp4","bytes":211285}
{"event":"submitted","job":"b","request_id":"23daa843-7948-1463-acae-d3081aceedf6"}
{"event":"ended","job":"b","state":"pending","next":"resume","request_id":"23daa843-7948-1463-acae-d3081aceedf6","error":"stopped following"}
{"event":"intent","job":"c","at":"Sat, 21 Nov 2026 08:09:00 GMT"}
{"event":"ended","job":"c","state":"unknown","next":"check_account","error":"the submit may or may not have created a job"}
{"event":"intent","job":"d","at":"Sat, 21 Nov 2026 08:09:01 GMT"}
{"event":"submitted","job":"d","request_id":"1be319f8-ebf9-7c08-b93a-5da776a28a7e"}
{"event":"ended","job":"d","state":"succeeded","next":"nothing","request_id":"1be319f8-ebf9-7c08-b93a-5da776a28a7e"}
{"event":"download_failed","job":"d","error":"the download ended early"}
"#;

fn jobs_file(dir: &Path) -> JobsFile {
    let line = |id: &str| {
        format!(r#"{{"id":"{id}","image_url":"https://example.com/h.png","prompt":"{id}"}}"#)
    };
    let text: Vec<String> = ["a", "b", "c", "d"].iter().map(|id| line(id)).collect();
    let path = dir.join("jobs.jsonl");
    std::fs::write(&path, text.join("\n")).unwrap();
    JobsFile::load(
        &path,
        &SPEC,
        happyhorse_core::validate::ValidateOptions::default(),
    )
    .unwrap()
}

#[test]
fn an_old_journal_is_read_into_the_typed_records() {
    let dir = tempfile::tempdir().unwrap();
    let jobs = jobs_file(dir.path());
    let path = dir.path().join("happyhorse-batch.journal");
    let text = OLD_JOURNAL.replace("SHA", &jobs.sha256);
    std::fs::write(&path, &text).unwrap();
    let (journal, known) = Journal::open(&path, &jobs).unwrap();
    drop(journal);

    let a = &known["a"];
    assert_eq!(a.ended, Some((BatchState::Succeeded, Next::Nothing, None)));
    assert_eq!(a.saved, Some(("a.mp4".into(), 211_285)));
    let b = &known["b"];
    assert_eq!(
        b.ended,
        Some((
            BatchState::Pending,
            Next::Resume,
            Some("stopped following".into())
        ))
    );
    assert_eq!(
        b.request_id.as_deref(),
        Some("23daa843-7948-1463-acae-d3081aceedf6")
    );
    let c = &known["c"];
    assert_eq!(c.request_id, None);
    assert_eq!(
        c.ended.as_ref().map(|e| (e.0, e.1)),
        Some((BatchState::Unknown, Next::CheckAccount))
    );
    let d = &known["d"];
    assert_eq!(
        d.ended,
        Some((
            BatchState::DownloadFailed,
            Next::Resume,
            Some("the download ended early".into())
        ))
    );
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        text,
        "reading changes nothing"
    );
}

#[test]
fn records_are_written_as_the_same_lines() {
    for (record, line) in [
        (
            Record::Ended {
                job: "b".into(),
                state: BatchState::Pending,
                next: Next::Resume,
                request_id: Some("r".into()),
                error: Some("e".into()),
            },
            r#"{"event":"ended","job":"b","state":"pending","next":"resume","request_id":"r","error":"e"}"#,
        ),
        (
            Record::Ended {
                job: "c".into(),
                state: BatchState::NotSent,
                next: Next::Resubmit,
                request_id: None,
                error: None,
            },
            r#"{"event":"ended","job":"c","state":"not_sent","next":"resubmit"}"#,
        ),
        (
            Record::Intent {
                job: "a".into(),
                at: "t".into(),
            },
            r#"{"event":"intent","job":"a","at":"t"}"#,
        ),
    ] {
        assert_eq!(
            String::from_utf8(encode(&record)).unwrap(),
            format!("{line}\n")
        );
    }
}

#[test]
fn a_word_outside_the_vocabulary_makes_the_journal_malformed() {
    let dir = tempfile::tempdir().unwrap();
    let jobs = jobs_file(dir.path());
    let path = dir.path().join("happyhorse-batch.journal");
    for bad in [
        r#"{"event":"ended","job":"a","state":"succeeded_probably","next":"nothing"}"#,
        r#"{"event":"ended","job":"a","state":"failed","next":"resubmit_everything"}"#,
        r#"{"event":"ended","job":"a","state":"failed","next":"nothing","extra":1}"#,
    ] {
        let text = format!(
            "{}\n{bad}\n{{\"event\":\"intent\",\"job\":\"b\",\"at\":\"t\"}}\n",
            OLD_JOURNAL
                .lines()
                .next()
                .unwrap()
                .replace("SHA", &jobs.sha256)
        );
        std::fs::write(&path, &text).unwrap();
        let Err(error) = Journal::open(&path, &jobs) else {
            panic!("{bad} was accepted");
        };
        assert!(
            matches!(error, JournalError::Malformed { line: 2, .. }),
            "{bad}: {error}"
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    }
}
