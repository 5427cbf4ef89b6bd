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
fn enum_values_sharing_a_variant_name_are_refused() {
    let message = refusal(with_property(
        json!({"type": "string", "enum": ["a-b", "a_b"]}),
    ));
    assert_eq!(
        message,
        "/properties/field/enum: `a-b` and `a_b` would both be the variant `AB`"
    );
    let ratios = read_input(with_property(
        json!({"type": "string", "enum": ["16:9", "1:69", "169"]}),
    ))
    .unwrap();
    let code = render("", emit::defs(&ratios, emit::StructRole::Input)).unwrap();
    for variant in ["R16x9,", "R1x69,", "V169,"] {
        assert!(code.contains(variant), "{variant} in {code}");
    }
}

#[test]
fn media_formats_are_plain_strings_that_keep_their_format() {
    let defs = read_input(
        json!({"type": "object", "required": ["clip"], "properties": {
            "clip": {"type": "string", "format": "video_uri"},
            "image_url_2": {"type": "string", "format": "image_uri"}
        }}),
    )
    .unwrap();
    let code = render("", emit::defs(&defs, emit::StructRole::Input)).unwrap();
    assert!(code.contains(r#"extend("format" = "video_uri")"#), "{code}");
    assert!(code.contains("pub clip: String,"), "{code}");
    assert!(code.contains("pub image_url_2: Option<String>,"), "{code}");
    assert!(
        code.contains("pub fn image_url_2(mut self, value: impl Into<String>)"),
        "{code}"
    );
}

/// Writes a models folder with one model per `(id, model.json)`, each with a minimal schema.
fn models_folder(models: &[(&str, Value)]) -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    for (id, metadata) in models {
        let dir = root.path().join("models").join(id);
        std::fs::create_dir_all(&dir).unwrap();
        let schema = json!({"type": "object", "properties": {"prompt": {"type": "string"}}});
        for (file, value) in [
            ("input.schema.json", &schema),
            ("output.schema.json", &schema),
            ("model.json", metadata),
        ] {
            std::fs::write(dir.join(file), value.to_string()).unwrap();
        }
    }
    root
}

fn model_json(id: &str, short_name: &str) -> Value {
    json!({"model_id": id, "short_name": short_name, "display_name": "M"})
}

#[test]
fn models_that_would_collide_are_refused_naming_both() {
    let cases = [
        (
            vec![
                ("v/a-1/t2v", model_json("v/a-1/t2v", "t")),
                ("v/a-2/t2v", model_json("v/a-2/t2v", "t")),
            ],
            "the short name `t` is already `v/a-1/t2v`'s",
        ),
        (
            vec![
                ("v/a-1/t2v", model_json("v/a-1/t2v", "a")),
                ("v/a-2/t2v", model_json("v/a-2/t2v", "b")),
            ],
            "`v/a-1/t2v` and `v/a-2/t2v` would both be `t2v`; give one of them a namespace",
        ),
        (
            vec![("v/a/m", model_json("v/a/other", "m"))],
            "`model_id` is Some(\"v/a/other\") but the folder says `v/a/m`",
        ),
        (
            vec![("v/a/m", json!({"model_id": "v/a/m", "display_name": "M"}))],
            "`short_name` (the CLI's name for the model, e.g. `t2v` or `1.1/t2v`) is missing",
        ),
    ];
    for (models, expected) in cases {
        let root = models_folder(&models);
        let err = models::collect(root.path(), &root.path().join("models")).err();
        let message = format!(
            "{:#}",
            err.expect("the generator accepted colliding models")
        );
        assert!(
            message.contains(expected),
            "got: {message}\nexpected: …{expected}…"
        );
    }
    let fine = models_folder(&[
        ("v/a-1/t2v", model_json("v/a-1/t2v", "t2v")),
        ("v/a-2/t2v", model_json("v/a-2/t2v", "2/t2v")),
    ]);
    let models = models::collect(fine.path(), &fine.path().join("models")).unwrap();
    let items = models::index_items(&models).to_string();
    assert!(items.contains("pub mod v2"), "{items}");
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
