//! One input object from every source the flags allow, checked before anything is sent.
//!
//! Layers merge in this order, later ones winning per field: the `--input` file, the `--set`
//! pairs, then the named flags (`--image`, `--ref-image`, `--video`, `--prompt`, …), which go to
//! the chosen model's own fields (`model_flags`). Local files — from those flags, `--set
//! FIELD=@PATH`, or written as a path in any of the model's media fields — go through the
//! library's pipeline (`happyhorse_http::MediaSource`: checked by the field's own rule, inlined as
//! `data:` URIs). Then core's validation checks the whole object against the model's schema and
//! rules, and every broken rule is reported at once.
//!
//! Every file and stdin is read bounded by the limit that applies (an image: 10,000,000 bytes;
//! a prompt: 20,002; an `--input` object: 64 MiB) plus one byte, and must be UTF-8 text where
//! text is expected: invalid bytes are refused with their line and offset, never "repaired".

use std::io::Read;
use std::path::Path;

use happyhorse_core::validate::{
    INLINE_MAX_BYTES, InputError, InputErrors, PROMPT_MAX_CHARS, REQUEST_MAX_BYTES,
    ValidateOptions, check_image_size_with, check_utf8, media_rule, shorten, validate_input_with,
};
use happyhorse_http::ImageSource;
use happyhorse_types::ModelSpec;
use happyhorse_types::rules::MediaRole;
use serde_json::{Map, Value};

use crate::cli::InputArgs;
use crate::model_flags;
use crate::read::{self, ReadError};

/// The largest prompt file: the longest valid prompt at 4 bytes per character, and a line break.
pub(crate) const PROMPT_FILE_MAX_BYTES: usize = 4 * PROMPT_MAX_CHARS + 2;

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
    let Some(Assembled {
        mut object,
        mut failed,
        input_file_failed,
    }) = assemble(spec, args, stdin, &mut errors)
    else {
        return Err(InputErrors::new(errors));
    };
    failed.extend(inline_local_media(
        spec,
        &mut object,
        Path::new(""),
        &mut errors,
    ));
    let value = Value::Object(object);
    let options = ValidateOptions::default().allow_unknown_fields(args.allow_unknown);
    if let Err(found) = validate_input_with(spec, &value, options) {
        // A field whose source could not be read already has its error; the schema's complaint
        // about what was left in its place (or missing) would only repeat it. So would "is
        // required" when the `--input` file that may have held the field was unreadable.
        errors.extend(found.into_iter().filter(|e| {
            let repeats = failed.contains(&e.field) || (input_file_failed && e.rule == "required");
            !repeats
        }));
    }
    if errors.is_empty() {
        Ok(value)
    } else {
        Err(InputErrors::new(errors))
    }
}

/// The bytes of `source` (`-`: stdin), bounded by `limit`.
fn read_source(source: &str, stdin: &mut dyn Read, limit: usize) -> Result<Vec<u8>, ReadError> {
    if source == "-" {
        read::read_bounded(stdin, limit as u64)
    } else {
        read::read_path_bounded(Path::new(source), limit as u64)
    }
}

/// A `utf8` error for `field`, locating the first invalid byte of `source`.
fn not_utf8(
    field: &str,
    source: &str,
    problem: happyhorse_core::validate::Utf8Problem,
) -> InputError {
    InputError::new(
        field,
        "utf8",
        &format!("must be UTF-8 text ({problem})"),
        shorten(source),
    )
}

/// What the sources gave: the merged object, the fields whose source failed (already
/// reported), and whether the `--input` file failed.
struct Assembled {
    object: Map<String, Value>,
    failed: Vec<String>,
    input_file_failed: bool,
}

