//! One input object from every source the flags allow, checked before anything is sent.
//!
//! Layers merge in this order, later ones winning per field: the `--input` file, the `--set`
//! pairs, then the named flags (`--image`, `--prompt`, …). Local image files — from `--image` or
//! written as a path in any `*image_url*` field — are checked and inlined as `data:` URIs. Then
//! core's [`validate_input`] checks the whole object against the model's schema, and every broken
//! rule is reported at once.

use std::io::Read;
use std::path::Path;

use happyhorse_core::validate::{InputError, InputErrors, is_image_field, shorten, validate_input};
use happyhorse_types::ModelSpec;
use serde_json::{Map, Value};

use crate::cli::InputArgs;
use crate::image;

/// The image field of the image-to-video model, filled by `--image`.
const IMAGE_FIELD: &str = "image_url";

/// Builds the input object from `args` and validates it for `spec`.
///
/// `stdin` is read at most once, by whichever of `--image -`, `--prompt-file -` or `--input -`
/// asked for it (asking twice is an error).
pub(crate) fn assemble_and_validate(
    spec: &ModelSpec,
    args: &InputArgs,
    stdin: &mut dyn Read,
) -> Result<Value, InputErrors> {
    let mut errors = Vec::new();
    let Some(mut object) = assemble(args, stdin, &mut errors) else {
        return Err(InputErrors::new(errors));
    };
    let failed_images = inline_local_images(&mut object, Path::new(""), &mut errors);
    let value = Value::Object(object);
    if let Err(found) = validate_input(spec, &value) {
        // A field whose file could not be loaded already has its error; the schema's complaint
        // about the path left in its place would only repeat it.
        errors.extend(
            found
                .into_iter()
                .filter(|e| !failed_images.contains(&e.field)),
        );
    }
    if errors.is_empty() {
        Ok(value)
    } else {
        Err(InputErrors::new(errors))
    }
}

/// The merged object, or `None` when the sources themselves conflict.
fn assemble(
    args: &InputArgs,
    stdin: &mut dyn Read,
    errors: &mut Vec<InputError>,
) -> Option<Map<String, Value>> {
    let stdin_users = [
        args.image.as_deref(),
        args.prompt_file.as_deref(),
        args.input_file.as_deref(),
    ]
    .into_iter()
    .filter(|v| *v == Some("-"))
    .count();
    if stdin_users > 1 {
        // Which of them would get the bytes is arbitrary: refuse before reading anything.
        errors.push(InputError::new(
            "",
            "stdin",
            "must read stdin (`-`) for at most one of --image, --prompt-file and --input",
            format!("{stdin_users} of them"),
        ));
        return None;
    }
    let mut read_stdin = || {
        let mut bytes = Vec::new();
        stdin.read_to_end(&mut bytes).map(|_| bytes)
    };

    let mut object = Map::new();
    if let Some(source) = &args.input_file {
        let text = if source == "-" {
            read_stdin().map_err(|e| e.to_string())
        } else {
            std::fs::read(source).map_err(|e| image::io_reason(&e))
        };
        match text {
            Err(why) => errors.push(InputError::new(
                "",
                "input_file",
                &format!("must be a readable JSON file ({why})"),
                shorten(source),
            )),
            Ok(bytes) => match serde_json::from_slice::<Value>(&bytes) {
                Ok(Value::Object(map)) => object = map,
                Ok(other) => errors.push(InputError::new(
                    "",
                    "type",
                    "must be a JSON object",
                    shorten(&other.to_string()),
                )),
                Err(e) => errors.push(InputError::new(
                    "",
                    "json",
                    &format!("must be valid JSON ({e})"),
                    shorten(source),
                )),
            },
        }
    }

    for pair in &args.set {
        match pair.split_once('=') {
            Some((key, value)) if !key.trim().is_empty() => {
                object.insert(key.trim().to_owned(), json_or_string(value));
            }
            _ => errors.push(InputError::new(
                "",
                "set",
                "--set must be KEY=VALUE",
                shorten(pair),
            )),
        }
    }

    if let Some(image) = &args.image {
        if image == "-" {
            match read_stdin() {
                Ok(bytes) => match image::bytes_to_data_uri(IMAGE_FIELD, &bytes) {
                    Ok(uri) => {
                        object.insert(IMAGE_FIELD.into(), Value::String(uri));
                    }
                    Err(error) => {
                        errors.push(error);
                        // Keep the field present so it is not also reported as missing.
                        object.insert(IMAGE_FIELD.into(), Value::String(String::new()));
                    }
                },
                Err(e) => errors.push(InputError::new(
                    IMAGE_FIELD,
                    "image_file",
                    &format!("must be readable from stdin ({e})"),
                    "-",
                )),
            }
        } else {
            object.insert(IMAGE_FIELD.into(), Value::String(image.clone()));
        }
    }
    if let Some(prompt) = &args.prompt {
        object.insert("prompt".into(), Value::String(prompt.clone()));
    }
    if let Some(source) = &args.prompt_file {
        let text = if source == "-" {
            read_stdin().map_err(|e| e.to_string())
        } else {
            std::fs::read(source).map_err(|e| image::io_reason(&e))
        };
        match text.map(String::from_utf8) {
            Ok(Ok(text)) => {
                let text = text.strip_suffix('\n').unwrap_or(&text);
                let text = text.strip_suffix('\r').unwrap_or(text);
                object.insert("prompt".into(), Value::String(text.to_owned()));
            }
            Ok(Err(_)) => errors.push(InputError::new(
                "prompt",
                "prompt_file",
                "must be read from a UTF-8 text file",
                shorten(source),
            )),
            Err(why) => errors.push(InputError::new(
                "prompt",
                "prompt_file",
                &format!("must be read from a readable file ({why})"),
                shorten(source),
            )),
        }
    }
    if let Some(resolution) = &args.resolution {
        object.insert("resolution".into(), Value::String(resolution.clone()));
    }
    if let Some(duration) = &args.duration {
        object.insert("duration".into(), json_or_string(duration));
    }
    if let Some(seed) = &args.seed {
        object.insert("seed".into(), json_or_string(seed));
    }
    if let Some(watermark) = args.watermark {
        object.insert("watermark".into(), Value::Bool(watermark));
    }
    Some(object)
}

