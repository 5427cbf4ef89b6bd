//! Shared by the tests that compare a generated type's derived schema with the checked-in one.

// Each test crate that includes this module uses only part of it.
#![allow(dead_code)]

use schemars::{JsonSchema, SchemaGenerator};
use serde_json::Value;

/// The normalisation documented in docs/schemas.md (with [`derived`] dropping the title schemars
/// invents for an untitled root): `$schema` and numeric `format`s are dropped,
/// `additionalProperties: true` (the default) is dropped, a `description` equal to the `title` is
/// dropped (schemars reads a one-line doc comment as a description), and `required` is compared
/// as a set (objects compare as maps).
pub(crate) fn normalise(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.remove("$schema");
            if map.get("additionalProperties") == Some(&Value::Bool(true)) {
                map.remove("additionalProperties");
            }
            if matches!(
                map.get("type").and_then(Value::as_str),
                Some("integer" | "number")
            ) {
                map.remove("format");
            }
            if map.contains_key("title") && map.get("description") == map.get("title") {
                map.remove("description");
            }
            if let Some(Value::Array(required)) = map.get_mut("required") {
                required.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
            }
            map.values_mut().for_each(normalise);
        }
        Value::Array(items) => items.iter_mut().for_each(normalise),
        _ => {}
    }
}

/// The derived schema of `T` and the `$defs` it refers to.
pub(crate) fn derived<T: JsonSchema>() -> (Value, serde_json::Map<String, Value>) {
    let mut generator = SchemaGenerator::default();
    let mut schema = generator.root_schema_for::<T>().to_value();
    // schemars titles an untitled root schema with the type's name; the checked-in one has none.
    if schema.get("title").and_then(Value::as_str) == Some(T::schema_name().as_ref()) {
        schema.as_object_mut().unwrap().remove("title");
    }
    let defs = schema
        .as_object_mut()
        .unwrap()
        .remove("$defs")
        .and_then(|d| d.as_object().cloned())
        .unwrap_or_default();
    normalise(&mut schema);
    (schema, defs)
}

/// A checked-in schema's text, normalised.
pub(crate) fn checked_in(text: &str) -> Value {
    let mut value: Value = serde_json::from_str(text).unwrap();
    normalise(&mut value);
    value
}

/// Checks that `M`'s generated input and output types describe exactly its checked-in schemas.
pub(crate) fn assert_model_schemas_match<M: happyhorse_types::Model>() {
    let spec = M::SPEC;
    let (input, defs) = derived::<M::Input>();
    assert!(
        defs.is_empty(),
        "{}: input types are inlined like the checked-in schema: {defs:?}",
        spec.id
    );
    assert_eq!(input, checked_in(spec.input_schema), "{} input", spec.id);
    let (output, _) = derived::<M::Output>();
    assert_eq!(output, checked_in(spec.output_schema), "{} output", spec.id);
}
