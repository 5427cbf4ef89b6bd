//! A batch's jobs are in the job ledger, so a journal that was destroyed or belongs to another
//! version of the jobs file is refused with a way out, `--rebuild-journal`, that never submits
//! again a job already submitted.

use std::path::Path;
use std::time::Duration;

use happyhorse_emulator::{Emulator, ProcessingTime};
use happyhorse_ledger::{JobState, Ledger};
use serde_json::json;

use crate::cases::batch::{batch, complete_videos, jobs_file, report};
use crate::cases::common::{ledger_path, served_video};
use crate::cases::jobs::Emu;

fn journal_of(dir: &Path) -> std::path::PathBuf {
    dir.join("out/happyhorse-batch.journal")
}

#[test]
fn a_destroyed_journal_is_rebuilt_from_the_ledger_and_nothing_is_paid_twice() {
    // Jobs of 6 real seconds; the first run stops following them after 1 s: all pending.
    let emu = Emu::start(
        Emulator::builder()
            .workers(8)
            .processing_time(ProcessingTime::Fixed(Duration::from_secs(60)))
            .time_scale(10.0),
    );
    let dir = tempfile::tempdir().unwrap();
    let (_, bodies) = jobs_file(dir.path(), "destroyed", 4);
    let first = batch(&emu, dir.path(), &["--timeout", "1s"]);
    assert_eq!(report(&first)["counts"], json!({"pending": 4}));

    // The journal is overwritten (say, by a video).
    let video = served_video();
    std::fs::write(journal_of(dir.path()), &video).unwrap();
    let refused = batch(&emu, dir.path(), &[]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(78), "{stderr}");
    assert!(
        stderr.contains("not a happyhorse batch journal")
            && stderr.contains("--rebuild-journal")
            && stderr.contains("4 jobs recorded for this journal, 4 with a request id"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read(journal_of(dir.path())).unwrap(),
        video,
        "unchanged"
    );

    let rebuilt = batch(&emu, dir.path(), &["--rebuild-journal"]);
    let stderr = String::from_utf8_lossy(&rebuilt.stderr);
    assert_eq!(rebuilt.status.code(), Some(0), "{stderr}");
    assert_eq!(report(&rebuilt)["counts"], json!({"succeeded": 4}));
    assert_eq!(complete_videos(&dir.path().join("out"), &video), 4);
    let stats = emu.emulator().stats();
    assert_eq!(stats.duplicate_submissions, 0);
    assert!(bodies.iter().all(|body| stats.submissions_of(body) == 1));
    // The old journal is kept beside the new one.
    let kept = std::fs::read_dir(dir.path().join("out"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("happyhorse-batch.journal.damaged-")
        })
        .count();
    assert_eq!(kept, 1);
}

#[test]
fn an_edited_jobs_file_is_rebuilt_so_only_the_changed_line_is_submitted() {
    let emu = Emu::start(Emulator::builder().time_scale(1000.0));
    let dir = tempfile::tempdir().unwrap();
    let (path, bodies) = jobs_file(dir.path(), "edited", 3);
    let first = batch(&emu, dir.path(), &[]);
    assert_eq!(first.status.code(), Some(0));

    // The ledger knows the batch's jobs, by journal and id, with their videos.
    let ledger = Ledger::open(ledger_path(dir.path())).unwrap();
    let journal = std::fs::canonicalize(journal_of(dir.path())).unwrap();
    let entries = ledger.batch_jobs(&journal.display().to_string()).unwrap();
    assert_eq!(entries.len(), 3);
    for entry in &entries {
        assert_eq!(entry.state, JobState::Succeeded);
        assert!(
            entry.request_id.is_some() && entry.saved.is_some(),
            "{entry:?}"
        );
    }

    // Line 2 changes: the journal now belongs to another jobs file.
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("edited: horse 1 trots", "edited: horse 1 gallops");
    std::fs::write(&path, text).unwrap();
    let refused = batch(&emu, dir.path(), &[]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(78), "{stderr}");
    assert!(
        stderr.contains("belongs to another jobs file") && stderr.contains("--rebuild-journal"),
        "{stderr}"
    );

    // The rebuilt journal knows lines 1 and 3; line 2 is a new job whose output still holds
    // the old line's video, which is not replaced without --force.
    let rebuilt = batch(&emu, dir.path(), &["--rebuild-journal"]);
    let stderr = String::from_utf8_lossy(&rebuilt.stderr);
    assert_eq!(rebuilt.status.code(), Some(73), "{stderr}");
    assert!(
        stderr.contains("line 2 (job-001) output job-001.mp4"),
        "{stderr}"
    );
    let forced = batch(&emu, dir.path(), &["--force"]);
    let stderr = String::from_utf8_lossy(&forced.stderr);
    assert_eq!(forced.status.code(), Some(0), "{stderr}");
    let stats = emu.emulator().stats();
    assert_eq!(
        stats.submissions_total, 4,
        "three, then the changed line alone"
    );
    assert!(bodies.iter().all(|body| stats.submissions_of(body) == 1));
    assert_eq!(complete_videos(&dir.path().join("out"), &served_video()), 3);
}

#[test]
fn without_the_ledger_there_is_no_rebuild_and_the_refusal_says_why() {
    let emu = Emu::start(Emulator::builder().time_scale(1000.0));
    let dir = tempfile::tempdir().unwrap();
    jobs_file(dir.path(), "off", 2);
    std::fs::create_dir(dir.path().join("out")).unwrap();
    std::fs::write(journal_of(dir.path()), b"garbage\n").unwrap();
    let refused = batch(&emu, dir.path(), &["--ledger", "off"]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(78), "{stderr}");
    assert!(
        stderr.contains("ledger is off or cannot be read"),
        "{stderr}"
    );
    let rebuild = batch(&emu, dir.path(), &["--ledger", "off", "--rebuild-journal"]);
    let stderr = String::from_utf8_lossy(&rebuild.stderr);
    assert_eq!(rebuild.status.code(), Some(78), "{stderr}");
    assert!(
        stderr.contains("--rebuild-journal needs the job ledger"),
        "{stderr}"
    );
    assert_eq!(std::fs::read(journal_of(dir.path())).unwrap(), b"garbage\n");
    assert_eq!(emu.emulator().stats().requests_total, 0);
}

#[test]
fn an_emptied_or_deleted_journal_is_refused_while_the_ledger_knows_its_jobs() {
    let emu = Emu::start(Emulator::builder().time_scale(1000.0));
    let dir = tempfile::tempdir().unwrap();
    let (_, bodies) = jobs_file(dir.path(), "blank", 3);
    let video = served_video();
    assert_eq!(batch(&emu, dir.path(), &[]).status.code(), Some(0));
    let paid = emu.emulator().stats().submissions_total;
    assert_eq!(paid, 3);

    // Emptied (a crash of the file system, `> journal`), the videos gone too.
    std::fs::write(journal_of(dir.path()), b"").unwrap();
    for i in 0..3 {
        std::fs::remove_file(dir.path().join(format!("out/job-{i:03}.mp4"))).unwrap();
    }
    let refused = batch(&emu, dir.path(), &[]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(78), "{stderr}");
    assert!(
        stderr.contains("the journal is missing or empty")
            && stderr.contains("3 jobs of this batch already submitted (3 with a request id)")
            && stderr.contains("--rebuild-journal"),
        "{stderr}"
    );
    assert_eq!(
        emu.emulator().stats().submissions_total,
        paid,
        "nothing sent"
    );

    let rebuilt = batch(&emu, dir.path(), &["--rebuild-journal"]);
    let stderr = String::from_utf8_lossy(&rebuilt.stderr);
    assert_eq!(rebuilt.status.code(), Some(0), "{stderr}");
    assert_eq!(complete_videos(&dir.path().join("out"), &video), 3);

    // Deleted outright: the same refusal, and a rebuild from the ledger alone.
    std::fs::remove_file(journal_of(dir.path())).unwrap();
    let refused = batch(&emu, dir.path(), &[]);
    assert_eq!(refused.status.code(), Some(78));
    let rebuilt = batch(&emu, dir.path(), &["--rebuild-journal"]);
    let stderr = String::from_utf8_lossy(&rebuilt.stderr);
    assert_eq!(rebuilt.status.code(), Some(0), "{stderr}");
    assert_eq!(report(&rebuilt)["counts"], json!({"succeeded": 3}));
    // Only the emptied journal was kept aside: there was nothing to keep the second time.
    let kept = std::fs::read_dir(dir.path().join("out"))
        .unwrap()
        .filter(|e| {
            let name = e.as_ref().unwrap().file_name();
            name.to_string_lossy().contains(".journal.damaged-")
        })
        .count();
    assert_eq!(kept, 1);

    let stats = emu.emulator().stats();
    assert_eq!(stats.submissions_total, paid, "nothing paid twice");
    assert!(bodies.iter().all(|body| stats.submissions_of(body) == 1));
}

#[test]
fn a_job_whose_id_reached_the_ledger_but_not_the_journal_is_followed_not_reported_unknown() {
    // The clock moves only when the test says: the first run leaves both jobs running.
    let emu = Emu::start(
        Emulator::builder()
            .manual_clock(true)
            .processing_time(ProcessingTime::Fixed(Duration::from_secs(60))),
    );
    let dir = tempfile::tempdir().unwrap();
    let (_, bodies) = jobs_file(dir.path(), "cut short", 2);
    let first = batch(&emu, dir.path(), &["--timeout", "1s"]);
    assert_eq!(report(&first)["counts"], json!({"pending": 2}));

    // A kill between the ledger taking job-000's id and the journal taking it: the journal
    // stops at its intent.
    let journal = journal_of(dir.path());
    let text = std::fs::read_to_string(&journal).unwrap();
    let cut: String = text
        .lines()
        // Every record of job-000 but its intent goes.
        .filter(|line| !line.contains("job-000") || line.contains("\"intent\""))
        .map(|line| format!("{line}\n"))
        .collect();
    assert_ne!(cut, text);
    std::fs::write(&journal, cut).unwrap();

    emu.emulator().advance(Duration::from_secs(61));
    let rerun = batch(&emu, dir.path(), &[]);
    let stderr = String::from_utf8_lossy(&rerun.stderr);
    assert_eq!(rerun.status.code(), Some(0), "{stderr}");
    assert_eq!(report(&rerun)["counts"], json!({"succeeded": 2}));
    assert_eq!(complete_videos(&dir.path().join("out"), &served_video()), 2);
    let stats = emu.emulator().stats();
    assert!(bodies.iter().all(|body| stats.submissions_of(body) == 1));
    // The journal has learnt the id: a further rerun finds the job done.
    let text = std::fs::read_to_string(&journal).unwrap();
    assert!(
        text.lines()
            .any(|line| line.contains("job-000") && line.contains("\"submitted\"")),
        "{text}"
    );
}
