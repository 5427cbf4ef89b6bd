//! Validation tests: every rule, its message, and that long values are never echoed.

use base64::Engine as _;
use happyhorse_types::image_to_video;
use serde_json::{Value, json};

use super::*;

fn png(width: u32, height: u32) -> Vec<u8> {
    blank_png(width, height)
}

fn jpeg(width: u16, height: u16) -> Vec<u8> {
    super::image::tests_support::jpeg_fit(width, height)
}

fn webp(width: u32, height: u32) -> Vec<u8> {
    super::image::tests_support::webp_lossless(width, height)
}

fn data_uri(mime: &str, bytes: &[u8]) -> String {
    format!(
        "data:{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

fn input(extra: Value) -> Value {
    let mut base = json!({"image_url": "https://example.com/horse.png", "prompt": "A horse trots"});
    for (key, value) in extra.as_object().unwrap() {
        base[key] = value.clone();
    }
    base
}

fn errors_of(input: &Value) -> Vec<String> {
    match validate_input(&image_to_video::SPEC, input) {
        Ok(()) => Vec::new(),
        Err(errors) => errors.errors().iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn a_minimal_and_a_full_input_pass() {
    assert_eq!(errors_of(&input(json!({}))), Vec::<String>::new());
    let full =
        input(json!({"resolution": "720P", "duration": 15, "seed": 2147483647, "watermark": true}));
    assert_eq!(errors_of(&full), Vec::<String>::new());
}

#[test]
fn every_schema_error_is_reported_at_once_with_its_field() {
    let bad =
        json!({"resolution": "4K", "duration": 16, "seed": -1, "watermark": "yes", "image_url": 7});
    let errors = validate_input(&image_to_video::SPEC, &bad).unwrap_err();
    let mut fields: Vec<(&str, &str)> = errors
        .errors()
        .iter()
        .map(|e| (e.field.as_str(), e.rule.as_str()))
        .collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            ("duration", "enum"),
            ("image_url", "type"),
            ("prompt", "required"),
            ("resolution", "enum"),
            ("seed", "minimum"),
            ("watermark", "type"),
        ]
    );
    let text = errors.to_string();
    assert!(
        text.contains("duration: must be an integer from 3 to 15, got 16"),
        "{text}"
    );
    assert!(
        text.contains("watermark: must be a boolean, got \"yes\""),
        "{text}"
    );
    assert!(
        text.contains("image_url: must be a string, got 7"),
        "{text}"
    );
}

#[test]
fn seed_upper_bound_and_non_object_input() {
    assert_eq!(
        errors_of(&input(json!({"seed": 2147483648u64}))),
        ["seed: must be at most 2147483647, got 2147483648"]
    );
    assert_eq!(
        errors_of(&json!([1, 2])),
        ["input: must be an object, got [1,2]"]
    );
}

#[test]
fn an_integer_with_a_decimal_point_is_named() {
    assert_eq!(
        errors_of(&input(json!({"duration": 5.0}))),
        ["duration: must be written as an integer, without a decimal point, got 5.0"]
    );
    // A real fraction is a type error, reported once.
    assert_eq!(
        errors_of(&input(json!({"duration": 5.5}))),
        ["duration: must be an integer, got 5.5"]
    );
}

#[test]
fn chinese_definition() {
    assert!(is_chinese("马"));
    assert!(!is_chinese("一匹马 running")); // 3 Han, 7 Latin letters
    assert!(!is_chinese("一匹马 running fast"));
    assert!(is_chinese("一匹白马 run")); // 4 Han vs 3 Latin
    assert!(is_chinese("一匹马跑 fast")); // 4 Han vs 4 Latin: exactly half counts
    assert!(!is_chinese("")); // no Han at all
    assert!(!is_chinese("안녕하세요 말")); // hangul letters, no Han
    assert!(is_chinese("𠀀𠀁")); // extension B
    assert!(
        is_han_ideograph('\u{F900}') && is_han_ideograph('\u{3400}') && !is_han_ideograph('。')
    );
}

#[test]
fn prompt_limits_depend_on_chinese() {
    let english_ok = "a".repeat(5000);
    let english_long = "a".repeat(5001);
    let chinese_ok = "马".repeat(2500);
    let chinese_long = "马".repeat(2501);
    assert!(errors_of(&input(json!({"prompt": english_ok}))).is_empty());
    assert!(errors_of(&input(json!({"prompt": chinese_ok}))).is_empty());

    let errors = validate_input(
        &image_to_video::SPEC,
        &input(json!({"prompt": english_long})),
    )
    .unwrap_err();
    assert_eq!(
        errors.len(),
        1,
        "the schema's maxLength and our rule must not both report: {errors}"
    );
    let error = &errors.errors()[0];
    assert_eq!(
        (error.field.as_str(), error.rule.as_str()),
        ("prompt", "prompt_length")
    );
    assert_eq!(
        error.value,
        format!("\"{}…\" (5001 characters)", "a".repeat(60))
    );
    assert!(
        error
            .message
            .starts_with("prompt: must be at most 5000 characters, it has 5001, got \"")
    );
    assert!(
        error.message.len() < 200,
        "the prompt is echoed: {}",
        error.message
    );

    let errors = validate_input(
        &image_to_video::SPEC,
        &input(json!({"prompt": chinese_long})),
    )
    .unwrap_err();
    let error = &errors.errors()[0];
    assert!(
        error
            .message
            .contains("at most 2500 characters (the prompt is Chinese"),
        "{error}"
    );
    assert!(error.message.contains("it has 2501"), "{error}");

    // A very long Chinese prompt reports the Chinese limit, once.
    let errors = validate_input(
        &image_to_video::SPEC,
        &input(json!({"prompt": "马".repeat(6000)})),
    )
    .unwrap_err();
    assert_eq!(errors.len(), 1);
    assert!(errors.errors()[0].message.contains("at most 2500"));
}

#[test]
fn a_lower_schema_limit_wins() {
    assert!(check_prompt("prompt", &"a".repeat(2501), Some(2500)).is_err());
    assert!(check_prompt("prompt", &"a".repeat(2500), Some(2500)).is_ok());
}

#[test]
fn images_are_checked_by_content() {
    for (name, bytes, format) in [
        ("png", png(1280, 720), ImageFormat::Png),
        ("jpeg", jpeg(300, 750), ImageFormat::Jpeg),
        ("webp", webp(750, 300), ImageFormat::Webp),
    ] {
        let info = check_image_bytes(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(info.format, format, "{name}");
        assert_eq!(info.bytes, bytes.len());
    }
    assert_eq!(check_image_bytes(&png(1280, 720)).unwrap().width, 1280);
}

#[test]
fn image_rules_name_rule_and_value() {
    let side = check_image_bytes(&png(299, 400)).unwrap_err();
    assert_eq!(
        (side.rule.as_str(), side.value.as_str()),
        ("image_min_side", "299 x 400 px")
    );
    let aspect = check_image_bytes(&jpeg(751, 300)).unwrap_err();
    assert_eq!(aspect.rule, "image_aspect");
    assert_eq!(
        aspect.to_string(),
        "image: must have an aspect ratio between 1:2.5 and 2.5:1, got 751 x 300 px (2.50:1)"
    );
    let tall = check_image_bytes(&webp(300, 751)).unwrap_err();
    assert_eq!(tall.rule, "image_aspect");
    let gif = check_image_bytes(b"GIF89a\x01\x00\x01\x00").unwrap_err();
    assert_eq!(gif.rule, "image_format");
    assert_eq!(gif.value, "GIF");
    assert_eq!(check_image_bytes(&[]).unwrap_err().value, "no bytes");

    let mut huge = png(1000, 1000);
    huge.resize(IMAGE_MAX_BYTES + 1, 0);
    let size = check_image_bytes(&huge).unwrap_err();
    assert_eq!(size.rule, "image_max_bytes");
    assert_eq!(size.value, "10.00 MB (10,000,001 bytes)");
}

#[test]
fn data_uris_in_image_fields_are_decoded_and_checked() {
    let good = data_uri("image/png", &png(1024, 1024));
    assert!(errors_of(&input(json!({"image_url": good}))).is_empty());

    let small = data_uri("image/png", &png(100, 100));
    let errors =
        validate_input(&image_to_video::SPEC, &input(json!({"image_url": small}))).unwrap_err();
    let error = &errors.errors()[0];
    assert_eq!(
        (error.field.as_str(), error.rule.as_str()),
        ("image_url", "image_min_side")
    );
    assert_eq!(
        error.to_string(),
        "image_url: must be at least 300 px on each side, got 100 x 100 px"
    );

    let mut big = png(1000, 1000);
    big.resize(10 * 1024 * 1024 + 10, 0);
    let big_uri = data_uri("image/png", &big);
    let errors =
        validate_input(&image_to_video::SPEC, &input(json!({"image_url": big_uri}))).unwrap_err();
    assert!(
        errors.to_string().len() < 300,
        "a data URI is echoed: {}",
        errors.to_string().len()
    );
    assert_eq!(errors.errors()[0].rule, "image_max_bytes");

    let garbage = format!("data:image/png;base64,{}!!!", "A".repeat(500));
    let errors =
        validate_input(&image_to_video::SPEC, &input(json!({"image_url": garbage}))).unwrap_err();
    let error = &errors.errors()[0];
    assert_eq!(
        (error.field.as_str(), error.rule.as_str()),
        ("image_url", "data_uri")
    );
    assert!(error.value.ends_with("(525 characters)"), "{}", error.value);
}

#[test]
fn image_references_other_than_https_or_data_are_rejected() {
    for accepted in [
        "https://example.com/a.png",
        "HTTPS://EXAMPLE.COM/A.PNG",
        "http://127.0.0.1:8080/a.png",
        "http://localhost/a",
        "http://[::1]:9/x",
    ] {
        assert_eq!(
            validate_image_ref("image_url", accepted),
            Ok(ImageRef::Url),
            "{accepted}"
        );
    }
    for rejected in [
        "horse.png",
        "/tmp/horse.png",
        "ftp://example.com/a.png",
        "file:///a.png",
        "http://example.com/a.png",
        "https://",
        "http://127.0.0.1.evil.com/a",
    ] {
        let error = validate_image_ref("image_url", rejected).unwrap_err();
        assert_eq!(
            (error.field.as_str(), error.rule.as_str()),
            ("image_url", "image_ref"),
            "{rejected}"
        );
        assert!(
            error.message.starts_with("image_url: must be"),
            "{}",
            error.message
        );
    }
}

#[test]
fn data_uri_forms() {
    assert_eq!(
        decode_data_uri("DATA:;base64,aGk").unwrap(),
        ("text/plain".to_owned(), b"hi".to_vec())
    );
    assert_eq!(
        decode_data_uri("data:image/png;name=a.png;base64,aG k=\n")
            .unwrap()
            .1,
        b"hi"
    );
    assert_eq!(
        decode_data_uri("data:image/png;base64").unwrap_err().rule,
        "data_uri"
    );
    assert_eq!(decode_data_uri("https://x").unwrap_err().field, "uri");
}

#[test]
fn the_validator_is_compiled_once_and_is_thread_safe() {
    let input = input(json!({}));
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| assert!(validate_input(&image_to_video::SPEC, &input).is_ok()));
        }
    });
}

