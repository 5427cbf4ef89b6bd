//! Storage answers of every shape a host may send, and the proof rules on real and cut files.

use std::io::Cursor;

use super::*;

const HORSE: &[u8] = include_bytes!("../../../happyhorse-emulator/fixtures/horse.mp4");

fn answer(status: u16) -> Answer<'static> {
    Answer {
        status,
        ..Answer::default()
    }
}

#[test]
fn a_fresh_answer_keeps_its_length_and_only_a_strong_etag() {
    let ok = Answer {
        content_length: Some("5000"),
        etag: Some("\"abc\""),
        ..answer(200)
    };
    assert_eq!(
        read_answer(&ok, None, None),
        Reply::Body {
            start: 0,
            total: Some(5000),
            etag: Some("\"abc\"".into())
        }
    );
    let weak = Answer {
        etag: Some("W/\"abc\""),
        content_length: Some("+5"),
        ..answer(200)
    };
    assert_eq!(
        read_answer(&weak, None, None),
        Reply::Body {
            start: 0,
            total: None,
            etag: None
        }
    );
}

#[test]
fn a_200_to_a_range_request_starts_over_from_byte_0() {
    let full = Answer {
        content_length: Some("5000"),
        ..answer(200)
    };
    assert!(matches!(
        read_answer(&full, Some(1000), Some(5000)),
        Reply::Body {
            start: 0,
            total: Some(5000),
            ..
        }
    ));
}

#[test]
fn partial_answers_must_match_what_was_asked() {
    let partial = |range: &'static str, length: Option<&'static str>| Answer {
        content_range: Some(range),
        content_length: length,
        ..answer(206)
    };
    // Total unknown ("*"): the recorded total stands.
    assert!(matches!(
        read_answer(&partial("bytes 10-99/*", None), Some(10), Some(100)),
        Reply::Body {
            start: 10,
            total: Some(100),
            ..
        }
    ));
    for (range, length, why) in [
        ("bytes 0-99/100", None, "from 0"),
        ("bytes 10-99/100", Some("50"), "disagree"),
        ("bytes 10-49/100", None, "stops before the end"),
        ("items 10-99/100", None, "valid Content-Range"),
        ("bytes 10-5/100", None, "valid Content-Range"),
        ("bytes 10-99/50", None, "valid Content-Range"),
    ] {
        match read_answer(&partial(range, length), Some(10), None) {
            Reply::Garbled { why: said } => assert!(said.contains(why), "{range}: {said}"),
            other => panic!("{range}: {other:?}"),
        }
    }
    // A total other than the one recorded: the file changed.
    assert!(matches!(
        read_answer(&partial("bytes 10-199/200", None), Some(10), Some(100)),
        Reply::StartOver { .. }
    ));
    // A partial answer to a plain GET.
    assert!(matches!(
        read_answer(&partial("bytes 0-99/100", None), None, None),
        Reply::Garbled { .. }
    ));
}

#[test]
fn a_416_proves_a_partial_file_whole_only_with_its_exact_size() {
    let refused = |range: Option<&'static str>| Answer {
        content_range: range,
        ..answer(416)
    };
    assert_eq!(
        read_answer(&refused(Some("bytes */5000")), Some(5000), None),
        Reply::AlreadyWhole { total: 5000 }
    );
    for range in [Some("bytes */6000"), Some("bytes */x"), None] {
        assert!(matches!(
            read_answer(&refused(range), Some(5000), None),
            Reply::StartOver { .. }
        ));
    }
}

#[test]
fn redirects_and_refusals() {
    let redirect = Answer {
        location: Some(" /elsewhere "),
        ..answer(302)
    };
    assert_eq!(
        read_answer(&redirect, None, None),
        Reply::Redirect {
            location: "/elsewhere".into()
        }
    );
    assert!(matches!(
        read_answer(&answer(307), None, None),
        Reply::Garbled { .. }
    ));
    let busy = Answer {
        retry_after: Some("7"),
        ..answer(503)
    };
    assert_eq!(
        read_answer(&busy, None, None),
        Reply::Refused {
            status: 503,
            retryable: true,
            retry_after: Some(Duration::from_secs(7))
        }
    );
    for (status, retryable) in [
        (403, false),
        (404, false),
        (304, false),
        (429, true),
        (408, true),
    ] {
        assert!(
            matches!(
                read_answer(&answer(status), None, None),
                Reply::Refused { retryable: r, .. } if r == retryable
            ),
            "{status}"
        );
    }
}

