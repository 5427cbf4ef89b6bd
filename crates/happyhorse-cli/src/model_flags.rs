//! The named input flags, mapped to the chosen model's fields from its schema and `model.json`
//! alone: `--image` fills the first-frame field, `--ref-image` the reference fields in order,
//! `--video` the video to edit, `--aspect-ratio` and `--ratio` the field of that name, and
//! `--duration`, `--resolution`, `--seed`, `--watermark`, `--prompt` theirs. A flag the model
//! does not take is refused, naming the model and the fields it has — never silently dropped,
//! and never sent as a field the service would ignore and bill its default for.

use happyhorse_core::validate::{InputError, shorten};
use happyhorse_types::ModelSpec;
use happyhorse_types::rules::MediaRole;
use serde_json::{Map, Value};

/// The input schema's property names, in order.
pub(crate) fn fields(spec: &ModelSpec) -> Vec<String> {
    serde_json::from_str::<Value>(spec.input_schema)
        .ok()
        .and_then(|schema| {
            schema
                .get("properties")?
                .as_object()
                .map(|p| p.keys().cloned().collect())
        })
        .unwrap_or_default()
}

/// The media fields of `role`, in schema order.
pub(crate) fn media_of(spec: &ModelSpec, role: MediaRole) -> Vec<String> {
    spec.media_fields()
        .map(|fields| {
            fields
                .iter()
                .filter(|f| f.rule.role == role)
                .map(|f| f.name.clone())
                .collect()
        })
        .unwrap_or_default()
}

/// `happyhorse/happyhorse-1.0/text-to-video (t2v)`.
pub(crate) fn named(spec: &ModelSpec) -> String {
    format!("{} ({})", spec.id, spec.short_name)
}

/// The refusal of `flag` for `spec`, with what it does take; `hint` suggests the right flag.
pub(crate) fn not_taken(spec: &ModelSpec, flag: &str, value: &str, hint: &str) -> InputError {
    InputError::new(
        flag,
        "model_flag",
        &format!(
            "must be a flag {} takes{hint} (its fields: {})",
            named(spec),
            fields(spec).join(", ")
        ),
        shorten(value),
    )
}

/// Whether `spec`'s input has the field `name`.
pub(crate) fn has(spec: &ModelSpec, name: &str) -> bool {
    fields(spec).iter().any(|f| f == name)
}

/// Sets `field` to `value` when the model has it, else reports `flag` as not taken.
pub(crate) fn set(
    spec: &ModelSpec,
    object: &mut Map<String, Value>,
    errors: &mut Vec<InputError>,
    (flag, field): (&str, &str),
    value: Value,
) {
    if has(spec, field) {
        object.insert(field.to_owned(), value);
    } else {
        let shown = value
            .as_str()
            .map_or_else(|| value.to_string(), str::to_owned);
        let hint = match (flag, has(spec, "ratio"), has(spec, "aspect_ratio")) {
            ("--aspect-ratio", true, _) => ": use --ratio",
            ("--ratio", _, true) => ": use --aspect-ratio",
            _ => "",
        };
        errors.push(not_taken(spec, flag, &shown, hint));
    }
}

/// `--ref-image` (in order, into the reference fields), `--video` (into the video to edit),
/// `--aspect-ratio` and `--ratio`.
pub(crate) fn apply_media_and_ratio(
    spec: &ModelSpec,
    args: &crate::cli::InputArgs,
    object: &mut Map<String, Value>,
    errors: &mut Vec<InputError>,
) {
    let references = media_of(spec, MediaRole::Reference);
    for (i, image) in args.ref_images.iter().enumerate() {
        match references.get(i) {
            Some(field) => {
                object.insert(field.clone(), Value::String(image.clone()));
            }
            None if references.is_empty() => {
                errors.push(not_taken(spec, "--ref-image", image, ""));
            }
            None => errors.push(InputError::new(
                "--ref-image",
                "model_flag",
                &format!(
                    "must be given at most {} times for {} ({})",
                    references.len(),
                    named(spec),
                    references.join(", ")
                ),
                format!("{} reference images", args.ref_images.len()),
            )),
        }
    }
    if let Some(video) = &args.video {
        match media_of(spec, MediaRole::SourceVideo).first() {
            Some(field) => {
                object.insert(field.clone(), Value::String(video.clone()));
            }
            None => errors.push(not_taken(spec, "--video", video, "")),
        }
    }
    if let Some(ratio) = &args.aspect_ratio {
        set(
            spec,
            object,
            errors,
            ("--aspect-ratio", "aspect_ratio"),
            Value::String(ratio.clone()),
        );
    }
    if let Some(ratio) = &args.ratio {
        set(
            spec,
            object,
            errors,
            ("--ratio", "ratio"),
            Value::String(ratio.clone()),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::InputArgs;
    use happyhorse_types::find_model;

    #[test]
    fn flags_fill_each_models_own_fields() {
        let args = InputArgs {
            ref_images: vec!["a.png".into(), "b.png".into()],
            ratio: Some("9:16".into()),
            ..InputArgs::default()
        };
        let (mut object, mut errors) = (Map::new(), Vec::new());
        apply_media_and_ratio(
            find_model("1.1/r2v").unwrap(),
            &args,
            &mut object,
            &mut errors,
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            Value::Object(object),
            serde_json::json!({"image_url_1": "a.png", "image_url_2": "b.png", "ratio": "9:16"})
        );
        let (mut object, mut errors) = (Map::new(), Vec::new());
        apply_media_and_ratio(find_model("edit").unwrap(), &args, &mut object, &mut errors);
        assert_eq!(object["reference_image_url_2"], "b.png");
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "--ratio");
        assert!(
            errors[0]
                .message
                .starts_with("--ratio: must be a flag happyhorse/happyhorse-1.0/video-edit (edit) takes (its fields: video_url, prompt,"),
            "{}",
            errors[0]
        );
    }

    #[test]
    fn the_wrong_aspect_flag_names_the_right_one() {
        let args = InputArgs {
            aspect_ratio: Some("9:16".into()),
            video: Some("clip.mp4".into()),
            ..InputArgs::default()
        };
        let (mut object, mut errors) = (Map::new(), Vec::new());
        apply_media_and_ratio(
            find_model("1.1/t2v").unwrap(),
            &args,
            &mut object,
            &mut errors,
        );
        let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(shown.len(), 2, "{shown:?}");
        assert!(shown[0].starts_with("--video: must be a flag alibaba/happyhorse-1.1/text-to-video (1.1/t2v) takes (its fields: prompt,"), "{shown:?}");
        assert!(
            shown[1].contains("takes: use --ratio (its fields"),
            "{shown:?}"
        );
        assert!(object.is_empty());
    }

    #[test]
    fn too_many_reference_images_are_refused() {
        let args = InputArgs {
            ref_images: (0..6).map(|i| format!("{i}.png")).collect(),
            ..InputArgs::default()
        };
        let (mut object, mut errors) = (Map::new(), Vec::new());
        apply_media_and_ratio(find_model("edit").unwrap(), &args, &mut object, &mut errors);
        assert_eq!(object.len(), 5);
        assert_eq!(
            errors[0].to_string(),
            "--ref-image: must be given at most 5 times for happyhorse/happyhorse-1.0/video-edit (edit) \
             (reference_image_url_1, reference_image_url_2, reference_image_url_3, reference_image_url_4, \
             reference_image_url_5), got 6 reference images"
        );
    }
}