#[test]
fn every_known_model_schema_compiles() {
    for spec in happyhorse_types::MODELS {
        let errors = validate_input(spec, &json!({})).unwrap_err();
        assert!(
            errors.errors().iter().all(|e| e.rule == "required"),
            "{}: {errors}",
            spec.id
        );
    }
}

#[test]
fn unknown_fields_are_refused_with_a_suggestion_unless_allowed() {
    assert_eq!(
        errors_of(&input(json!({"durration": 12, "colour": "red"}))),
        [
            "durration: is not a field of happyhorse/happyhorse-1.0/image-to-video (did you mean \"duration\"?), got 12",
            "colour: is not a field of happyhorse/happyhorse-1.0/image-to-video (known fields: image_url, prompt, resolution, duration, seed, watermark), got \"red\"",
        ]
    );
    let allowed = ValidateOptions::default().allow_unknown_fields(true);
    let odd = input(json!({"durration": 12, "colour": "red"}));
    assert_eq!(
        validate_input_with(&image_to_video::SPEC, &odd, allowed),
        Ok(())
    );
    // Every model's schema: its own fields are never unknown.
    for spec in happyhorse_types::MODELS {
        let errors = validate_input(spec, &json!({"nonsense": 1})).unwrap_err();
        assert_eq!(
            errors.for_field("nonsense").next().map(|e| e.rule.as_str()),
            Some("unknown_field"),
            "{}",
            spec.id
        );
    }
}

