//! Every checked-in model's `model.json` parses, fits its input schema, and says what the
//! schemas and the API reference say: the numbers `happyhorse-core` checked by hand before they
//! were data, and the per-field rules of the reference-to-video and video-edit schemas.

use happyhorse_types::rules::{ImageFormat, MediaRole, VideoCodec, VideoContainer};
use happyhorse_types::{MODELS, PriceUnit, find_model, model_spec};

/// "MB" is read as 10⁶ bytes, the number core checks (`happyhorse_core::validate::IMAGE_MAX_BYTES`).
const MB: u64 = 1_000_000;

#[test]
fn every_checked_in_model_json_parses_and_fits_its_schema() {
    for spec in MODELS {
        let info = spec.info().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(info.model_id, spec.id);
        assert_eq!(find_model(spec.short_name), Some(*spec));
        assert_eq!(info.kind.as_deref(), Some("video"), "{}", spec.id);
        assert_eq!(info.price_unit, Some(PriceUnit::Second), "{}", spec.id);
        assert!(info.base_price_usd.is_some_and(|p| p > 0.0), "{}", spec.id);
        assert!(
            info.pricing_note
                .as_deref()
                .is_some_and(|n| n.contains("Illustrative")),
            "{}: a checked-in price must say it is illustrative",
            spec.id
        );
        assert!(info.categories.iter().any(|c| c == "video"), "{}", spec.id);
    }
}

#[test]
fn short_names_are_the_documented_ones() {
    let names: Vec<&str> = MODELS.iter().map(|spec| spec.short_name).collect();
    for name in ["i2v", "t2v", "r2v", "edit", "1.1/i2v", "1.1/t2v", "1.1/r2v"] {
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }
}

#[test]
fn image_to_video_carries_the_numbers_core_checked_by_hand() {
    for id in [
        "happyhorse/happyhorse-1.0/image-to-video",
        "alibaba/happyhorse-1.1/image-to-video",
    ] {
        let spec = model_spec(id).unwrap();
        let fields = spec.media_fields().unwrap();
        assert_eq!(fields.len(), 1, "{id}");
        let field = &fields[0];
        assert_eq!(
            (field.name.as_str(), field.required, field.rule.role),
            ("image_url", true, MediaRole::FirstFrame)
        );
        let image = field.rule.image().unwrap();
        assert_eq!(
            image.formats,
            [ImageFormat::Jpeg, ImageFormat::Png, ImageFormat::Webp]
        );
        assert_eq!(image.max_bytes, Some(10 * MB));
        assert_eq!(image.min_side, Some(300));
        let aspect = image.max_aspect_ratio.as_ref().unwrap();
        assert!(aspect.allows(750, 300) && aspect.allows(300, 750) && !aspect.allows(751, 300));
        let prompt = spec.rules().unwrap().prompt.as_ref().unwrap();
        assert_eq!(
            (prompt.limit(false), prompt.limit(true)),
            (Some(5000), Some(2500)),
            "{id}"
        );
    }
}

#[test]
fn prompt_limits_follow_each_schema() {
    for (short, expected) in [
        ("t2v", Some((2500, 2500))),
        ("r2v", Some((5000, 2500))),
        ("edit", Some((5000, 2500))),
        ("1.1/r2v", Some((5000, 2500))),
        // 1.1 text-to-video publishes no limit at all.
        ("1.1/t2v", None),
    ] {
        let prompt = find_model(short)
            .unwrap()
            .rules()
            .unwrap()
            .prompt
            .as_ref()
            .unwrap();
        let limits = prompt.limit(false).zip(prompt.limit(true));
        assert_eq!(limits, expected, "{short}");
    }
}

#[test]
fn reference_to_video_checks_its_first_image_harder() {
    let spec = find_model("r2v").unwrap();
    let fields = spec.media_fields().unwrap();
    let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        (1..=9)
            .map(|n| format!("image_url_{n}"))
            .collect::<Vec<_>>()
    );
    assert!(fields[0].required && fields[1..].iter().all(|f| !f.required));
    assert!(fields.iter().all(|f| f.rule.role == MediaRole::Reference));
    let first = fields[0].rule.image().unwrap();
    assert_eq!(
        (first.min_side, first.max_bytes),
        (Some(400), Some(10 * MB))
    );
    assert_eq!(fields[0].rule.field.as_str(), "image_url_1");
    assert_eq!(fields[5].rule.field.as_str(), "image_url_{n}");
    // 1.1 publishes formats only for its reference images.
    let v1_1 = find_model("1.1/r2v").unwrap().media_fields().unwrap();
    assert_eq!(v1_1.len(), 9);
    let image = v1_1[0].rule.image().unwrap();
    assert_eq!((image.min_side, image.max_bytes), (None, None));
    assert_eq!(image.formats.len(), 3);
}

#[test]
fn video_edit_checks_its_video_and_reference_images() {
    let spec = find_model("edit").unwrap();
    let fields = spec.media_fields().unwrap();
    assert_eq!(fields.len(), 6);
    let video = fields[0].rule.video().unwrap();
    assert_eq!(fields[0].name, "video_url");
    assert_eq!(video.containers, [VideoContainer::Mp4, VideoContainer::Mov]);
    assert_eq!(video.codecs, [VideoCodec::H264]);
    assert_eq!(
        (video.min_duration_secs, video.max_duration_secs),
        (Some(3.0), Some(60.0))
    );
    assert_eq!(
        (video.max_long_side, video.min_short_side),
        (Some(2160), Some(320))
    );
    assert_eq!(video.max_bytes, Some(100 * MB));
    assert_eq!(video.fps_greater_than, Some(8.0));
    assert_eq!(
        video.max_aspect_ratio.as_ref().unwrap().to_string(),
        "2.5:1"
    );
    for field in &fields[1..] {
        assert!(field.name.starts_with("reference_image_url_"));
        let image = field.rule.image().unwrap();
        assert_eq!(
            (image.min_side, image.max_bytes),
            (Some(300), Some(10 * MB))
        );
        assert!(image.max_aspect_ratio.is_some());
    }
}

#[test]
fn text_to_video_has_no_media() {
    for short in ["t2v", "1.1/t2v"] {
        assert!(
            find_model(short)
                .unwrap()
                .media_fields()
                .unwrap()
                .is_empty()
        );
    }
}
