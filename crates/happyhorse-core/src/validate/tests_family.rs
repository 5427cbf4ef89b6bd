//! Validation of the whole HappyHorse family: every model's media fields by their own rules from
//! `model.json`, its prompt limit, and the whole request's size — through `for_each_model!` and
//! the models' data, never a rule written per model here.

use base64::Engine as _;
use happyhorse_types::{MODELS, ModelSpec, find_model};
use serde_json::{Value, json};

use super::video::tests::fixture;
use super::*;

fn data_uri(mime: &str, bytes: &[u8]) -> String {
    format!(
        "data:{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

fn png_uri(width: u32, height: u32) -> String {
    data_uri("image/png", &blank_png(width, height))
}

fn rules_broken(spec: &ModelSpec, input: &Value) -> Vec<(String, String)> {
    match validate_input(spec, input) {
        Ok(()) => Vec::new(),
        Err(errors) => errors.into_iter().map(|e| (e.field, e.rule)).collect(),
    }
}

fn model(name: &str) -> &'static ModelSpec {
    find_model(name).unwrap()
}

#[test]
fn reference_to_video_checks_its_images_by_400_px() {
    let r2v = model("r2v");
    let input = json!({
        "image_url_1": png_uri(350, 600),
        "image_url_2": png_uri(399, 400),
        "image_url_9": png_uri(400, 400),
        "prompt": "character1 and character2 dance",
    });
    assert_eq!(
        rules_broken(r2v, &input),
        [
            ("image_url_1".into(), "image_min_side".into()),
            ("image_url_2".into(), "image_min_side".into()),
        ]
    );
    let errors = validate_input(r2v, &input).unwrap_err();
    assert_eq!(
        errors.errors()[0].to_string(),
        "image_url_1: must be at least 400 px on each side, got 350 x 600 px"
    );
    // 1.0 reference-to-video publishes no aspect limit: a 3:1 image of 1200 x 400 passes.
    let wide = json!({"image_url_1": png_uri(1200, 400), "prompt": "character1 waves"});
    assert_eq!(rules_broken(r2v, &wide), []);
    // Image-to-video: 350 px is fine, 3:1 is not.
    let i2v = json!({"image_url": png_uri(1200, 400), "prompt": "x"});
    assert_eq!(
        rules_broken(model("i2v"), &i2v),
        [("image_url".into(), "image_aspect".into())]
    );
}

#[test]
fn happyhorse_1_1_reference_images_are_checked_for_format_only() {
    let input = json!({"image_url_1": png_uri(64, 64), "prompt": "x"});
    assert_eq!(rules_broken(model("1.1/r2v"), &input), []);
    let gif = data_uri("image/gif", b"GIF89a\x01\x00\x01\x00\x00\x00");
    let input = json!({"image_url_1": gif, "prompt": "x"});
    assert_eq!(
        rules_broken(model("1.1/r2v"), &input),
        [("image_url_1".into(), "image_format".into())]
    );
}

#[test]
fn video_edit_reports_every_broken_rule_of_every_field_at_once() {
    let edit = model("edit");
    let input = json!({
        "video_url": data_uri("video/mp4", &fixture("bad.mp4")),
        "reference_image_url_1": png_uri(200, 200),
        "reference_image_url_3": "photo.png",
        "prompt": "x".repeat(5001),
        "resolution": "4K",
    });
    let broken = rules_broken(edit, &input);
    let expected: Vec<(String, String)> = [
        ("resolution", "enum"),
        ("prompt", "prompt_length"),
        ("video_url", "video_duration"),
        ("video_url", "video_short_side"),
        ("video_url", "video_aspect"),
        ("video_url", "video_fps"),
        ("reference_image_url_1", "image_min_side"),
        ("reference_image_url_3", "image_ref"),
    ]
    .iter()
    .map(|(f, r)| ((*f).to_owned(), (*r).to_owned()))
    .collect();
    assert_eq!(broken, expected);
    let good = json!({
        "video_url": data_uri("video/mp4", &fixture("examples/horse.mp4")),
        "reference_image_url_1": png_uri(300, 300),
        "prompt": "Dress the horse in a striped sweater",
    });
    assert_eq!(rules_broken(edit, &good), []);
    let path = json!({"video_url": "clip.mp4", "prompt": "x"});
    let errors = validate_input(edit, &path).unwrap_err();
    assert_eq!(
        errors.errors()[0].to_string(),
        "video_url: must be an https:// URL or a data:video/...;base64 URI (local files must be inlined first), got clip.mp4"
    );
}

#[test]
fn a_video_in_an_image_field_and_an_image_in_a_video_field_are_refused() {
    let edit = model("edit");
    let input = json!({
        "video_url": png_uri(640, 400),
        "reference_image_url_1": data_uri("video/mp4", &fixture("examples/horse.mp4")),
        "prompt": "x",
    });
    let errors = validate_input(edit, &input).unwrap_err();
    let shown: Vec<String> = errors.errors().iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            "video_url: must be an MP4 or MOV video (by content), got PNG",
            "reference_image_url_1: must be a JPEG, PNG or WEBP image (by content), got MP4 video",
        ]
    );
}