/// The merged object, or `None` when the sources themselves conflict.
fn assemble(
    spec: &ModelSpec,
    args: &InputArgs,
    stdin: &mut dyn Read,
    errors: &mut Vec<InputError>,
) -> Option<Assembled> {
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

    let mut object = Map::new();
    let mut failed = Vec::new();
    let errors_before_input = errors.len();
    if let Some(source) = &args.input_file {
        match read_source(source, stdin, REQUEST_MAX_BYTES) {
            Err(why) => errors.push(InputError::new(
                "",
                "input_file",
                &format!(
                    "must be a readable JSON file of at most 64 MiB ({})",
                    why.reason()
                ),
                shorten(source),
            )),
            Ok(bytes) => match check_utf8(&bytes) {
                Err(problem) => errors.push(not_utf8("", source, problem)),
                Ok(text) => match serde_json::from_str::<Value>(text) {
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
            },
        }
    }

    let input_file_failed = errors.len() > errors_before_input;

    for pair in &args.set {
        match pair.split_once('=') {
            Some((key, value)) if !key.trim().is_empty() => {
                let key = key.trim();
                match value.strip_prefix('@') {
                    // A local file for a media field: inlined with the others below.
                    Some(path) if media_rule(spec, key).is_some() => {
                        object.insert(key.to_owned(), Value::String(path.to_owned()));
                    }
                    Some(_) => errors.push(InputError::new(
                        key,
                        "set",
                        &format!(
                            "must be a media field of {} to take a local file (`@PATH`)",
                            model_flags::named(spec)
                        ),
                        shorten(pair),
                    )),
                    None => {
                        object.insert(key.to_owned(), json_or_string(value));
                    }
                }
            }
            _ => errors.push(InputError::new(
                "",
                "set",
                "--set must be KEY=VALUE",
                shorten(pair),
            )),
        }
    }

    let first_frame = model_flags::media_of(spec, MediaRole::FirstFrame)
        .into_iter()
        .next();
    match (&args.image, first_frame.as_deref()) {
        (Some(image), None) => errors.push(model_flags::not_taken(spec, "--image", image, "")),
        (Some(image), Some(field)) => {
            first_frame_image(spec, field, image, stdin, &mut object, errors)
        }
        (None, _) => {}
    }
    model_flags::apply_media_and_ratio(spec, args, &mut object, errors);
    let prompt_field = spec
        .rules()
        .ok()
        .and_then(|rules| rules.prompt.as_ref())
        .map_or("prompt", |rule| rule.field.as_str());
    if let Some(prompt) = &args.prompt {
        object.insert(prompt_field.into(), Value::String(prompt.clone()));
    }
    let prompt_file_limit = spec
        .rules()
        .ok()
        .and_then(|rules| rules.prompt.as_ref()?.max_chars)
        .map_or(PROMPT_FILE_MAX_BYTES, |chars| 4 * chars + 2);
    if let Some(source) = &args.prompt_file {
        match read_source(source, stdin, prompt_file_limit) {
            Ok(bytes) => match check_utf8(&bytes) {
                Ok(text) => {
                    object.insert(prompt_field.into(), Value::String(prompt_from_file(text)));
                }
                Err(problem) => {
                    failed.push(prompt_field.to_owned());
                    errors.push(not_utf8(prompt_field, source, problem));
                }
            },
            Err(ReadError::TooLarge(limit)) => {
                failed.push(prompt_field.to_owned());
                errors.push(InputError::new(
                    prompt_field,
                    "prompt_file",
                    &format!(
                        "must be read from a file of at most {limit} bytes (the longest valid prompt)"
                    ),
                    format!("more than {limit} bytes ({})", shorten(source)),
                ));
            }
            Err(why) => {
                failed.push(prompt_field.to_owned());
                errors.push(InputError::new(
                    prompt_field,
                    "prompt_file",
                    &format!("must be read from a readable text file ({})", why.reason()),
                    shorten(source),
                ));
            }
        }
    }
    let set = |object: &mut Map<String, Value>, errors: &mut Vec<InputError>, flag, value| {
        model_flags::set(spec, object, errors, flag, value);
    };
    if let Some(resolution) = &args.resolution {
        set(
            &mut object,
            errors,
            ("--resolution", "resolution"),
            Value::String(resolution.clone()),
        );
    }
    if let Some(duration) = &args.duration {
        set(
            &mut object,
            errors,
            ("--duration", "duration"),
            json_or_string(duration),
        );
    }
    if let Some(seed) = &args.seed {
        set(
            &mut object,
            errors,
            ("--seed", "seed"),
            json_or_string(seed),
        );
    }
    if let Some(watermark) = args.watermark {
        set(
            &mut object,
            errors,
            ("--watermark", "watermark"),
            Value::Bool(watermark),
        );
    }
    Some(Assembled {
        object,
        failed,
        input_file_failed,
    })
}

/// `--image`: the first frame, from a file, a URL or stdin (`-`: read bounded, checked by the
/// field's rule).
fn first_frame_image(
    spec: &ModelSpec,
    field: &str,
    image: &str,
    stdin: &mut dyn Read,
    object: &mut Map<String, Value>,
    errors: &mut Vec<InputError>,
) {
    {
        if image == "-" {
            let value = match read::read_bounded(&mut *stdin, stdin_limit(spec, field)) {
                Ok(bytes) => ImageSource::Bytes(bytes)
                    .into_value_for_blocking(spec, field)
                    .map_err(|e| library_errors(&e, field, "-")),
                Err(ReadError::TooLarge(limit)) => Err(vec![too_large_stdin(field, limit)]),
                Err(why) => Err(vec![InputError::new(
                    field,
                    "image_file",
                    &format!("must be readable from stdin ({})", why.reason()),
                    "-",
                )]),
            };
            match value {
                Ok(uri) => {
                    object.insert(field.into(), Value::String(uri));
                }
                Err(found) => {
                    errors.extend(found);
                    // Keep the field present so it is not also reported as missing.
                    object.insert(field.into(), Value::String(String::new()));
                }
            }
        } else {
            object.insert(field.into(), Value::String(image.to_owned()));
        }
    }
}

/// A prompt file's text: Windows line breaks become `\n` (the prompt rule allows no carriage
/// return), and one final line break is dropped.
fn prompt_from_file(text: &str) -> String {
    let text = text.replace("\r\n", "\n");
    text.strip_suffix('\n').unwrap_or(&text).to_owned()
}

/// How many bytes `--image -` reads: the field's size limit, else what may travel inline.
fn stdin_limit(spec: &ModelSpec, field: &str) -> u64 {
    media_rule(spec, field)
        .and_then(|rule| rule.image()?.max_bytes)
        .unwrap_or(INLINE_MAX_BYTES)
}

fn too_large_stdin(field: &str, limit: u64) -> InputError {
    match check_image_size_with(limit, limit + 1) {
        Err(error) => error
            .for_field(field)
            .with_value(format!("more than {limit} bytes (stdin)")),
        Ok(()) => InputError::new(field, "image_max_bytes", "must be smaller", "stdin"),
    }
}

/// The structured errors of a library error about `field` (an image's), or one naming it.
fn library_errors(error: &happyhorse_http::Error, field: &str, value: &str) -> Vec<InputError> {
    match error.input_errors() {
        Some(found) => found.errors().to_vec(),
        None => vec![InputError::new(
            field,
            "image_file",
            &format!("must be a usable image ({error})"),
            shorten(value),
        )],
    }
}

/// Inlines every local file named in one of `spec`'s media fields (a path relative to `base`)
/// as a `data:` URI, through the library's pipeline, by the field's own rule; returns the fields
/// whose file could not be used (their errors are in `errors`).
pub(crate) fn inline_local_media(
    spec: &ModelSpec,
    object: &mut Map<String, Value>,
    base: &Path,
    errors: &mut Vec<InputError>,
) -> Vec<String> {
    let mut failed = Vec::new();
    for (field, value) in object.iter_mut() {
        if media_rule(spec, field).is_none() {
            continue;
        }
        let Some(text) = value.as_str() else { continue };
        if text.is_empty() {
            // `--image -` that was not an image: already reported.
            failed.push(field.clone());
            continue;
        }
        if ImageSource::is_url(text) {
            continue;
        }
        match ImageSource::Path(base.join(text)).into_value_for_blocking(spec, field) {
            Ok(uri) => *value = Value::String(uri),
            Err(error) => {
                errors.extend(library_errors(&error, field, text));
                failed.push(field.clone());
            }
        }
    }
    failed
}

/// Every model's short name, for messages: `i2v, t2v, …`.
pub(crate) fn known_models() -> String {
    let names: Vec<&str> = happyhorse_types::MODELS
        .iter()
        .map(|spec| spec.short_name)
        .collect();
    names.join(", ")
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
