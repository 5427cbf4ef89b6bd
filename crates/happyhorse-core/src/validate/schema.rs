//! The JSON Schema half of validation: the checked-in input schema, applied with `jsonschema`,
//! and its errors turned into [`InputError`]s that never echo a long value.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use happyhorse_types::ModelSpec;
use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::{ValidationError, Validator};
use serde_json::Value;

use super::error::{InputError, show_value};

/// Compiled validators, one per model id: compiling costs far more than validating.
fn cache() -> &'static Mutex<HashMap<&'static str, Arc<Validator>>> {
    static CACHE: OnceLock<Mutex<HashMap<&'static str, Arc<Validator>>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// The compiled validator of `spec`'s input schema, or why the schema itself is broken.
pub(super) fn validator(spec: &ModelSpec) -> Result<Arc<Validator>, InputError> {
    // A poisoned lock only means another thread panicked mid-insert; the map is still usable.
    let mut cache = cache()
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(found) = cache.get(spec.input_schema) {
        return Ok(Arc::clone(found));
    }
    let broken = |why: String| {
        InputError::new(
            "",
            "schema",
            &format!(
                "the checked-in input schema of {} is broken: {why}",
                spec.id
            ),
            "-",
        )
    };
    let schema: Value =
        serde_json::from_str(spec.input_schema).map_err(|e| broken(e.to_string()))?;
    let compiled = jsonschema::options()
        .build(&schema)
        .map_err(|e| broken(e.masked().to_string()))?;
    let compiled = Arc::new(compiled);
    cache.insert(spec.input_schema, Arc::clone(&compiled));
    Ok(compiled)
}

/// Every schema violation of `input`, converted.
pub(super) fn schema_errors(validator: &Validator, input: &Value) -> Vec<InputError> {
    let mut errors: Vec<InputError> = validator
        .iter_errors(input)
        .flat_map(|error| convert(&error))
        .collect();
    // A value of the wrong type breaks its other rules too (`5.5` is also "not one of 3..15"):
    // the type error alone says what to fix.
    let mistyped: Vec<String> = errors
        .iter()
        .filter(|e| e.rule == "type")
        .map(|e| e.field.clone())
        .collect();
    errors.retain(|e| e.rule == "type" || !mistyped.contains(&e.field));
    errors
}

/// The field an error is about: the instance path without its leading `/`.
fn field_of(error: &ValidationError<'_>) -> String {
    error
        .instance_path()
        .as_str()
        .trim_start_matches('/')
        .to_owned()
}

fn join(parent: &str, child: &str) -> String {
    if parent.is_empty() {
        child.to_owned()
    } else {
        format!("{parent}/{child}")
    }
}

fn convert(error: &ValidationError<'_>) -> Vec<InputError> {
    let field = field_of(error);
    let instance: &Value = error.instance();
    let value = show_value(instance);
    let kind = error.kind();
    let rule = kind.keyword().to_owned();
    let one = |requirement: String| {
        vec![InputError::new(
            field.clone(),
            rule.clone(),
            &requirement,
            value.clone(),
        )]
    };
    match kind {
        ValidationErrorKind::Required { property } => {
            let name = property
                .as_str()
                .map_or_else(|| property.to_string(), str::to_owned);
            vec![InputError::new(
                join(&field, &name),
                "required",
                "is required",
                "(missing)",
            )]
        }
        ValidationErrorKind::AdditionalProperties { unexpected }
        | ValidationErrorKind::UnevaluatedProperties { unexpected } => unexpected
            .iter()
            .map(|name| {
                let shown = instance
                    .get(name)
                    .map_or_else(|| "-".to_owned(), show_value);
                InputError::new(
                    join(&field, name),
                    rule.clone(),
                    "is not a known field",
                    shown,
                )
            })
            .collect(),
        ValidationErrorKind::Enum { options } => {
            one(format!("must be {}", describe_options(options)))
        }
        ValidationErrorKind::Constant { expected_value } => {
            one(format!("must be {}", show_value(expected_value)))
        }
        ValidationErrorKind::Type { kind } => one(format!("must be {}", describe_type(kind))),
        ValidationErrorKind::Minimum { limit } => one(format!("must be at least {limit}")),
        ValidationErrorKind::Maximum { limit } => one(format!("must be at most {limit}")),
        ValidationErrorKind::ExclusiveMinimum { limit } => {
            one(format!("must be more than {limit}"))
        }
        ValidationErrorKind::ExclusiveMaximum { limit } => {
            one(format!("must be less than {limit}"))
        }
        ValidationErrorKind::MaxLength { limit } => one(format!(
            "must be at most {limit} characters, it has {}",
            instance.as_str().map_or(0, |s| s.chars().count())
        )),
        ValidationErrorKind::MinLength { limit } => {
            one(format!("must be at least {limit} characters"))
        }
        ValidationErrorKind::MaxItems { limit } => one(format!("must have at most {limit} items")),
        ValidationErrorKind::MinItems { limit } => one(format!("must have at least {limit} items")),
        ValidationErrorKind::Format { format } => one(format!("must be a valid {format}")),
        ValidationErrorKind::Pattern { pattern } => {
            one(format!("must match the pattern {pattern}"))
        }
        // Anything rarer: the library's own wording, with the value masked so it is never echoed.
        _ => one(format!("must satisfy `{rule}` ({})", error.masked())),
    }
}

/// "one of "720P" or "1080P"", or "an integer from 3 to 15" for a run of consecutive integers.
fn describe_options(options: &Value) -> String {
    let Some(items) = options.as_array() else {
        return format!("one of {}", show_value(options));
    };
    let integers: Option<Vec<i64>> = items.iter().map(Value::as_i64).collect();
    if let Some(ints) = integers
        && ints.len() > 2
        && ints.windows(2).all(|pair| pair[1] == pair[0] + 1)
    {
        return format!("an integer from {} to {}", ints[0], ints[ints.len() - 1]);
    }
    let shown: Vec<String> = items.iter().map(show_value).collect();
    match shown.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("one of {} or {last}", rest.join(", ")),
        Some((only, _)) => only.clone(),
        None => "nothing (the schema allows no value)".to_owned(),
    }
}

fn describe_type(kind: &TypeKind) -> String {
    let article = |name: &str| {
        if name.starts_with(['a', 'i', 'o']) {
            format!("an {name}")
        } else {
            format!("a {name}")
        }
    };
    match kind {
        TypeKind::Single(one) => article(one.as_str()),
        TypeKind::Multiple(set) => set
            .iter()
            .map(|t| article(t.as_str()))
            .collect::<Vec<_>>()
            .join(" or "),
    }
}

/// Integers written with a fraction (`5.0`): JSON Schema calls them integers, serde does not, and
/// a typed reader downstream would reject them with a worse message than this one.
pub(super) fn integer_literal_errors(schema: &Value, input: &Value) -> Vec<InputError> {
    let (Some(properties), Some(object)) = (
        schema.get("properties").and_then(Value::as_object),
        input.as_object(),
    ) else {
        return Vec::new();
    };
    properties
        .iter()
        .filter(|(_, property)| property.get("type").and_then(Value::as_str) == Some("integer"))
        .filter_map(|(name, _)| {
            let number = object.get(name)?.as_number()?;
            let integral_float =
                number.is_f64() && number.as_f64().is_some_and(|f| f.fract() == 0.0);
            integral_float.then(|| {
                InputError::new(
                    name.clone(),
                    "integer_literal",
                    "must be written as an integer, without a decimal point",
                    number.to_string(),
                )
            })
        })
        .collect()
}
