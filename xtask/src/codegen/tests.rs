//! The generator's tests: the checked-in output is fresh, its output for the kitchen-sink schemas is
//! snapshot-tested (and compiled by `crates/happyhorse-types/tests/kitchen_sink.rs`), and schema
//! constructs it does not support are refused with the keyword and where it stands.

use serde_json::{Value, json};

use super::*;

#[test]
fn generated_code_is_fresh() {
    let root = crate::workspace_root();
    if let Err(err) = run(&root, Mode::Check) {
        panic!("{err:#}");
    }
}

#[test]
fn kitchen_sink_snapshots() {
    let outputs = generate(&crate::workspace_root()).unwrap();
    for file in ["defs.rs", "input.rs"] {
        let text = outputs.get(&format!("{KITCHEN_SINK_OUT}/{file}")).unwrap();
        insta::assert_snapshot!(format!("kitchen_sink_{file}"), text);
    }
}

#[test]
fn output_is_deterministic() {
    let root = crate::workspace_root();
    assert!(generate(&root).unwrap().files == generate(&root).unwrap().files);
}

fn read_input(schema: Value) -> Result<Vec<ir::Def>> {
    let mut reader = ir::Reader::new();
    reader.root_struct("Input", &schema, "")?;
    Ok(reader.defs)
}

fn refusal(schema: Value) -> String {
    format!(
        "{:#}",
        read_input(schema).expect_err("the generator accepted an unsupported schema")
    )
}

fn with_property(property: Value) -> Value {
    json!({"type": "object", "properties": {"field": property}})
}

#[test]
fn unsupported_constructs_are_refused_by_name() {
    let cases = [
        (
            with_property(json!({"type": "string", "pattern": "^a"})),
            "/properties/field: unsupported schema keyword `pattern`",
        ),
        (
            with_property(json!({"type": "string", "minLength": 1})),
            "/properties/field: unsupported schema keyword `minLength`",
        ),
        (
            with_property(json!({"oneOf": [{"type": "string"}]})),
            "/properties/field: unsupported schema keyword `oneOf`",
        ),
        (
            with_property(json!({"type": ["string", "null"]})),
            "/properties/field/type: a single type name is required",
        ),
        (
            with_property(json!({"type": "integer", "minimum": 1})),
            "/properties/field: an integer needs both `minimum` and `maximum`",
        ),
        (
            with_property(json!({"type": "number", "enum": [1.5]})),
            "/properties/field: number enums are not supported",
        ),
        (
            with_property(json!({"type": "string", "format": "email"})),
            "/properties/field: unsupported format `email`",
        ),
        (
            with_property(json!({"type": "string", "enum": ["a"], "default": "b"})),
            "/properties/field/default: `b` is not in the enum",
        ),
        (
            with_property(json!({"type": "integer", "enum": [1, 2], "default": 3})),
            "/properties/field/default: 3 is not in the enum",
        ),
        (
            with_property(json!({"$ref": "other.json#/x"})),
            "/properties/field/$ref: only `#/$defs/Name` references are supported",
        ),
        (
            with_property(json!({"anyOf": [{"type": "string"}, {"type": "integer"}]})),
            "/properties/field/anyOf/0: each `anyOf` alternative needs a `title`",
        ),
        (
            with_property(
                json!({"anyOf": [{"title": "A", "type": "string"}, {"title": "B", "type": "string"}]}),
            ),
            "/properties/field/anyOf/1: two alternatives of the same JSON type cannot be told apart",
        ),
        (
            with_property(json!({"type": "array"})),
            "/properties/field: an array needs `items`",
        ),
        (
            with_property(json!({"type": "null"})),
            "/properties/field/type: unsupported type `null`",
        ),
        (
            with_property(json!(true)),
            "/properties/field: expected a schema object",
        ),
        (
            json!({"type": "object", "properties": {}, "required": ["gone"]}),
            "/required: `gone` is not a property",
        ),
        (
            json!({"type": "object", "properties": {}, "additionalProperties": false}),
            ": unsupported schema keyword `additionalProperties`",
        ),
        (
            json!({"type": "string"}),
            ": a root schema must be `\"type\": \"object\"` with `properties`",
        ),
    ];
    for (schema, expected) in cases {
        let message = refusal(schema.clone());
        assert!(
            message.starts_with(expected),
            "for {schema}\n  got:      {message}\n  expected: {expected}…"
        );
    }
}

#[test]
fn a_new_enum_value_becomes_a_variant() {
    let schema = with_property(
        json!({"type": "string", "enum": ["720P", "1080P", "480P"], "default": "1080P"}),
    );
    let defs = read_input(schema).unwrap();
    let code = render("", emit::defs(&defs, emit::StructRole::Input)).unwrap();
    assert!(
        code.contains("#[serde(rename = \"480P\")]\n    P480,"),
        "{code}"
    );
}

#[test]
fn two_types_with_one_name_are_refused() {
    let mut reader = ir::Reader::new();
    let schema = json!({"$defs": {
        "A": {"type": "object", "properties": {"mode": {"type": "string", "enum": ["x"]}}},
        "B": {"type": "object", "properties": {"mode": {"type": "string", "enum": ["y"]}}}
    }});
    let err = reader.defs_document(&schema).unwrap_err();
    assert_eq!(
        format!("{err:#}"),
        "two different types would both be named `Mode`"
    );
}