#[test]
fn control_characters_are_refused_in_text_fields_naming_the_position() {
    let errors = errors_of(&input(json!({"prompt": "A horse\u{0}trots"})));
    assert_eq!(
        errors,
        [
            "prompt: must not contain control characters other than tab and newline (U+0000 NUL at character 8), got \"A horse\\u0000trots\""
        ]
    );
    for bad in ["\r", "\u{1b}[31m", "\u{7f}", "\u{85}", "\u{8}"] {
        let errors = errors_of(&input(json!({"prompt": format!("A horse{bad}")})));
        assert_eq!(errors.len(), 1, "{bad:?}: {errors:?}");
        assert!(errors[0].contains("at character 8"), "{errors:?}");
    }
    assert!(errors_of(&input(json!({"prompt": "A horse\ttrots\nslowly, 马"}))).is_empty());
    // Other text fields too: the value is never echoed raw (JSON escapes it).
    let errors = errors_of(&input(json!({"resolution": "720P\u{0}"})));
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("resolution: must not contain control characters")),
        "{errors:?}"
    );
}

#[test]
fn invalid_utf8_is_located_by_line_and_offset() {
    let problem = check_utf8(b"line one\nline two \xFF\n").unwrap_err();
    assert_eq!(
        (
            problem.line,
            problem.line_offset,
            problem.offset,
            problem.byte
        ),
        (2, 9, 18, 0xFF)
    );
    let first = check_utf8(b"\xC3").unwrap_err();
    assert_eq!((first.line, first.line_offset, first.offset), (1, 0, 0));
    assert_eq!(
        first.to_string(),
        "invalid UTF-8 (byte 0xC3) on line 1 at byte offset 0"
    );
}

#[test]
fn every_models_image_size_rule_is_the_number_core_checks() {
    // "10 MB" is read once, as 10,000,000 bytes: a model's declared size rule, where it has one,
    // must say the same.
    let mut seen = 0;
    for spec in happyhorse_types::MODELS {
        for field in spec.media_fields().unwrap() {
            if let Some(max_bytes) = field.rule.image().and_then(|image| image.max_bytes) {
                assert_eq!(
                    max_bytes, IMAGE_MAX_BYTES as u64,
                    "{} {}",
                    spec.id, field.name
                );
                seen += 1;
            }
        }
    }
    assert!(seen >= 4, "only {seen} image rules found");
}
