//! Local media for any model's field: checked by the field's own rule, inlined when small
//! enough, refused with every broken rule and the file's name otherwise.

use std::io::Write as _;

use happyhorse_core::validate::blank_png;
use happyhorse_types::{find_model, reference_to_video, video_edit};

use super::*;

fn fixture(name: &str) -> std::path::PathBuf {
    let root = env!("CARGO_MANIFEST_DIR");
    if name.starts_with("examples/") {
        Path::new(root).join("../..").join(name)
    } else {
        Path::new(root)
            .join("../happyhorse-core/tests/fixtures/video")
            .join(name)
    }
}

fn rules_of(result: Result<String, Error>) -> Vec<(String, String)> {
    let error = result.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput, "{error}");
    error
        .input_errors()
        .expect("structured errors")
        .errors()
        .iter()
        .map(|e| (e.field.clone(), e.rule.clone()))
        .collect()
}

#[test]
fn local_videos_are_measured_and_inlined_with_their_type() {
    let mp4 = ImageSource::Path(fixture("examples/horse.mp4"))
        .into_value_for_blocking(&video_edit::SPEC, "video_url")
        .unwrap();
    assert!(
        mp4.starts_with("data:video/mp4;base64,AAAA"),
        "{}",
        &mp4[..40]
    );
    let mov = ImageSource::Path(fixture("clip.mov"))
        .into_value_for_blocking(&video_edit::SPEC, "video_url")
        .unwrap();
    assert!(mov.starts_with("data:video/quicktime;base64,"));
}

#[test]
fn every_broken_rule_of_a_local_video_is_reported_with_its_file() {
    let path = fixture("bad.mp4");
    let error = ImageSource::Path(path.clone())
        .into_value_for_blocking(&video_edit::SPEC, "video_url")
        .unwrap_err();
    let errors = error.input_errors().unwrap().errors();
    let rules: Vec<&str> = errors.iter().map(|e| e.rule.as_str()).collect();
    assert_eq!(
        rules,
        [
            "video_duration",
            "video_short_side",
            "video_aspect",
            "video_fps"
        ]
    );
    assert!(errors.iter().all(|e| e.field == "video_url"));
    assert_eq!(
        errors[0].to_string(),
        format!(
            "video_url: must last from 3 to 60 seconds, got 2.00 s ({})",
            shorten(&path.display().to_string())
        )
    );
}

/// `horse.mp4` followed by a `free` box that makes the file `len` bytes long (sparse on disk).
fn padded_video(dir: &Path, len: u64) -> std::path::PathBuf {
    let path = dir.join("big.mp4");
    let mut file = File::create(&path).unwrap();
    let original = std::fs::read(fixture("examples/horse.mp4")).unwrap();
    file.write_all(&original).unwrap();
    let padding = len - original.len() as u64;
    file.write_all(&u32::try_from(padding).unwrap().to_be_bytes())
        .unwrap();
    file.write_all(b"free").unwrap();
    file.set_len(len).unwrap();
    path
}

#[test]
fn a_video_too_large_to_travel_inline_is_refused_with_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let path = padded_video(dir.path(), 60_000_000);
    let error = ImageSource::Path(path)
        .into_value_for_blocking(&video_edit::SPEC, "video_url")
        .unwrap_err();
    let errors = error.input_errors().unwrap().errors();
    assert_eq!(errors.len(), 1, "{error}");
    assert_eq!(errors[0].rule, "inline_size");
    assert!(
        errors[0].message.contains("pass its https:// URL"),
        "{}",
        errors[0]
    );
    assert!(errors[0].value.contains("big.mp4"), "{}", errors[0]);
}

#[test]
fn a_video_over_its_rule_is_refused_before_it_is_measured() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.mp4");
    File::create(&path).unwrap().set_len(100_000_001).unwrap();
    assert_eq!(
        rules_of(ImageSource::Path(path).into_value_for_blocking(&video_edit::SPEC, "video_url")),
        [("video_url".to_owned(), "video_max_bytes".to_owned())]
    );
}

#[test]
fn images_follow_their_own_field_rule() {
    let dir = tempfile::tempdir().unwrap();
    let small = dir.path().join("small.png");
    std::fs::write(&small, blank_png(350, 350)).unwrap();
    // 350 px is enough for image-to-video, not for reference-to-video (400 px).
    assert!(
        ImageSource::Path(small.clone())
            .into_field_value_blocking("image_url")
            .is_ok()
    );
    assert_eq!(
        rules_of(
            ImageSource::Path(small.clone())
                .into_value_for_blocking(&reference_to_video::SPEC, "image_url_4")
        ),
        [("image_url_4".to_owned(), "image_min_side".to_owned())]
    );
    // 1.1 reference-to-video checks formats only.
    let r2v_1_1 = find_model("1.1/r2v").unwrap();
    assert!(
        ImageSource::Path(small)
            .into_value_for_blocking(r2v_1_1, "image_url_1")
            .is_ok()
    );
}

#[test]
fn the_wrong_kind_and_the_wrong_field_are_refused() {
    let video = std::fs::read(fixture("examples/horse.mp4")).unwrap();
    assert_eq!(
        rules_of(
            ImageSource::Bytes(video.clone())
                .into_value_for_blocking(&video_edit::SPEC, "reference_image_url_1")
        ),
        [(
            "reference_image_url_1".to_owned(),
            "image_format".to_owned()
        )]
    );
    assert_eq!(
        rules_of(ImageSource::Bytes(video).into_value_for_blocking(&video_edit::SPEC, "prompt")),
        [("prompt".to_owned(), "media_field".to_owned())]
    );
    assert_eq!(
        rules_of(
            ImageSource::Path(fixture("missing.mp4"))
                .into_value_for_blocking(&video_edit::SPEC, "video_url")
        ),
        [("video_url".to_owned(), "video_file".to_owned())]
    );
    assert_eq!(
        rules_of(
            ImageSource::Url("ftp://example.com/a.mp4".into())
                .into_value_for_blocking(&video_edit::SPEC, "video_url")
        ),
        [("video_url".to_owned(), "video_ref".to_owned())]
    );
}