fn judge_bytes(bytes: &[u8], declared: Option<u64>, expect_video: bool) -> Result<Proof, Unproven> {
    judge(
        &mut Cursor::new(bytes),
        Received {
            len: bytes.len() as u64,
            declared,
            expect_video,
        },
    )
}

#[test]
fn a_video_is_whole_by_its_length_and_its_boxes() {
    let both = judge_bytes(HORSE, Some(HORSE.len() as u64), true).unwrap();
    assert_eq!(both.format, Some(MediaFormat::Mp4));
    assert_eq!(both.length, Some(HORSE.len() as u64));
    // No length: the boxes alone.
    assert_eq!(judge_bytes(HORSE, None, true).unwrap().length, None);
    // No length, cut: never whole, and worth resuming.
    let cut = judge_bytes(&HORSE[..105_642], None, true).unwrap_err();
    assert!(
        matches!(cut, Unproven::Cut(_)) && cut.is_retryable(),
        "{cut}"
    );
    // The declared length matched but the boxes are cut: the host's copy is broken.
    let broken = judge_bytes(&HORSE[..105_642], Some(105_642), true).unwrap_err();
    assert!(
        matches!(broken, Unproven::Broken(_)) && !broken.is_retryable(),
        "{broken}"
    );
    // Fewer bytes than declared.
    let short = judge_bytes(&HORSE[..100], Some(HORSE.len() as u64), true).unwrap_err();
    assert!(short.to_string().contains("ended early: 100 of"), "{short}");
}

#[test]
fn an_error_page_saved_as_a_video_is_refused() {
    let page = b"<html><body>AccessDenied</body></html>";
    for declared in [None, Some(page.len() as u64)] {
        let err = judge_bytes(page, declared, true).unwrap_err();
        assert!(
            matches!(err, Unproven::NotVideo(None)) && !err.is_retryable(),
            "{err}"
        );
    }
    let png = [
        &b"\x89PNG\r\n\x1a\n"[..],
        &[0; 8],
        b"\0\0\0\0IEND\xaeB`\x82",
    ]
    .concat();
    assert!(matches!(
        judge_bytes(&png, None, true),
        Err(Unproven::NotVideo(Some(MediaFormat::Png)))
    ));
}

#[test]
fn other_files_need_a_length_or_a_structure() {
    let blob = vec![7u8; 300];
    assert_eq!(
        judge_bytes(&blob, Some(300), false).unwrap(),
        Proof {
            length: Some(300),
            format: None
        }
    );
    let err = judge_bytes(&blob, None, false).unwrap_err();
    assert!(matches!(err, Unproven::NoProof(None)), "{err}");
    let png = [
        &b"\x89PNG\r\n\x1a\n"[..],
        &[0; 8],
        b"\0\0\0\0IEND\xaeB`\x82",
    ]
    .concat();
    assert_eq!(
        judge_bytes(&png, None, false).unwrap().format,
        Some(MediaFormat::Png)
    );
    assert!(matches!(
        judge_bytes(&png[..png.len() - 1], None, false),
        Err(Unproven::Cut(_))
    ));
}

#[test]
fn an_open_ended_mp4_needs_a_length() {
    // ftyp, moov, then an mdat of size 0 ("to the end of the file").
    let mut file = HORSE[..32].to_vec();
    file.extend_from_slice(&HORSE[210_402..]);
    file.extend_from_slice(&[0, 0, 0, 0]);
    file.extend_from_slice(b"mdat");
    file.extend_from_slice(&[9; 1000]);
    let err = judge_bytes(&file, None, true).unwrap_err();
    assert!(
        matches!(err, Unproven::NoProof(Some(MediaFormat::Mp4))),
        "{err}"
    );
    assert!(judge_bytes(&file, Some(file.len() as u64), true).is_ok());
}
