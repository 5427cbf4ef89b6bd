//! A model's `model.json`, parsed and checked against its input schema: the catalogue entry the
//! emulator serves, the short name the CLI accepts, and the [input rules](crate::rules).

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, OnceLock};

use serde::Deserialize;
use serde_json::Value;

use crate::ModelSpec;
use crate::rules::{InputRules, MediaChecks, MediaRule};

/// Everything a model's `model.json` says, read by [`ModelSpec::info`].
///
/// ```
/// use happyhorse_types::{rules::MediaRole, video_edit};
///
/// let info = video_edit::SPEC.info()?;
/// assert_eq!((info.short_name.as_str(), info.display_name.as_str()), ("edit", "HappyHorse 1.0 Video Edit"));
/// let fields: Vec<(&str, bool, MediaRole)> =
///     info.media_fields.iter().map(|f| (f.name.as_str(), f.required, f.rule.role)).collect();
/// assert_eq!(fields[0], ("video_url", true, MediaRole::SourceVideo));
/// assert_eq!(fields[1], ("reference_image_url_1", false, MediaRole::Reference));
/// assert_eq!(fields.len(), 6);
/// # Ok::<(), happyhorse_types::ModelInfoError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ModelInfo {
    /// The model's id, equal to its folder under `schemas/models/`.
    pub model_id: String,
    /// The CLI's short name (`i2v`, `1.1/t2v`, …).
    pub short_name: String,
    /// The catalogue's display name.
    pub display_name: String,
    /// One or two sentences on what the model does.
    #[serde(default)]
    pub description: Option<String>,
    /// The kind of output (`video`), which the catalogue filters on with `?kind=`.
    #[serde(default)]
    pub kind: Option<String>,
    /// The catalogue's categories (`image-to-video`, `video`, …).
    #[serde(default)]
    pub categories: Vec<String>,
    /// The catalogue's base price in USD per [`price_unit`](Self::price_unit). The checked-in
    /// prices are **illustrative** (the emulator serves them); the real one comes from the service.
    #[serde(default)]
    pub base_price_usd: Option<f64>,
    /// What the base price is for.
    #[serde(default)]
    pub price_unit: Option<PriceUnit>,
    /// Says where the price comes from (and that a checked-in one is illustrative).
    #[serde(default)]
    pub pricing_note: Option<String>,
    /// The rules the JSON Schema cannot express.
    #[serde(default)]
    pub rules: InputRules,
    /// Every media field of the input schema, in schema order, with its rule (filled from the
    /// schema; not written in `model.json`).
    #[serde(skip)]
    pub media_fields: Vec<MediaField>,
}

/// What a catalogue price is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PriceUnit {
    /// Per second of output video.
    Second,
    /// Per output.
    Output,
}

impl PriceUnit {
    /// As the catalogue writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Second => "second",
            Self::Output => "output",
        }
    }
}

/// One media field of a model's input schema and the rule that applies to it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct MediaField {
    /// The property's name (`image_url_3`).
    pub name: String,
    /// Whether the schema requires it.
    pub required: bool,
    /// Its rule.
    pub rule: MediaRule,
}

/// A `model.json` that cannot be read, or that disagrees with its input schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelInfoError {
    /// The model's id.
    pub model_id: String,
    /// What is wrong, with where (`rules.media[1].formats[0]: unknown variant …`).
    pub message: String,
}

impl fmt::Display for ModelInfoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "model.json of {}: {}", self.model_id, self.message)
    }
}

impl std::error::Error for ModelInfoError {}

/// Parsed `model.json`s, by the address of their embedded text: parsing is done once per model.
fn cache() -> &'static Mutex<HashMap<(usize, usize), &'static ModelInfo>> {
    static CACHE: OnceLock<Mutex<HashMap<(usize, usize), &'static ModelInfo>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

pub(crate) fn info(spec: &ModelSpec) -> Result<&'static ModelInfo, ModelInfoError> {
    let key = (
        spec.metadata.as_ptr() as usize,
        spec.input_schema.as_ptr() as usize,
    );
    // A poisoned lock only means another thread panicked mid-insert; the map is still usable.
    let mut cache = cache().lock().unwrap_or_else(|p| p.into_inner());
    if let Some(found) = cache.get(&key) {
        return Ok(found);
    }
    // Leaked on purpose: one per distinct embedded `model.json`, kept for the program's life.
    let parsed: &'static ModelInfo = Box::leak(Box::new(parse(spec)?));
    cache.insert(key, parsed);
    Ok(parsed)
}

