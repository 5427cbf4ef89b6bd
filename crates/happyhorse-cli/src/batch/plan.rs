//! What a run does with each job, from what the journal knows.

use std::path::Path;

use super::jobs_file::JobLine;
use super::journal::Known;
use super::state::{BatchState, Next};

/// The decision for one job.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Action {
    /// Its video is saved: nothing to do.
    Done { path: String },
    /// Never sent, or provably created nothing: submit it.
    Submit,
    /// It exists at the service: follow it by id (and download its video).
    Resume { request_id: String },
    /// Its submit may have created a job whose id was never recorded: not resubmitted unless
    /// `--resubmit-unknown`, since that could bill it twice.
    Unknown { intent_at: Option<String> },
    /// It ended for good at the service (failed, or cancelled).
    Final {
        state: BatchState,
        request_id: Option<String>,
        error: Option<String>,
    },
}

/// Decides what to do with `job`, given what the journal knows of it.
pub(crate) fn decide(
    job: &JobLine,
    known: Option<&Known>,
    out_dir: &Path,
    resubmit_unknown: bool,
) -> Action {
    let Some(known) = known else {
        return Action::Submit;
    };
    if let Some((path, bytes)) = &known.saved
        && std::fs::metadata(out_dir.join(&job.output)).is_ok_and(|m| m.len() == *bytes)
    {
        return Action::Done { path: path.clone() };
    }
    let unknown = || {
        if resubmit_unknown {
            Action::Submit
        } else {
            Action::Unknown {
                intent_at: known.intent_at.clone(),
            }
        }
    };
    let resume = |request_id: &Option<String>| match request_id {
        Some(id) => Action::Resume {
            request_id: id.clone(),
        },
        None => unknown(),
    };
    match &known.ended {
        // Saved once, but the file is gone or changed: fetch the result again and re-download.
        Some((BatchState::Succeeded | BatchState::DownloadFailed, _, _)) => {
            resume(&known.request_id)
        }
        Some((state, next, error)) => match next {
            Next::Nothing => Action::Final {
                state: *state,
                request_id: known.request_id.clone(),
                error: error.clone(),
            },
            Next::Resume => resume(&known.request_id),
            Next::Resubmit => Action::Submit,
            Next::CheckAccount => unknown(),
        },
        None if known.request_id.is_some() => resume(&known.request_id),
        None if known.intent_at.is_some() => unknown(),
        None => Action::Submit,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job() -> JobLine {
        JobLine {
            line: 1,
            id: "a".into(),
            model: &happyhorse_types::image_to_video::SPEC,
            output: "a.mp4".into(),
            input: Default::default(),
        }
    }

    fn ended(state: BatchState, next: Next, id: Option<&str>) -> Known {
        Known {
            intent_at: Some("then".into()),
            request_id: id.map(str::to_owned),
            ended: Some((state, next, None)),
            saved: None,
        }
    }

    #[test]
    fn each_journal_state_gets_its_action() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path();
        let intent_only = Known {
            intent_at: Some("t".into()),
            ..Known::default()
        };
        let submitted = Known {
            request_id: Some("r".into()),
            ..intent_only.clone()
        };
        let resume = Action::Resume {
            request_id: "r".into(),
        };
        let unknown = Action::Unknown {
            intent_at: Some("t".into()),
        };
        assert_eq!(decide(&job(), None, out, false), Action::Submit);
        assert_eq!(decide(&job(), Some(&intent_only), out, false), unknown);
        assert_eq!(
            decide(&job(), Some(&intent_only), out, true),
            Action::Submit
        );
        assert_eq!(decide(&job(), Some(&submitted), out, false), resume);
        assert_eq!(
            decide(
                &job(),
                Some(&ended(BatchState::Pending, Next::Resume, Some("r"))),
                out,
                false
            ),
            resume
        );
        assert_eq!(
            decide(
                &job(),
                Some(&ended(BatchState::Rejected, Next::Resubmit, None)),
                out,
                false
            ),
            Action::Submit
        );
        assert!(matches!(
            decide(
                &job(),
                Some(&ended(BatchState::Unknown, Next::CheckAccount, None)),
                out,
                false
            ),
            Action::Unknown { .. }
        ));
        assert!(matches!(
            decide(
                &job(),
                Some(&ended(BatchState::Failed, Next::Nothing, Some("r"))),
                out,
                false
            ),
            Action::Final { .. }
        ));

        // Saved: done while the file is there with its size; re-fetched when it is not.
        let mut saved = ended(BatchState::Succeeded, Next::Nothing, Some("r"));
        saved.saved = Some(("a.mp4".into(), 3));
        assert_eq!(decide(&job(), Some(&saved), out, false), resume);
        std::fs::write(out.join("a.mp4"), b"abc").unwrap();
        assert_eq!(
            decide(&job(), Some(&saved), out, false),
            Action::Done {
                path: "a.mp4".into()
            }
        );
        std::fs::write(out.join("a.mp4"), b"ab").unwrap();
        assert_eq!(decide(&job(), Some(&saved), out, false), resume);
    }
}
