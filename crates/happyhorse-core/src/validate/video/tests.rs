//! The video checks against real files (made with ffmpeg, see `tests/fixtures/video/README.md`)
//! and against damaged, padded and hostile variants of them.

use happyhorse_types::rules::{VideoCodec, VideoContainer, VideoRules};
use proptest::prelude::*;

use super::*;

/// A checked-in file's bytes: `examples/…` or `tests/fixtures/video/…`.
pub(crate) fn fixture(name: &str) -> Vec<u8> {
    let root = env!("CARGO_MANIFEST_DIR");
    let path = if name.starts_with("examples/") {
        format!("{root}/../../{name}")
    } else {
        format!("{root}/tests/fixtures/video/{name}")
    };
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Video-edit's `video_url` rule, from its `model.json`.
fn edit_rules() -> &'static VideoRules {
    happyhorse_types::video_edit::SPEC
        .rules()
        .unwrap()
        .media_rule("video_url")
        .unwrap()
        .video()
        .unwrap()
}

fn probe_bytes(bytes: &[u8]) -> Result<VideoInfo, InputError> {
    probe_video(&mut &bytes[..])
}

/// Top-level boxes as (type, offset, size).
fn boxes(bytes: &[u8]) -> Vec<(String, usize, usize)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 8 <= bytes.len() {
        let size = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        out.push((
            String::from_utf8_lossy(&bytes[at + 4..at + 8]).into_owned(),
            at,
            size,
        ));
        at += size.max(8);
    }
    out
}

#[test]
fn a_good_edit_source_is_measured_and_accepted() {
    let info = probe_bytes(&fixture("examples/horse.mp4")).unwrap();
    assert_eq!(info.container, VideoContainer::Mp4);
    assert_eq!(info.codec, Some(VideoCodec::H264));
    assert_eq!((info.width, info.height, info.frames), (512, 320, 42));
    assert!((info.duration_secs - 3.5).abs() < 1e-9, "{info}");
    assert!((info.fps - 12.0).abs() < 1e-9, "{info}");
    assert_eq!(
        info.to_string(),
        "MP4, H.264, 512 x 320 px, 3.50 s, 12.00 fps, 0.02 MB (17,637 bytes)"
    );
    assert_eq!(check_video_info(edit_rules(), &info), []);
}

#[test]
fn a_quicktime_file_is_a_mov() {
    let info = probe_bytes(&fixture("clip.mov")).unwrap();
    assert_eq!(info.container, VideoContainer::Mov);
    assert_eq!(check_video_info(edit_rules(), &info), []);
    let mut only_mp4 = edit_rules().clone();
    only_mp4.containers = vec![VideoContainer::Mp4];
    let errors = check_video_info(&only_mp4, &info);
    assert_eq!(
        errors[0].to_string(),
        "video: must be MP4 (by content), got MOV"
    );
}

#[test]
fn every_broken_rule_is_reported_at_once() {
    let errors = check_video_bytes(edit_rules(), &fixture("bad.mp4")).unwrap_err();
    let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            "video: must last from 3 to 60 seconds, got 2.00 s",
            "video: must be at least 320 px on its short side, got 640 x 240 px",
            "video: must have an aspect ratio between 1:2.5 and 2.5:1, got 640 x 240 px (2.67:1)",
            "video: must have more than 8 frames per second, got 8.00 fps (16 frames in 2.00 s)",
        ]
    );
}

#[test]
fn hevc_is_named_and_refused() {
    let errors = check_video_bytes(edit_rules(), &fixture("hevc.mp4")).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].rule, "video_codec");
    assert_eq!(
        errors[0].to_string(),
        "video: must be encoded as H.264, got HEVC (H.265)"
    );
}

#[test]
fn size_and_long_side_limits_apply() {
    let info = probe_bytes(&fixture("examples/horse.mp4")).unwrap();
    let mut tight = edit_rules().clone();
    tight.max_bytes = Some(10_000);
    tight.max_long_side = Some(500);
    let rules: Vec<String> = check_video_info(&tight, &info)
        .into_iter()
        .map(|e| e.rule)
        .collect();
    assert_eq!(rules, ["video_max_bytes", "video_long_side"]);
}

#[test]
fn a_fragmented_mp4_is_refused_with_the_fix() {
    let error = probe_bytes(&fixture("fragmented.mp4")).unwrap_err();
    assert_eq!(error.rule, "video_fragmented");
    assert!(error.message.contains("-movflags +faststart"), "{error}");
}

#[test]
fn other_files_are_named() {
    let png = crate::validate::blank_png(400, 400);
    for (bytes, expected) in [
        (&png[..], "PNG"),
        (b"\x1a\x45\xdf\xa3\x01\x00\x00\x00", "Matroska/WebM video"),
        (b"RIFF\x00\x00\x00\x00AVI LIST", "AVI video"),
        (b"\0\0\0\x14ftyp3gp4\0\0\0\0isom", "3GP video"),
        (b"\0\0\0\x14ftypheic\0\0\0\0mif1", "HEIF"),
        (b"", "no bytes"),
    ] {
        let error = probe_bytes(bytes).unwrap_err();
        assert_eq!(error.rule, "video_format", "{expected}: {error}");
        assert!(error.value.contains(expected), "{expected}: {error}");
    }
}