fn parse(spec: &ModelSpec) -> Result<ModelInfo, ModelInfoError> {
    let error = |message: String| ModelInfoError {
        model_id: spec.id.to_owned(),
        message,
    };
    let mut json = serde_json::Deserializer::from_str(spec.metadata);
    let mut info: ModelInfo = serde_path_to_error::deserialize(&mut json)
        .map_err(|e| error(format!("{}: {}", e.path(), e.inner())))?;
    if info.model_id != spec.id {
        return Err(error(format!(
            "`model_id` is `{}`, not `{}`",
            info.model_id, spec.id
        )));
    }
    if info.short_name != spec.short_name {
        return Err(error(format!(
            "`short_name` is `{}`, but the generated spec says `{}` (run `cargo xtask codegen`)",
            info.short_name, spec.short_name
        )));
    }
    if let Some(price) = info.base_price_usd
        && !(price.is_finite() && price >= 0.0)
    {
        return Err(error(format!(
            "`base_price_usd` must be a price, not {price}"
        )));
    }
    let schema: Value = serde_json::from_str(spec.input_schema)
        .map_err(|e| error(format!("the input schema is not JSON: {e}")))?;
    info.media_fields = check_against_schema(&info.rules, &schema).map_err(error)?;
    Ok(info)
}

/// Checks that the rules fit the schema — every rule names properties that exist, every media
/// property has a rule of its kind, the prompt limits agree with `maxLength` — and returns the
/// media fields in schema order.
fn check_against_schema(rules: &InputRules, schema: &Value) -> Result<Vec<MediaField>, String> {
    let properties = schema
        .get("properties")
        .and_then(Value::as_object)
        .ok_or("the input schema has no `properties`")?;
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let is_string =
        |name: &str| properties[name].get("type").and_then(Value::as_str) == Some("string");

    if let Some(prompt) = &rules.prompt {
        let property = properties.get(&prompt.field).ok_or_else(|| {
            format!(
                "rules.prompt: `{}` is not a property of the input schema",
                prompt.field
            )
        })?;
        if !is_string(&prompt.field) {
            return Err(format!("rules.prompt: `{}` is not a string", prompt.field));
        }
        let schema_max = property.get("maxLength").and_then(Value::as_u64);
        if let (Some(max), Some(schema_max)) = (prompt.max_chars, schema_max)
            && u64::try_from(max).ok() != Some(schema_max)
        {
            return Err(format!(
                "rules.prompt.max_chars is {max} but the schema's maxLength is {schema_max}"
            ));
        }
        if let (Some(max), Some(chinese)) = (prompt.max_chars, prompt.max_chars_chinese)
            && chinese > max
        {
            return Err(format!(
                "rules.prompt.max_chars_chinese ({chinese}) is above max_chars ({max})"
            ));
        }
    }

    for (i, rule) in rules.media.iter().enumerate() {
        let twin = rules.media[..i].iter().find(|r| r.field == rule.field);
        if twin.is_some() {
            return Err(format!("rules.media: two rules for `{}`", rule.field));
        }
        if !properties.keys().any(|name| rule.field.matches(name)) {
            return Err(format!(
                "rules.media[{i}]: `{}` matches no property of the input schema",
                rule.field
            ));
        }
        if let MediaChecks::Video(video) = &rule.checks
            && let (Some(min), Some(max)) = (video.min_duration_secs, video.max_duration_secs)
            && min > max
        {
            return Err(format!(
                "rules.media[{i}]: min_duration_secs {min} is above max_duration_secs {max}"
            ));
        }
    }

    let mut fields = Vec::new();
    for (name, property) in properties {
        let format = property.get("format").and_then(Value::as_str);
        let numbered: Vec<&MediaRule> = rules
            .media
            .iter()
            .filter(|r| r.field.number(name).is_some())
            .collect();
        if numbered.len() > 1 {
            return Err(format!(
                "rules.media: `{name}` matches both `{}` and `{}`",
                numbered[0].field, numbered[1].field
            ));
        }
        let Some(rule) = rules.media_rule(name) else {
            if let Some(kind @ ("image_uri" | "video_uri")) = format {
                return Err(format!(
                    "rules.media: the schema's `{name}` is `{kind}` but no rule covers it"
                ));
            }
            continue;
        };
        if !is_string(name) {
            return Err(format!(
                "rules.media: `{name}` is not a string in the schema"
            ));
        }
        let expected = format!("{}_uri", rule.kind());
        if let Some(format) = format.filter(|f| f.ends_with("_uri") && *f != expected) {
            return Err(format!(
                "rules.media: `{name}` is `{format}` in the schema but its rule is for `{}`",
                rule.kind()
            ));
        }
        fields.push(MediaField {
            name: name.clone(),
            required: required.contains(&name.as_str()),
            rule: rule.clone(),
        });
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(metadata: &'static str, input_schema: &'static str) -> ModelSpec {
        ModelSpec {
            id: "a/b/c",
            short_name: "c",
            input_schema,
            output_schema: "{}",
            metadata,
        }
    }

    const SCHEMA: &str = r#"{"type": "object", "required": ["image_url_1"], "properties": {
        "prompt": {"type": "string", "maxLength": 100},
        "image_url_1": {"type": "string", "format": "image_uri"},
        "image_url_2": {"type": "string", "format": "image_uri"},
        "clip": {"type": "string", "format": "video_uri"},
        "steps": {"type": "integer"}}}"#;

    fn rules(rules: &str) -> String {
        format!(
            r#"{{"model_id": "a/b/c", "short_name": "c", "display_name": "C", "rules": {rules}}}"#
        )
    }

    fn parse_rules(text: &str) -> Result<ModelInfo, ModelInfoError> {
        parse(&spec(Box::leak(rules(text).into_boxed_str()), SCHEMA))
    }

    const GOOD_MEDIA: &str = r#"[
        {"field": "image_url_1", "kind": "image", "role": "reference", "min_side": 400},
        {"field": "image_url_{n}", "kind": "image", "role": "reference", "formats": ["png"]},
        {"field": "clip", "kind": "video", "role": "source_video", "codecs": ["h264"], "max_aspect_ratio": "2.5:1"}]"#;

    #[test]
    fn media_fields_follow_the_schema_and_exact_names_win() {
        let info = parse_rules(&format!(r#"{{"media": {GOOD_MEDIA}}}"#)).unwrap();
        let fields: Vec<(&str, bool, &str)> = info
            .media_fields
            .iter()
            .map(|f| (f.name.as_str(), f.required, f.rule.field.as_str()))
            .collect();
        assert_eq!(
            fields,
            [
                ("image_url_1", true, "image_url_1"),
                ("image_url_2", false, "image_url_{n}"),
                ("clip", false, "clip")
            ]
        );
        assert_eq!(
            info.media_fields[0].rule.image().unwrap().min_side,
            Some(400)
        );
        assert!(info.rules.media_rule("image_url_x").is_none());
    }

    #[test]
    fn a_rule_that_does_not_fit_is_refused_naming_it() {
        let media = |extra: &str| format!(r#"{{"media": [{extra}]}}"#);
        for (rules, expected) in [
            (
                media(
                    r#"{"field": "image_url_{n}", "kind": "image", "role": "reference", "min_sides": 3}"#,
                ),
                "rules.media[0]: the media rule for `image_url_{n}`: unknown field `min_sides`",
            ),
            (
                media(
                    r#"{"field": "image_url_{n}", "kind": "image", "role": "reference", "formats": ["gif"]}"#,
                ),
                "unknown variant `gif`, expected one of `jpeg`, `png`, `webp`",
            ),
            (
                media(r#"{"field": "image_url_{n}", "kind": "audio", "role": "reference"}"#),
                "`kind`: unknown variant `audio`",
            ),
            (
                media(
                    r#"{"field": "image_url_{n}", "kind": "image", "role": "reference", "max_aspect_ratio": "wide"}"#,
                ),
                "`wide` must be an aspect ratio such as `2.5:1`",
            ),
            (
                media(r#"{"field": "image_url_{n}", "kind": "image", "role": "reference"}"#),
                "the schema's `clip` is `video_uri` but no rule covers it",
            ),
            (
                media(r#"{"field": "video_{n}", "kind": "image", "role": "reference"}"#),
                "rules.media[0]: `video_{n}` matches no property of the input schema",
            ),
            (
                media(
                    r#"{"field": "image_url_{n}", "kind": "image", "role": "reference"},
                    {"field": "clip", "kind": "image", "role": "reference"}"#,
                ),
                "`clip` is `video_uri` in the schema but its rule is for `image`",
            ),
            (
                media(
                    r#"{"field": "image_url_{n}", "kind": "image", "role": "reference"},
                    {"field": "image_{n}", "kind": "image", "role": "reference"},
                    {"field": "clip", "kind": "video", "role": "source_video"}"#,
                )
                .replace("image_{n}", "image_url_{n}"),
                "two rules for `image_url_{n}`",
            ),
            (
                r#"{"prompt": {"field": "prompt", "max_chars": 5000}}"#.to_owned(),
                "rules.prompt.max_chars is 5000 but the schema's maxLength is 100",
            ),
            (
                r#"{"prompt": {"field": "steps"}}"#.to_owned(),
                "rules.prompt: `steps` is not a string",
            ),
            (
                r#"{"extra": 1}"#.to_owned(),
                "rules.extra: unknown field `extra`",
            ),
        ] {
            let message = parse_rules(&rules).unwrap_err().to_string();
            assert!(
                message.contains(expected),
                "{rules}\n  got: {message}\n  expected: …{expected}…"
            );
        }
    }

    #[test]
    fn the_id_and_the_short_name_must_match_the_spec() {
        let wrong_id = r#"{"model_id": "x/y", "short_name": "c", "display_name": "C"}"#;
        assert_eq!(
            parse(&spec(wrong_id, SCHEMA)).unwrap_err().to_string(),
            "model.json of a/b/c: `model_id` is `x/y`, not `a/b/c`"
        );
        let wrong_short = r#"{"model_id": "a/b/c", "short_name": "d", "display_name": "C"}"#;
        assert!(
            parse(&spec(wrong_short, SCHEMA))
                .unwrap_err()
                .message
                .starts_with("`short_name` is `d`, but the generated spec says `c`")
        );
    }

    #[test]
    fn parsing_is_cached_per_spec() {
        let spec = crate::image_to_video::SPEC;
        assert!(std::ptr::eq(info(&spec).unwrap(), info(&spec).unwrap()));
    }
}
