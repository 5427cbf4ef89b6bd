//! The digest that says two inputs ask for the same video: the model, and the input as canonical
//! JSON (object keys sorted, no whitespace, the schema's defaults filled in), with every inline
//! image (`data:…;base64,…`) replaced by the SHA-256 of its bytes — so the same photo given as a
//! file, on stdin or as a data URI gives the same digest. Remote image URLs are compared as
//! text: their bytes are never fetched.

use base64::Engine as _;
use happyhorse_types::ModelSpec;
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

/// `sha256:` and 64 hex digits over the model id and the canonical input.
///
/// ```
/// use happyhorse_ledger::input_digest;
/// use happyhorse_types::image_to_video::SPEC;
/// use serde_json::json;
///
/// let short = json!({"prompt": "a horse", "image_url": "https://example.com/h.png"});
/// // The same input with the schema's defaults written out, in another key order:
/// let long = json!({"image_url": "https://example.com/h.png", "seed": 0, "prompt": "a horse"});
/// assert_eq!(input_digest(&SPEC, &short), input_digest(&SPEC, &long));
/// assert_ne!(input_digest(&SPEC, &short), input_digest(&SPEC, &json!({"prompt": "a cat"})));
/// ```
pub fn input_digest(spec: &ModelSpec, input: &Value) -> String {
    let mut filled = input.clone();
    if let Value::Object(object) = &mut filled {
        fill_defaults(spec, object);
    }
    let mut canonical = String::with_capacity(256);
    canonical.push_str(spec.id);
    canonical.push('\n');
    write_canonical(&filled, &mut canonical);
    format!("sha256:{}", hex(&Sha256::digest(canonical.as_bytes())))
}

/// Fills in the optional top-level properties the schema gives a default and the input leaves
/// out. (A required property's `default` is only an example: it is never filled in.)
fn fill_defaults(spec: &ModelSpec, input: &mut Map<String, Value>) {
    let Ok(schema) = serde_json::from_str::<Value>(spec.input_schema) else {
        return;
    };
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return;
    };
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|names| names.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    for (name, property) in properties {
        if let Some(default) = property.get("default")
            && !required.contains(&name.as_str())
            && !input.contains_key(name)
        {
            input.insert(name.clone(), default.clone());
        }
    }
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(object) => {
            let mut keys: Vec<&String> = object.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(&object[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        Value::String(text) => match inline_image_digest(text) {
            Some(digest) => out.push_str(&Value::String(digest).to_string()),
            None => out.push_str(&value.to_string()),
        },
        other => out.push_str(&other.to_string()),
    }
}

/// `image-sha256:<hex>` for a `data:…;base64,…` URI whose payload decodes.
fn inline_image_digest(text: &str) -> Option<String> {
    let rest = text.strip_prefix("data:")?;
    let (_, payload) = rest.split_once(";base64,")?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(payload.trim())
        .ok()?;
    Some(format!("image-sha256:{}", hex(&Sha256::digest(&bytes))))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use happyhorse_types::image_to_video::SPEC;
    use serde_json::json;

    #[test]
    fn an_inline_image_counts_by_its_bytes_not_its_spelling() {
        let bytes = base64::engine::general_purpose::STANDARD.encode(b"\x89PNG pixels");
        let png = json!({"prompt": "p", "image_url": format!("data:image/png;base64,{bytes}")});
        // The same bytes labelled another way are the same image.
        let same = json!({"prompt": "p", "image_url": format!("data:image/jpeg;base64,{bytes}")});
        let other = json!({"prompt": "p", "image_url": "data:image/png;base64,AAAA"});
        assert_eq!(input_digest(&SPEC, &png), input_digest(&SPEC, &same));
        assert_ne!(input_digest(&SPEC, &png), input_digest(&SPEC, &other));
    }

    #[test]
    fn every_field_counts_and_defaults_are_the_same_as_absent() {
        let base = json!({"prompt": "p", "image_url": "https://e.com/a.png"});
        let digest = input_digest(&SPEC, &base);
        assert!(
            digest.starts_with("sha256:") && digest.len() == 71,
            "{digest}"
        );
        for (field, value) in [
            ("seed", json!(1)),
            ("duration", json!(8)),
            ("prompt", json!("q")),
            ("watermark", json!(true)),
            ("extra", json!({"b": [1, 2]})),
        ] {
            let mut changed = base.clone();
            changed[field] = value;
            assert_ne!(input_digest(&SPEC, &changed), digest, "{field}");
        }
        let mut defaults = base.clone();
        defaults["seed"] = json!(0);
        defaults["duration"] = json!(5);
        assert_eq!(input_digest(&SPEC, &defaults), digest);
        // A required field's schema default is an example, not a value to fill in.
        assert_ne!(
            input_digest(&SPEC, &json!({"prompt": "p"})),
            input_digest(
                &SPEC,
                &json!({"prompt": "p", "image_url": "https://playgrounds-storage-public.runcomfy.net/tools/7345/media-files/ref-promo.webp"})
            )
        );
        // Nested keys are sorted too.
        assert_eq!(
            input_digest(&SPEC, &json!({"x": {"a": 1, "b": 2}})),
            input_digest(&SPEC, &json!({"x": {"b": 2, "a": 1}}))
        );
    }
}