#[test]
fn a_cut_file_is_truncated_wherever_it_is_cut() {
    let whole = fixture("examples/horse.mp4");
    for cut in [40, 500, 1200, 1210, 5000, whole.len() - 1] {
        let error = probe_bytes(&whole[..cut]).unwrap_err();
        assert_eq!(error.rule, "video_truncated", "cut at {cut}: {error}");
    }
    // Moov at the end: cut inside it.
    let bad = fixture("bad.mp4");
    let error = probe_bytes(&bad[..bad.len() - 10]).unwrap_err();
    assert_eq!(error.rule, "video_truncated", "{error}");
}

#[test]
fn media_data_shorter_than_the_samples_is_truncated() {
    // horse.mp4 is ftyp, moov, free, mdat: shrink the mdat box (and the file) consistently, so
    // every box is whole but the samples no longer fit.
    let mut bytes = fixture("examples/horse.mp4");
    let (_, at, size) = boxes(&bytes)
        .into_iter()
        .find(|(kind, ..)| kind == "mdat")
        .unwrap();
    let shorter = size - 1000;
    bytes.truncate(at + shorter);
    bytes[at..at + 4].copy_from_slice(&(shorter as u32).to_be_bytes());
    let error = probe_bytes(&bytes).unwrap_err();
    assert_eq!(error.rule, "video_truncated");
    assert!(error.message.contains("bytes of media data"), "{error}");
}

#[test]
fn a_last_box_of_size_zero_runs_to_the_end() {
    let mut bytes = fixture("examples/horse.mp4");
    let (_, at, _) = boxes(&bytes)
        .into_iter()
        .find(|(kind, ..)| kind == "mdat")
        .unwrap();
    bytes[at..at + 4].copy_from_slice(&0u32.to_be_bytes());
    assert!(probe_bytes(&bytes).is_ok());
    // And a moov of size zero at the end (bad.mp4 ends with its moov).
    let mut bytes = fixture("bad.mp4");
    let (_, at, _) = boxes(&bytes)
        .into_iter()
        .find(|(kind, ..)| kind == "moov")
        .unwrap();
    bytes[at..at + 4].copy_from_slice(&0u32.to_be_bytes());
    assert_eq!(probe_bytes(&bytes).unwrap().frames, 16);
}

/// A source that counts what it is asked to read.
struct Counting<'a> {
    bytes: &'a [u8],
    read: u64,
}

impl ReadAt for Counting<'_> {
    fn len(&self) -> u64 {
        self.bytes.len() as u64
    }

    fn read_exact_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), String> {
        self.read += buf.len() as u64;
        (&mut &self.bytes[..]).read_exact_at(offset, buf)
    }
}

#[test]
fn the_media_data_is_never_read() {
    // bad.mp4 with 20 MB of padding before its moov (which comes last): only headers, the ftyp
    // and the moov are read.
    let original = fixture("bad.mp4");
    let (_, at, _) = boxes(&original)
        .into_iter()
        .find(|(kind, ..)| kind == "moov")
        .unwrap();
    let padding = 20_000_000usize;
    let mut bytes = original[..at].to_vec();
    bytes.extend_from_slice(&(padding as u32).to_be_bytes());
    bytes.extend_from_slice(b"free");
    bytes.resize(at + padding, 0);
    bytes.extend_from_slice(&original[at..]);
    let mut source = Counting {
        bytes: &bytes,
        read: 0,
    };
    let info = probe_video(&mut source).unwrap();
    assert_eq!(info.bytes, bytes.len() as u64);
    assert!(source.read < 2_000, "read {} bytes", source.read);
}

#[test]
fn a_64_bit_box_size_is_read() {
    // Rewrite horse.mp4's mdat header as a 64-bit size (size 1 then the size in 8 bytes).
    let original = fixture("examples/horse.mp4");
    let (_, at, size) = boxes(&original)
        .into_iter()
        .find(|(kind, ..)| kind == "mdat")
        .unwrap();
    // The 8-byte `free` box before the mdat makes room for the longer header.
    let free = at - 8;
    let mut bytes = original[..free].to_vec();
    bytes.extend_from_slice(&1u32.to_be_bytes());
    bytes.extend_from_slice(b"mdat");
    bytes.extend_from_slice(&(size as u64 + 8).to_be_bytes());
    bytes.extend_from_slice(&original[at + 8..]);
    assert_eq!(bytes.len(), original.len());
    assert_eq!(probe_bytes(&bytes).unwrap().frames, 42);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// Any damage to a real file is an answer, never a panic or a hang.
    #[test]
    fn damaged_files_never_panic(
        which in 0usize..3,
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
        do_cut in any::<bool>(),
    ) {
        let name = ["examples/horse.mp4", "bad.mp4", "clip.mov"][which];
        let mut bytes = fixture(name);
        // Bias the flips towards the small boxes, where the structure is.
        let structure = bytes.len().min(2048);
        for (index, value) in flips {
            let at = index.index(structure);
            bytes[at] = value;
        }
        if do_cut {
            bytes.truncate(cut.index(bytes.len() + 1));
        }
        let _ = check_video_bytes(edit_rules(), &bytes);
    }
}