#[test]
fn prompt_limits_follow_each_model() {
    let long = "a".repeat(2501);
    let chinese = "马".repeat(2501);
    for (name, prompt, broken) in [
        ("t2v", &long, true),
        ("t2v", &chinese, true),
        ("i2v", &long, false),
        ("i2v", &chinese, true),
        ("1.1/t2v", &"a".repeat(20_000), false),
    ] {
        let spec = model(name);
        let mut input = json!({"prompt": prompt});
        for field in spec.media_fields().unwrap().iter().filter(|f| f.required) {
            input[&field.name] = json!("https://example.com/a.png");
        }
        let rules: Vec<String> = rules_broken(spec, &input)
            .into_iter()
            .map(|(_, rule)| rule)
            .collect();
        assert_eq!(
            rules.contains(&"prompt_length".to_owned()),
            broken,
            "{name}: {rules:?}"
        );
        assert!(
            !rules.contains(&"maxLength".to_owned()),
            "{name}: {rules:?}"
        );
    }
}

#[test]
fn every_model_accepts_urls_in_every_media_field_and_checks_text_elsewhere() {
    for spec in MODELS {
        let mut input = json!({"prompt": "A horse trots"});
        for field in spec.media_fields().unwrap() {
            input[&field.name] = json!("https://example.com/file");
        }
        assert_eq!(rules_broken(spec, &input), [], "{}", spec.id);
        input["prompt"] = json!("bad\u{0}text");
        assert_eq!(
            rules_broken(spec, &input),
            [("prompt".into(), "control_character".into())],
            "{}",
            spec.id
        );
    }
}

#[test]
fn a_request_over_64_mib_is_refused() {
    // Measured as the compact JSON that is sent, without writing it anywhere; the limit itself is
    // checked on a size (a 64 MiB input takes seconds to build in a debug test).
    let input = json!({"prompt": "a \"quoted\" 马", "image_url_1": "https://example.com/a.png", "n": [1, 2.5]});
    assert_eq!(
        json_size(&input),
        serde_json::to_vec(&input).unwrap().len() as u64
    );
    assert!(request_size_error(REQUEST_MAX_BYTES as u64).is_none());
    let error = request_size_error(REQUEST_MAX_BYTES as u64 + 1).unwrap();
    assert_eq!(error.rule, "request_size");
    assert_eq!(
        error.to_string(),
        "input: must be at most 64 MiB (67,108,864 bytes) as JSON, RunComfy's request limit (inline \
         files count a third more than their size: give large ones as https:// URLs), got 67.11 MB (67,108,865 bytes)"
    );
}