/// Replaces local paths in image fields by checked `data:` URIs; returns the fields that failed.
/// Inlines every local image named in an image field (a path relative to `base`) as a `data:`
/// URI; returns the fields whose file could not be used (their errors are in `errors`).
pub(crate) fn inline_local_images(
    object: &mut Map<String, Value>,
    base: &Path,
    errors: &mut Vec<InputError>,
) -> Vec<String> {
    let mut failed = Vec::new();
    for (field, value) in object.iter_mut() {
        if !is_image_field(field) {
            continue;
        }
        let Some(text) = value.as_str() else { continue };
        if text.is_empty() {
            // `--image -` that was not an image: already reported.
            failed.push(field.clone());
            continue;
        }
        if image::is_remote(text) {
            continue;
        }
        match image::file_to_data_uri(field, &base.join(text)) {
            Ok(uri) => *value = Value::String(uri),
            Err(error) => {
                errors.push(error);
                failed.push(field.clone());
            }
        }
    }
    failed
}

/// `--set` and numeric flags: JSON when it parses (`5`, `true`, `"x"`, `{…}`), else the text itself.
fn json_or_string(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use happyhorse_types::image_to_video::SPEC;

    fn args() -> InputArgs {
        InputArgs {
            image: Some("https://example.com/horse.png".into()),
            prompt: Some("A horse trots".into()),
            ..InputArgs::default()
        }
    }

    fn run(args: &InputArgs) -> Result<Value, InputErrors> {
        assemble_and_validate(&SPEC, args, &mut std::io::empty())
    }

    #[test]
    fn named_flags_fill_the_object() {
        let mut a = args();
        a.duration = Some("8".into());
        a.seed = Some("42".into());
        a.resolution = Some("720P".into());
        a.watermark = Some(true);
        let value = run(&a).unwrap();
        assert_eq!(
            value,
            serde_json::json!({"image_url": "https://example.com/horse.png", "prompt": "A horse trots",
                "duration": 8, "seed": 42, "resolution": "720P", "watermark": true})
        );
    }

    #[test]
    fn named_flags_override_set_pairs() {
        let mut a = args();
        a.set = vec!["duration=4".into(), "seed=7".into()];
        a.duration = Some("6".into());
        let value = run(&a).unwrap();
        assert_eq!(value["duration"], 6);
        assert_eq!(value["seed"], 7);
    }

    #[test]
    fn every_error_is_reported_at_once() {
        let mut a = args();
        a.duration = Some("16".into());
        a.resolution = Some("4K".into());
        a.set = vec!["nonsense".into()];
        let errors = run(&a).unwrap_err();
        let rules: Vec<(&str, &str)> = errors
            .errors()
            .iter()
            .map(|e| (e.field.as_str(), e.rule.as_str()))
            .collect();
        assert_eq!(
            rules,
            [("", "set"), ("resolution", "enum"), ("duration", "enum")]
        );
    }

    #[test]
    fn a_missing_local_image_is_reported_once() {
        let mut a = args();
        a.image = Some("/nonexistent/horse.png".into());
        let errors = run(&a).unwrap_err();
        assert_eq!(errors.len(), 1, "{errors}");
        assert_eq!(errors.errors()[0].rule, "image_file");
    }

    #[test]
    fn stdin_can_be_read_only_once() {
        let mut a = args();
        a.image = Some("-".into());
        a.input_file = Some("-".into());
        let errors = run(&a).unwrap_err();
        assert!(
            errors.errors().iter().any(|e| e.rule == "stdin"),
            "{errors}"
        );
    }

    #[test]
    fn set_values_are_json_when_they_parse() {
        assert_eq!(json_or_string("5"), serde_json::json!(5));
        assert_eq!(json_or_string("true"), serde_json::json!(true));
        assert_eq!(json_or_string("720P"), serde_json::json!("720P"));
        assert_eq!(json_or_string("\"5\""), serde_json::json!("5"));
    }
}
